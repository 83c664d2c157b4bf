// `sparkify-lake demo` (what `npm start` runs): the product end to end, as a user meets it, on the
// dev cluster with its embedded S3:
//
//   dev cluster + S3 ──▶ sample data ──▶ helm install (CRD, RBAC, operator ×2) ──▶ kubectl apply
//        ──▶ live progress of the SparkifyLakeJob ──▶ summary, DuckDB query, kubectl hints
//        ──▶ stays up until Ctrl-C on a terminal; exits 0 when stdin is not a TTY or CI is set
//
// Every step is a real client of the real thing: helm and kubectl binaries, the chart in helm/, the
// manifest in examples/, the operator and job-runner as pods (local processes). Ctrl-C at any point
// stops the running kubectl/helm, every pod and the S3 server before the process exits.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startDevCluster, type DevCluster } from '../../../devcluster/src/index.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../../devcluster/src/s3/embeddedS3.js';
import { generate, type GenerateOptions } from '../../../generator/src/index.js';
import { openStorage, readLakeStatus, type StorageOptions } from '../../../job-runner/src/index.js';
import { makeFolders } from '../../../job-runner/src/storage/folders.js';
import type { SparkifyLakeJob } from '../../../operator/src/crd/types.js';
import { inspectText } from '../commands/inspect.js';
import { devclusterImages } from '../devclusterImages.js';
import { DemoError, ensureKubeTools, kubeTools } from './kubeTools.js';
import { prepareLakeJob } from './lakeJobFile.js';
import { copyCommittedLake, runDuckDbQuery, topSongsQuery } from './lakeCopy.js';
import { LiveLine, progressLine, progressOf, type LineSink } from './progress.js';
import { demoSummary } from './summary.js';

export const DEMO_RELEASE = 'lake';
export const DEMO_NAMESPACE = 'sparkify-system';
/** s3rver's usual port; examples/lakejob.yaml names it. */
export const DEMO_S3_PORT = 4568;
/** A sample that shows every table and runs as several pods, yet keeps the demo under a minute. */
export const DEMO_SAMPLE: GenerateOptions = { songs: 150, events: 20_000, days: 31, seed: 1 };

const LAKE_JOBS = { group: 'lake.sparkify.io', version: 'v1alpha1', plural: 'sparkifylakejobs', kind: 'SparkifyLakeJob', namespaced: true };
/** What the demo owns inside its folder (it never deletes anything else there). */
const OWNED = ['cluster', 's3', 'lake', 'state', 'kubeconfig'];

