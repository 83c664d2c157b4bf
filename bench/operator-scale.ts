// Operator scale benchmark: `node dist/bench/operator-scale.js [--jobs 200] [--objects 1000000] [--list 10000]`
//
//  1. Planning 1,000,000 input objects into 1,000 shards with the engine's planner (time, skew), on a
//     realistic size mix: many small song files, fewer large event logs (a third gzipped).
//  2. Listing time against s3rver (the embedded S3): keys per second through the engine's storage.
//  3. One operator process handling 200 lake jobs at once on the dev cluster's API server: its memory,
//     and the time from a receipt landing in S3 to the lake job's status showing it (goal < 2 s).
//     Jobs are created but not run (no kubelet): the benchmark writes the receipts itself, so what is
//     measured is the operator's own loop — observe, decide, write status — at 200 active runs.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { renderKubeconfig } from '../devcluster/src/api/kubeconfig.js';
import { newToken, startApiServer } from '../devcluster/src/api/server.js';
import { startEmbeddedS3 } from '../devcluster/src/s3/embeddedS3.js';
import { lakeLayout, makeRunSpec, openStorage, planScan, type InputObject, type ScanReceipt } from '../job-runner/src/index.js';
import { lakeJobCrd } from '../operator/src/crd/crd.js';
import type { SparkifyLakeJob } from '../operator/src/crd/types.js';
import { repoRoot, tempDir } from '../test/helpers/paths.js';

