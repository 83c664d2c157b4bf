// The embedded S3 server of the dev cluster, in a child process, data in a folder (s3rver 3.7.1's
// layout): our handler for the hot operations in front of s3rver for the rest (s3rverProcess.ts,
// docs/devcluster.md "Embedded S3"). Used by `sparkify-lake devcluster up --s3 DIR`, the demo and the
// tests. Its only credentials are s3rver's fixed S3RVER/S3RVER pair, and it verifies signatures.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeFolders } from '../folders.js';

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
  /**
   * `fast` (default): the embedded server (our handler in front of s3rver, one object store);
   * `s3rver`: plain s3rver 3.7.1, for comparison only (unsorted listings, non-atomic writes).
   * Default: the environment's SLAKE_EMBEDDED_S3_VARIANT, else `fast` (so a benchmark can compare
   * the two without code changes).
   */
  variant?: 'fast' | 's3rver';
}

export async function startEmbeddedS3(opts: EmbeddedS3Options): Promise<EmbeddedS3> {
  makeFolders(opts.directory);
  const script = fileURLToPath(new URL('./s3rverProcess.js', import.meta.url));
  const address = opts.address ?? '127.0.0.1';
  const variant = opts.variant ?? process.env.SLAKE_EMBEDDED_S3_VARIANT ?? 'fast';
  if (variant !== 'fast' && variant !== 's3rver') throw new Error(`embedded S3: unknown variant ${JSON.stringify(variant)} (SLAKE_EMBEDDED_S3_VARIANT: fast or s3rver)`);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', ...(opts.execArgv ?? []), script, opts.directory, String(opts.port ?? 0), address, variant],
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
