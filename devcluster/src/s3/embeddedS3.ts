// The embedded S3 server of the dev cluster: s3rver in a child process, data in a folder.
// Used by `sparkify-lake devcluster up --s3 DIR`, the demo and the tests. Its only credentials are
// s3rver's fixed S3RVER/S3RVER pair.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface EmbeddedS3 {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  directory: string;
  /** The server's process id (for measuring its CPU time). */
  pid: number;
  /** The environment a standard AWS SDK client needs to reach this server. */
  env: { AWS_ENDPOINT_URL: string; AWS_REGION: string; AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  stop(): Promise<void>;
}

export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3Options {
  directory: string;
  /** 0 (default) picks a free port. */
  port?: number;
  address?: string;
  /** Extra node flags for the server process, e.g. `--cpu-prof` for profiling. */
  execArgv?: string[];
  /** `fast` (default): hot paths served directly; `s3rver`: every request through plain s3rver. */
  variant?: 'fast' | 's3rver';
  /** Server worker processes sharing the port. */
  workers?: number;
}

export async function startEmbeddedS3(opts: EmbeddedS3Options): Promise<EmbeddedS3> {
  mkdirSync(opts.directory, { recursive: true });
  const script = fileURLToPath(new URL('./s3rverProcess.js', import.meta.url));
  const address = opts.address ?? '127.0.0.1';
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', ...(opts.execArgv ?? []), script, opts.directory, String(opts.port ?? 0), address, opts.variant ?? 'fast', String(opts.workers ?? 1)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => reject(new Error(`embedded S3 server exited before it was ready (code ${code})`));
    child.once('exit', onExit);
    child.once('error', reject);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { ready?: boolean; port?: number };
        if (msg.ready && msg.port) {
          child.off('exit', onExit);
          resolve(msg.port);
        }
      } catch {
        // not our protocol line; ignore
      }
    });
  });
  const endpoint = `http://${address}:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    directory: opts.directory,
    pid: child.pid!,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
