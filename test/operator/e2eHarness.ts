// End-to-end harness: a dev cluster (API server, Job controller, kubelet running pods as local
// processes, embedded S3) with our CRD, the chart's ServiceAccount and RBAC, the Udacity sample in
// S3, and the operator as a real child process authenticated as that ServiceAccount. Tests drive it
// with the real kubectl.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Client } from '@aws-sdk/client-s3';
import { renderAdminKubeconfig, startDevCluster, type DevCluster } from '../../devcluster/src/index.js';
import { CRD_FILE } from '../../operator/src/crd/crd.js';
import type { SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { helm, kubectl, type ToolResult } from '../helpers/kube.js';
import { repoRoot, tempDir, udacityLogs, udacitySongs } from '../helpers/paths.js';

export const RUNNER_IMAGE = 'ghcr.io/sparkify/sparkify-lake-job-runner';
export const OPERATOR_NS = 'sparkify-system';
export const RELEASE = 'lake';
export const SA = `${RELEASE}-operator`;

export interface LakeCluster {
  dev: DevCluster;
  dir: string;
  s3Endpoint: string;
  s3: S3Client;
  /** kubectl as admin; returns the result (check .code). */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<ToolResult>;
  /** kubectl that must succeed; returns stdout. */
  k(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** A kubeconfig authenticating as the operator's ServiceAccount (exactly the chart's RBAC). */
  operatorKubeconfig: string;
  getLakeJob(ns: string, name: string): Promise<SparkifyLakeJob | null>;
  startOperator(opts?: { args?: string[]; name?: string }): Promise<OperatorProcess>;
  /** Creates a namespace with the S3 Secret in it. */
  namespace(ns: string, opts?: { secret?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface OperatorProcess {
  child: ChildProcess;
  logFile: string;
  metricsUrl: string;
  logs(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Every file under a local folder, as keys relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)).map((k) => `${e.name}/${k}`) : [e.name]));
}

export async function uploadFolder(s3: S3Client, bucket: string, prefix: string, dir: string): Promise<number> {
  const keys = walk(dir);
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(keys.slice(i, i + 16).map((k) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${k}`, Body: readFileSync(join(dir, k)) }))));
  }
  return keys.length;
}

export async function startLakeCluster(opts: { jobPodBackoffMs?: number } = {}): Promise<LakeCluster> {
  const dir = tempDir('slake-op-e2e-');
  // Runner pods run as uid 65532 (runAsUser): their folders live below this one, which mkdtemp made 0700.
  chmodSync(dir, 0o755);
  const node = process.execPath;
  const dev = await startDevCluster({
    dataDir: join(dir, 'cluster'),
    s3Dir: join(dir, 's3'),
    images: {
      [RUNNER_IMAGE]: { command: [node, join(repoRoot, 'dist', 'job-runner', 'src', 'main.js')], cwd: repoRoot },
      'ghcr.io/sparkify/sparkify-lake-operator': { command: [node, join(repoRoot, 'dist', 'operator', 'src', 'main.js')], cwd: repoRoot },
    },
    jobPodBackoff: { baseMs: opts.jobPodBackoffMs ?? 200, maxMs: 2000 },
  });
  const s3Endpoint = dev.s3!.endpoint;
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const cacheDir = join(dir, 'kubecache');
  const run = (args: string[], o: { input?: string; timeoutMs?: number; kubeconfig?: string } = {}) =>
    kubectl(o.kubeconfig ?? dev.kubeconfigPath, args, { input: o.input, timeoutMs: o.timeoutMs ?? 60_000, env: { KUBECACHEDIR: cacheDir } });
  const k = async (args: string[], o: { input?: string; timeoutMs?: number } = {}) => {
    const r = await run(args, o);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const children = new Set<ChildProcess>();
  try {
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    for (const b of ['raw', 'lake']) await s3.send(new CreateBucketCommand({ Bucket: b }));
    await uploadFolder(s3, 'raw', 'song_data/', udacitySongs);
    await uploadFolder(s3, 'raw', 'log_data/', udacityLogs);

    await k(['apply', '-f', join(repoRoot, 'crds', CRD_FILE)]);
    await k(['wait', '--for=condition=Established', `crd/sparkifylakejobs.lake.sparkify.io`, '--timeout=30s']);
    await k(['create', 'namespace', OPERATOR_NS]);
    // Exactly the chart's ServiceAccount and RBAC, rendered by the real helm.
    const rendered = await helm(dev.kubeconfigPath, ['template', RELEASE, join(repoRoot, 'helm', 'sparkify-lake'), '--namespace', OPERATOR_NS, '--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml']);
    if (rendered.code !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
    await k(['apply', '-f', '-'], { input: rendered.stdout });
    const tr = await dev.client.createSubresource<{ status: { token: string } }>(
      { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
      OPERATOR_NS,
      SA,
      'token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86400 } },
    );
    const operatorKubeconfig = join(dir, 'operator.kubeconfig');
    writeFileSync(operatorKubeconfig, renderAdminKubeconfig({ server: dev.url, token: tr.status.token, caPem: dev.caPem, name: 'operator' }), { mode: 0o600 });

    const lakeCluster: LakeCluster = {
      dev,
      dir,
      s3Endpoint,
      s3,
      kubectl: run,
      k,
      operatorKubeconfig,
      async getLakeJob(ns, name) {
        const r = await run(['get', 'sparkifylakejob', name, '-n', ns, '-o', 'json']);
        return r.code === 0 ? (JSON.parse(r.stdout) as SparkifyLakeJob) : null;
      },
      async namespace(ns, o = {}) {
        await k(['create', 'namespace', ns]);
        if (o.secret !== false) await k(['apply', '-f', '-'], { input: JSON.stringify(s3Secret(ns)) });
      },
      async startOperator(o = {}) {
        const name = o.name ?? `operator-${children.size}`;
        const logFile = join(dir, `${name}.log`);
        const out = createWriteStream(logFile);
        const child = spawn(node, [join(repoRoot, 'dist', 'operator', 'src', 'main.js'), '--kubeconfig', operatorKubeconfig, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--runner-image', `${RUNNER_IMAGE}:test`, '--poll', '0.5', ...(o.args ?? [])], {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? '', HOME: dir, SPARKIFY_LOG_LEVEL: 'debug' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout!.pipe(out);
        child.stderr!.pipe(out);
        children.add(child);
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        exited.then(() => children.delete(child));
        const logs = () => readFileSync(logFile, 'utf8');
        const metricsUrl = await waitFor(async () => {
          if (child.exitCode !== null) throw new Error(`operator exited (${child.exitCode}):\n${logs()}`);
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(logs());
          return m ? m[1]! : undefined;
        }, 30_000, 'operator probe URL');
        return {
          child,
          logFile,
          metricsUrl,
          logs,
          async kill(signal: NodeJS.Signals = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        };
      },
      async stop() {
        for (const c of children) c.kill('SIGKILL');
        s3.destroy();
        await dev.stop();
        // Pod folders, logs and the S3 data: kept only on request, for post-mortems.
        if (!process.env.SLAKE_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
      },
    };
    return lakeCluster;
  } catch (err) {
    for (const c of children) c.kill('SIGKILL');
    s3.destroy();
    await dev.stop();
    throw err;
  }
}

export function s3Secret(ns: string) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lake-s3', namespace: ns }, type: 'Opaque', stringData: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } };
}

export function lakeJobManifest(ns: string, name: string, endpoint: string, o: { output?: string; logs?: string; songs?: string; sharding?: Record<string, unknown>; extra?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'lake.sparkify.io/v1alpha1',
    kind: 'SparkifyLakeJob',
    metadata: { name, namespace: ns },
    spec: {
      source: { songs: o.songs ?? 's3://raw/song_data/', logs: o.logs ?? 's3://raw/log_data/' },
      output: o.output ?? `s3://lake/${ns}-${name}/`,
      storage: { endpoint, region: 'us-east-1', forcePathStyle: true, credentialsSecret: 'lake-s3' },
      sharding: { targetShardBytes: '96Ki', maxShards: 4, parallelism: 2, ...o.sharding },
      ...o.extra,
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
      if ((err as Error).message?.startsWith('operator exited')) throw err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Downloads a lake prefix to a local folder for DuckDB. */
export async function downloadLake(c: LakeCluster, bucket: string, prefix: string): Promise<string> {
  const { downloadPrefix } = await import('../helpers/s3.js');
  const dir = tempDir('slake-op-dl-');
  await downloadPrefix(c.s3, bucket, prefix, dir);
  return dir;
}

/** Size and mtime of every file under a folder (for "nothing was rewritten" checks). */
export function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(walk(dir).map((k) => [relative(dir, join(dir, k)), `${statSync(join(dir, k)).size}@${statSync(join(dir, k)).mtimeMs}`]));
}