const { values: args } = parseArgs({
  options: { workers: { type: 'string', default: '8' }, poll: { type: 'string', default: '1.5' }, jobs: { type: 'string', default: '200' }, objects: { type: 'string', default: '1000000' }, list: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' }, 'heap-dir': { type: 'string' }, 'node-option': { type: 'string', multiple: true }, 'alloc-profile': { type: 'string' }, 'operator-log': { type: 'string' }, skip: { type: 'string', multiple: true } },
});
const skip = new Set(args.skip ?? []);
// Both are triggered by SIGUSR2 in the operator.
if (args['heap-dir'] && args['alloc-profile']) throw new Error('--heap-dir and --alloc-profile cannot be combined');
const results: Record<string, unknown> = {};

/** Deterministic PRNG (mulberry32) and a log-normal draw, so the size mix is the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function logNormal(r: () => number, median: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Math.max(1, Math.round(median * Math.exp(sigma * z)));
}

function planning(): void {
  const n = Number(args.objects);
  const r = rng(42);
  const logs = Math.round(n * 0.03);
  const inputs: InputObject[] = [];
  for (let i = 0; i < n - logs; i++) inputs.push({ kind: 'song', key: `song_data/${i % 26}/${i % 677}/TR${String(i).padStart(12, '0')}.json`, size: logNormal(r, 300, 0.5), ordinal: 0, compressed: false });
  for (let i = 0; i < logs; i++) {
    const compressed = r() < 0.33;
    // Daily event files: tens of MB as JSON lines, a third shipped gzipped (about 6x smaller).
    inputs.push({ kind: 'log', key: `log_data/${2000 + (i % 20)}/${String(i).padStart(8, '0')}-events.json${compressed ? '.gz' : ''}`, size: logNormal(r, compressed ? 5_000_000 : 30_000_000, 0.6), ordinal: 0, compressed });
  }
  inputs.forEach((o, i) => (o.ordinal = i));
  const spec = makeRunSpec({ runId: 'bench-plan', songs: 's3://raw/song_data/', logs: 's3://raw/log_data/', output: 's3://lake/bench/', origin: 'bench', sharding: { maxShards: 1000, targetShardBytes: 256 * 2 ** 20 } });
  const times: number[] = [];
  let plan;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    plan = planScan(spec, inputs);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const bytes = inputs.reduce((s, o) => s + o.size, 0);
  // No plan can beat its largest unsplittable piece: a gzip file (parsed at ~6x its size) is one split.
  const mean = plan!.tasks.reduce((s, t) => s + t.cost, 0) / plan!.shards;
  const biggestGz = Math.max(...inputs.filter((o) => o.compressed).map((o) => o.size * 6 + spec.sharding.perObjectCost));
  results.planning = { objects: n, inputGB: +(bytes / 1e9).toFixed(1), shards: plan!.shards, skew: +plan!.skew.toFixed(4), skewFloor: +Math.max(1, biggestGz / mean).toFixed(4), medianMs: Math.round(times[1]!), runsMs: times.map(Math.round) };
  console.log('planning', results.planning);
}

async function listing(s3Endpoint: string, client: S3Client): Promise<void> {
  const n = Number(args.list);
  await client.send(new CreateBucketCommand({ Bucket: 'listing' }));
  const t0 = performance.now();
  for (let i = 0; i < n; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, n - i) }, (_, j) => client.send(new PutObjectCommand({ Bucket: 'listing', Key: `log_data/${String(i + j).padStart(8, '0')}.json`, Body: '{}\n' }))));
  }
  const putMs = performance.now() - t0;
  const storage = openStorage('s3://listing/', { endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const t1 = performance.now();
  let count = 0;
  for await (const _ of storage.list('log_data/')) count++;
  const listMs = performance.now() - t1;
  results.listing = { objects: count, listMs: Math.round(listMs), keysPerSecond: Math.round(count / (listMs / 1000)), extrapolated1MSeconds: +((1e6 / count) * (listMs / 1000)).toFixed(1), putMs: Math.round(putMs) };
  console.log('listing', results.listing);
}

async function manyLakeJobs(s3Endpoint: string, client: S3Client, jobEvents: boolean): Promise<void> {
  const jobs = Number(args.jobs);
  const rounds = Number(args.rounds);
  const dir = tempDir('slake-bench-op-');
  const adminToken = newToken();
  const api = await startApiServer({ users: [{ token: adminToken, user: { username: 'bench', groups: ['system:masters'] } }], watchHistory: 100_000 });
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, renderKubeconfig({ server: api.url, caPem: api.caPem, token: adminToken }));
  const req = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetchJson(api.httpUrl + path, method, adminToken, body);
    return res as T;
  };
  let operator: ReturnType<typeof spawn> | undefined;
  const chunks: Buffer[] = [];
  try {
    // Ten small log files and one song: every lake job plans ten scan shards.
    for (const Bucket of ['raw', 'lake']) await client.send(new CreateBucketCommand({ Bucket })).catch(() => undefined);
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'song_data/A/TRA.json', Body: '{"song_id":"S1","title":"t","artist_id":"A1","artist_name":"a","duration":1,"year":0}' }));
    for (let i = 0; i < 10; i++) await client.send(new PutObjectCommand({ Bucket: 'raw', Key: `log_data/2018/11/2018-11-${String(i + 1).padStart(2, '0')}-events.json`, Body: '{"ts":1541990258796,"userId":"7","page":"Home"}\n'.repeat(20) }));
    await req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', lakeJobCrd());
    await waitUntil(async () => (await req<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sparkifylakejobs.lake.sparkify.io')).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false, 30_000);
    await req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await req('POST', '/api/v1/namespaces/bench/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lake-s3' }, stringData: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } });

    // --heap-dir: the operator writes a heap snapshot there on SIGUSR2 (taken after the last round).
    // --node-option: more flags for the operator's node (e.g. --heap-prof, --max-semi-space-size=…).
    // --alloc-profile FILE: V8's sampling heap profiler, garbage included (bench/allocationProfile.ts).
    const heapFlags = [
      ...(args['heap-dir'] ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${args['heap-dir']}`] : []),
      ...(args['alloc-profile'] ? [`--import=${join(repoRoot, 'dist', 'bench', 'allocationProfile.js')}`] : []),
      ...(args['node-option'] ?? []),
    ];
    operator = spawn(process.execPath, [...heapFlags, join(repoRoot, 'dist', 'operator', 'src', 'main.js'), '--kubeconfig', kubeconfig, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--workers', args.workers!, '--poll', args.poll!], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: dir, SPARKIFY_LOG_LEVEL: 'info', ...(args['alloc-profile'] ? { SPARKIFY_ALLOC_PROFILE: args['alloc-profile'] } : {}) } });
    operator.stdout!.on('data', (c: Buffer) => chunks.push(c));
    operator.stderr!.on('data', (c: Buffer) => chunks.push(c));
    let peakRss = 0;
    const rssTimer = setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${operator!.pid}/status`, 'utf8'));
        if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
      } catch {
        // not started yet, or gone
      }
    }, 250);

    const t0 = performance.now();
    for (let i = 0; i < jobs; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, jobs - i) }, (_, j) =>
          req('POST', '/apis/lake.sparkify.io/v1alpha1/namespaces/bench/sparkifylakejobs', {
            apiVersion: 'lake.sparkify.io/v1alpha1',
            kind: 'SparkifyLakeJob',
            metadata: { name: `lj-${i + j}` },
            spec: { source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' }, output: `s3://lake/lj-${i + j}/`, storage: { endpoint: s3Endpoint, forcePathStyle: true, credentialsSecret: 'lake-s3' }, sharding: { targetShardBytes: '1Ki', maxShards: 10, parallelism: 2 } },
          }),
        ),
      );
    }
    const list = async () => (await req<{ items: SparkifyLakeJob[] }>('GET', '/apis/lake.sparkify.io/v1alpha1/namespaces/bench/sparkifylakejobs')).items;
    await waitUntil(async () => (await list()).filter((lj) => lj.status?.phase === 'Scanning' && lj.status.progress === '0/10').length === jobs, 600_000);
    const startupSeconds = (performance.now() - t0) / 1000;
    console.log(`${jobs} lake jobs planned and scanning after ${startupSeconds.toFixed(1)} s`);
    const all = await list();
    const runOf = new Map(all.map((lj) => [lj.metadata.name, lj.status!.runId!]));

    const latencies: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const written = new Map<string, number>();
      const seen = new Map<string, number>();
      // One watch stream sees every status change as it is written (polling a list of 200 objects
      // would load the API server, which runs in this process, and skew what is measured).
      const rv = (await req<{ metadata: { resourceVersion: string } }>('GET', '/apis/lake.sparkify.io/v1alpha1/namespaces/bench/sparkifylakejobs?limit=1')).metadata.resourceVersion;
      const watch = watchLakeJobs(api.httpUrl, adminToken, rv, (lj) => {
        if (!seen.has(lj.metadata.name) && lj.status?.progress === `${round}/10`) seen.set(lj.metadata.name, performance.now());
      });
      // A receipt lands for every lake job at (nearly) the same moment: the worst case for the loop.
      await Promise.all(
        all.map(async (lj) => {
          const runId = runOf.get(lj.metadata.name)!;
          const receipt: ScanReceipt = { runId, stage: 'scan', index: round - 1, splits: 1, records: { read: 20, accepted: 20, rejected: 0, rejectedByReason: {} }, drift: { unknownFields: {}, coercions: {} }, staged: [], songPartitions: [], rejects: null, seconds: 0.1 };
          await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `${lj.metadata.name}/${lakeLayout.receipt(runId, 'scan', round - 1)}`, Body: JSON.stringify(receipt) }));
          written.set(lj.metadata.name, performance.now());
          if (jobEvents) {
            // What the Job controller does right after the pod that wrote the receipt exits.
            const job = `${lj.metadata.name}-${runId}-scan`;
            await fetchJson(`${api.httpUrl}/apis/batch/v1/namespaces/bench/jobs/${job}/status`, 'PATCH', adminToken, { status: { succeeded: round, completedIndexes: round === 1 ? '0' : `0-${round - 1}` } }, 'application/merge-patch+json');
          }
        }),
      );
      await waitUntil(async () => seen.size === jobs, 120_000, 50);
      watch.abort();
      for (const [name, t] of seen) latencies.push(Math.max(0, t - written.get(name)!) / 1000);
      console.log(`round ${round}: all ${jobs} statuses updated`);
    }
    clearInterval(rssTimer);
    latencies.sort((a, b) => a - b);
    const q = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
    const metricsUrl = `${/"url":"(http:[^"]+)"/.exec(Buffer.concat(chunks).toString())?.[1] ?? 'http://127.0.0.1:1'}/metrics`;
    const metrics = await (await fetch(metricsUrl).catch(() => null))?.text();
    const gauge = (text: string | undefined, name: string) => +(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text ?? '')?.[1] ?? NaN) / 2 ** 20).toFixed(1);
    let heapSnapshot: string | undefined;
    let afterGc: string | undefined;
    if (args['heap-dir']) {
      heapSnapshot = await takeHeapSnapshot(operator, args['heap-dir'], `operator-${jobs}${jobEvents ? '-events' : ''}.heapsnapshot`);
      // Writing a snapshot collects garbage first: the heap now is what is live.
      afterGc = await (await fetch(metricsUrl).catch(() => null))?.text();
    }
    if (args['alloc-profile']) {
      const file = args['alloc-profile'];
      writeFileSync(file, '');
      operator.kill('SIGUSR2');
      await waitUntil(async () => statSync(file).size > 0, 60_000, 200);
    }
    results[jobEvents ? 'lakeJobsWithJobEvents' : 'lakeJobsPollOnly'] = {
      jobs,
      workers: Number(args.workers),
      pollSeconds: Number(args.poll),
      startupSeconds: +startupSeconds.toFixed(1),
      receiptToStatusSeconds: { p50: q(0.5), p95: q(0.95), max: q(1), samples: latencies.length },
      operatorPeakRssMiB: +(peakRss / 2 ** 20).toFixed(0),
      operatorEndMiB: { rss: gauge(metrics, 'process_resident_memory_bytes'), heapUsed: gauge(metrics, 'nodejs_heap_size_used_bytes'), heapTotal: gauge(metrics, 'nodejs_heap_size_total_bytes'), external: gauge(metrics, 'nodejs_external_memory_bytes') },
      ...(afterGc ? { operatorLiveHeapMiB: gauge(afterGc, 'nodejs_heap_size_used_bytes'), heapSnapshot } : {}),
      reconciles: Number(/sparkify_lake_reconciles_total\{result="ok"\} (\d+)/.exec(metrics ?? '')?.[1] ?? NaN),
      meanReconcileMs: +((1000 * Number(/sparkify_lake_reconcile_duration_seconds_sum (\S+)/.exec(metrics ?? '')?.[1] ?? NaN)) / Number(/sparkify_lake_reconcile_duration_seconds_count (\S+)/.exec(metrics ?? '')?.[1] ?? NaN)).toFixed(1),
      operatorCpuSeconds: +(cpuSeconds(operator.pid!) ?? NaN).toFixed(1),
    };
    console.log('lake jobs', jobEvents ? 'with Job status events' : 'poll only', results[jobEvents ? 'lakeJobsWithJobEvents' : 'lakeJobsPollOnly']);
  } finally {
    if (args['operator-log']) writeFileSync(args['operator-log'], Buffer.concat(chunks));
    // Wait for a clean exit (it writes --heap-prof profiles then), and never leave it behind.
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())]);
      if (operator.exitCode === null && operator.signalCode === null) operator.kill('SIGKILL');
    }
    await api.stop();
  }
}

/** Signals the operator to write a heap snapshot into `dir` and waits until the file is complete. */
async function takeHeapSnapshot(operator: ReturnType<typeof spawn>, dir: string, name: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  operator.kill('SIGUSR2');
  let file: string | undefined;
  let lastSize = -1;
  await waitUntil(
    async () => {
      file ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
      if (!file) return false;
      // Node writes the snapshot synchronously: the size stops changing when it is done.
      const size = statSync(join(dir, file)).size;
      const done = size > 0 && size === lastSize;
      lastSize = size;
      return done;
    },
    120_000,
    1000,
  );
  renameSync(join(dir, file!), join(dir, name));
  return join(dir, name);
}

/** Streams watch events of the bench namespace's lake jobs to `onObject` until aborted. */
function watchLakeJobs(base: string, token: string, resourceVersion: string, onObject: (lj: SparkifyLakeJob) => void): AbortController {
  const ac = new AbortController();
  void (async () => {
    const res = await fetch(`${base}/apis/lake.sparkify.io/v1alpha1/namespaces/bench/sparkifylakejobs?watch=true&resourceVersion=${resourceVersion}`, { headers: { Authorization: `Bearer ${token}` }, signal: ac.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) onObject((JSON.parse(line) as { object: SparkifyLakeJob }).object);
      }
    }
  })().catch(() => undefined);
  return ac;
}

/** user+system CPU of a process so far (from /proc), in seconds. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

async function fetchJson(url: string, method: string, token: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  const res = await fetch(url, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType, Accept: 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

if (!skip.has('planning')) planning();
if (!skip.has('listing') || !skip.has('jobs') || !skip.has('job-events')) {
  const s3 = await startEmbeddedS3({ directory: tempDir('slake-bench-op-s3-') });
  const client = new S3Client({ maxAttempts: 8, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    if (!skip.has('listing')) await listing(s3.endpoint, client);
    if (!skip.has('jobs')) await manyLakeJobs(s3.endpoint, client, false);
    if (!skip.has('job-events')) await manyLakeJobs(s3.endpoint, client, true);
  } finally {
    client.destroy();
    await s3.stop();
  }
}
console.log(JSON.stringify(results));