export interface DemoOptions {
  packageRoot: string;
  dir: string;
  s3Port: number;
  /** Keep the cluster running after the summary until a signal. */
  stay: boolean;
  timeoutMs: number;
  out: LineSink;
  signal: AbortSignal;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function runDemo(o: DemoOptions): Promise<number> {
  const t0 = Date.now();
  const say = (line: string) => o.out.write(`${line}\n`);
  const step = async <T>(what: string, act: () => Promise<T>, done?: (v: T) => string): Promise<T> => {
    const t = Date.now();
    say(`… ${what}`);
    const v = await act();
    say(`✓ ${done ? done(v) : what} (${seconds(Date.now() - t)})`);
    return v;
  };
  const abortable = () => {
    if (o.signal.aborted) throw new DemoError('interrupted');
  };
  const chart = join(o.packageRoot, 'helm', 'sparkify-lake');
  const lakeJobPath = join(o.packageRoot, 'examples', 'lakejob.yaml');
  for (const p of [chart, lakeJobPath]) if (!existsSync(p)) throw new DemoError(`${p} is missing: the demo runs from a checkout of the repository`);

  say('Sparkify Lake demo: the operator and the engine on a local Kubernetes whose pods are local processes.');
  const binDir = await ensureKubeTools(o.packageRoot);
  if (o.s3Port !== 0) await assertPortFree(o.s3Port);
  for (const name of OWNED) rmSync(join(o.dir, name), { recursive: true, force: true });
  makeFolders(join(o.dir, 'state')); // not mkdirSync({ recursive }): it spins forever under /proc

  let s3: EmbeddedS3 | undefined;
  let cluster: DevCluster | undefined;
  let s3Client: S3Client | undefined;
  try {
    ({ s3, cluster } = await step(
      'starting the dev cluster and its embedded S3',
      async () => {
        const s3 = await startEmbeddedS3({ directory: join(o.dir, 's3'), port: o.s3Port });
        const cluster = await startDevCluster({ images: devclusterImages(o.packageRoot), dataDir: join(o.dir, 'cluster'), kubeconfigPath: join(o.dir, 'kubeconfig') });
        return { s3, cluster };
      },
      (v) => `dev cluster at ${v.cluster.url}, S3 at ${v.s3.endpoint}`,
    ));
    abortable();
    const tools = kubeTools(binDir, cluster.kubeconfigPath, join(o.dir, 'state'), o.signal);
    const s3Options: StorageOptions = {
      endpoint: s3.endpoint,
      region: s3.env.AWS_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY },
    };
    s3Client = new S3Client({ endpoint: s3.endpoint, region: s3Options.region, forcePathStyle: true, credentials: s3Options.credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

    const lakeJob = prepareLakeJob(readFileSync(lakeJobPath, 'utf8'), s3.endpoint, relative(process.cwd(), lakeJobPath) || lakeJobPath);
    const buckets = [...new Set(['raw', bucketOf(lakeJob.output)])];
    await step(
      `generating a sample (${DEMO_SAMPLE.songs} songs, ${DEMO_SAMPLE.events!.toLocaleString('en-US')} events) into s3://raw/`,
      async () => {
        for (const b of buckets) await s3Client!.send(new CreateBucketCommand({ Bucket: b }));
        return generate(openStorage('s3://raw/', s3Options), DEMO_SAMPLE);
      },
      (g) => `sample data in s3://raw/: ${g.songs.files} song files, ${g.logs.events.toLocaleString('en-US')} events in ${g.logs.files} log files (${(g.logs.bytes / 1e6).toFixed(1)} MB)`,
    );
    abortable();

    const devValues = join(chart, 'ci', 'devcluster-values.yaml');
    await step(
      `helm install ${DEMO_RELEASE} ${relative(o.packageRoot, chart)} -n ${DEMO_NAMESPACE} --create-namespace --wait`,
      () => tools.run('helm', ['install', DEMO_RELEASE, chart, '--namespace', DEMO_NAMESPACE, '--create-namespace', '-f', devValues, '--wait', '--timeout', '120s'], { timeoutMs: 150_000 }),
      () => `helm installed the CRD, the operator's RBAC and its Deployment (2 replicas, leader election) in ${DEMO_NAMESPACE}`,
    );
    abortable();

    const rel = relative(o.packageRoot, lakeJobPath);
    await step(
      `kubectl apply -f ${rel}`,
      () => (lakeJob.text === readFileSync(lakeJobPath, 'utf8') ? tools.run('kubectl', ['apply', '-f', lakeJobPath]) : tools.run('kubectl', ['apply', '-f', '-'], { input: lakeJob.text })),
      (stdout) =>
        `${stdout.trim().split('\n').join(', ')}${lakeJob.rewroteEndpoint ? ` (spec.storage.endpoint ${lakeJob.rewroteEndpoint} → ${s3!.endpoint}: the demo's S3 listens there)` : ''}`,
    );

    const tRun = Date.now();
    const final = await followLakeJob(cluster, lakeJob.namespace ?? 'default', lakeJob.name, o, tRun);
    const phase = final.status?.phase;
    if (phase !== 'Succeeded') {
      const failed = final.status?.conditions?.find((c) => (c.type === 'Failed' || c.type === 'Invalid') && c.status === 'True');
      throw new DemoError(`lake job ${lakeJob.name} ended ${phase}: ${failed ? `${failed.reason}: ${failed.message}` : JSON.stringify(final.status)}`);
    }
    say(`✓ lake job ${lakeJob.name} Succeeded: run ${final.status!.runId} committed to ${lakeJob.output} (${seconds(Date.now() - tRun)})`);

    const out = openStorage(lakeJob.output, s3Options);
    const status = await readLakeStatus(out);
    if (!status) throw new DemoError(`the lake job reports Succeeded but ${lakeJob.output} has no _lake/current.json`);
    const lakeDir = join(o.dir, 'lake');
    const files = await copyCommittedLake(out, status.manifest, lakeDir);
    const query = topSongsQuery(lakeDir);
    const result = await runDuckDbQuery(query).catch((e: Error) => `(DuckDB could not run it here: ${e.message})`);
    say('');
    say(
      demoSummary({
        inspect: inspectText(status),
        output: lakeJob.output,
        lakeDir,
        files,
        query,
        ...(result ? { result } : {}),
        kubeconfig: cluster.kubeconfigPath,
        binDir,
        lakeJob,
        // The chart names the Lease like the Deployment (--lease-name=<release>-operator).
        operator: { namespace: DEMO_NAMESPACE, deployment: `${DEMO_RELEASE}-operator`, release: DEMO_RELEASE, lease: `${DEMO_RELEASE}-operator` },
        s3: { endpoint: s3.endpoint, accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY },
        stays: o.stay,
      }),
    );
    say('');
    say(`Demo done in ${seconds(Date.now() - t0)}.`);
    if (o.stay) {
      await new Promise<void>((resolve) => (o.signal.aborted ? resolve() : o.signal.addEventListener('abort', () => resolve(), { once: true })));
    } else {
      say('Standard input is not a terminal (or CI is set): stopping the cluster.');
    }
    return 0;
  } finally {
    s3Client?.destroy();
    if (cluster || s3) say(o.signal.aborted ? '\nstopping: every pod, the dev cluster and S3 …' : 'stopping the dev cluster and S3 …');
    await cluster?.stop();
    await s3?.stop();
    if (cluster || s3) say('stopped: no pod, API server or S3 process is left.');
  }
}

/** Polls the lake job and draws its progress until it succeeds, fails, is Invalid, or time runs out. */
async function followLakeJob(cluster: DevCluster, namespace: string, name: string, o: DemoOptions, t0: number): Promise<SparkifyLakeJob> {
  const live = new LiveLine(o.out);
  const deadline = t0 + o.timeoutMs;
  try {
    for (;;) {
      if (o.signal.aborted) throw new DemoError('interrupted');
      const lj = (await cluster.client.tryGet(LAKE_JOBS, namespace, name)) as SparkifyLakeJob | undefined;
      const st = lj?.status;
      const line = progressLine(progressOf(st));
      live.update(`  [${String(Math.round((Date.now() - t0) / 1000)).padStart(3)} s] ${line}`, line);
      const current = st && lj && st.observedGeneration === lj.metadata.generation;
      if (current && (st.phase === 'Succeeded' || st.phase === 'Failed')) return lj;
      if (current && st.conditions?.some((c) => c.type === 'Invalid' && c.status === 'True')) return lj;
      if (Date.now() > deadline) throw new DemoError(`lake job ${name} did not finish within ${seconds(o.timeoutMs)}; last status: ${JSON.stringify(st ?? null)}`);
      await sleep(300, o.signal);
    }
  } finally {
    live.end();
  }
}

function bucketOf(uri: string): string {
  const m = /^s3:\/\/([^/]+)/.exec(uri);
  if (!m) throw new DemoError(`expected an s3:// output in the lake job, got ${uri}`);
  return m[1]!;
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', () =>
      reject(new DemoError(`port ${port} on 127.0.0.1 is in use (is another demo running?). Stop it, or let the demo pick a free port: \`npm start -- --s3-port 0\` (or \`npx sparkify-lake demo --s3-port 0\`); it then points the lake job at that port`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}
