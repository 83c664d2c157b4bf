// Scale sanity of the dev cluster (issue 3): N custom resources whose status is written R times a
// second (an operator reporting progress), watched by W clients, plus Indexed Jobs running real pod
// processes. Reports the measured process's CPU and memory (scaleServer.ts, a child process read
// through /proc) and the watch latency: the time from a status write being sent to its MODIFIED event
// reaching a watcher (`status.sentAt` is the writer's clock; watchers run in a worker thread so the
// writer's own work does not delay them).
//
//   node dist/test/devcluster/scale/scale.js --mode cluster   # API server + controllers + kubelet, 2 Jobs × 50 pods
//   node dist/test/devcluster/scale/scale.js --mode api       # the API server alone, custom resources only
//
// Options: --resources 200 --rate 1 --watchers 3 --seconds 30 --jobs 2 --completions 50 --parallelism 25 --pod-image node|sleep
// Not part of `npm test` (it loads both cores for half a minute); results go to docs/devcluster.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { repoRoot } from '../../helpers/paths.js';

interface Endpoint {
  url: string;
  token: string;
  caPem: string;
}

const NS = 'scale';
const GAUGES = `/apis/scale.test/v1/namespaces/${NS}/gauges`;

const gaugeCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gauges.scale.test' },
  spec: {
    group: 'scale.test',
    scope: 'Namespaced',
    names: { kind: 'Gauge', plural: 'gauges', singular: 'gauge' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [{ name: 'Seq', type: 'integer', jsonPath: '.status.seq' }],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { shards: { type: 'integer' } } },
              status: {
                type: 'object',
                properties: {
                  seq: { type: 'integer' },
                  sentAt: { type: 'integer' },
                  phase: { type: 'string' },
                  conditions: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              },
            },
          },
        },
      },
    ],
  },
};

function request(ep: Endpoint, agent: https.Agent, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${ep.url}${path}`,
      {
        method,
        agent,
        ca: ep.caPem,
        headers: { Authorization: `Bearer ${ep.token}`, Accept: 'application/json', ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function must(p: Promise<{ code: number; text: string }>, ok: number[], what: string): Promise<string> {
  const r = await p;
  if (!ok.includes(r.code)) throw new Error(`${what}: HTTP ${r.code}: ${r.text.slice(0, 300)}`);
  return r.text;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU seconds (user + system) and resident memory of one process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMiB: rssKb / 1024 };
}

/** The main thread's time on a CPU and waiting runnable for one (ns), from /proc/<pid>/task/<pid>/schedstat. */
function mainThreadSched(pid: number): { runNs: number; waitNs: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { runNs: run!, waitNs: wait! };
}

function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

// ---- watcher thread: W watch streams, latency of every MODIFIED event ----

interface WatcherReport {
  latencies: number[];
  perWatcher: number[];
  perSecond: { second: number; max: number; count: number }[];
}

async function runWatchers(ep: Endpoint, watchers: number, rv: string, startedAt: number): Promise<void> {
  const latencies: number[] = [];
  const perWatcher = new Array<number>(watchers).fill(0);
  const buckets = new Map<number, { max: number; count: number }>();
  const reqs: ReturnType<typeof https.request>[] = [];
  for (let w = 0; w < watchers; w++) {
    const req = https.request(`${ep.url}${GAUGES}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`, { ca: ep.caPem, headers: { Authorization: `Bearer ${ep.token}` } }, (res) => {
      let buf = '';
      res.on('data', (d: Buffer) => {
        const now = Date.now();
        buf += d.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const ev = JSON.parse(line) as { type: string; object: { status?: { sentAt?: number } } };
          const sentAt = ev.object.status?.sentAt;
          if (ev.type !== 'MODIFIED' || sentAt === undefined) continue;
          const ms = now - sentAt;
          latencies.push(ms);
          perWatcher[w]!++;
          const second = Math.floor((sentAt - startedAt) / 1000);
          const b = buckets.get(second) ?? { max: 0, count: 0 };
          b.max = Math.max(b.max, ms);
          b.count++;
          buckets.set(second, b);
        }
      });
    });
    req.on('error', () => undefined);
    req.end();
    reqs.push(req);
  }
  parentPort!.postMessage({ type: 'ready' });
  parentPort!.once('message', () => {
    for (const r of reqs) r.destroy();
    const perSecond = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([second, b]) => ({ second, ...b }));
    parentPort!.postMessage({ type: 'report', report: { latencies, perWatcher, perSecond } satisfies WatcherReport });
  });
}

// ---- main thread: start the server, create the load, measure ----

async function startServer(mode: string): Promise<{ child: ChildProcess; ep: Endpoint }> {
  // SCALE_NODE_OPTIONS: flags for the measured process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const flags = (process.env.SCALE_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const argv = [process.execPath, ...flags, join(repoRoot, 'dist/test/devcluster/scale/scaleServer.js'), mode];
  // SCALE_NICE=-10 (root): the measured process is not preempted by the rest of a shared machine, which
  // shows its own cost; pods inherit the priority. `nice` execs node, so the pid stays the server's.
  const nice = process.env.SCALE_NICE;
  const child = nice ? spawn('nice', ['-n', nice, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const ep = await new Promise<Endpoint>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Endpoint);
    });
    child.once('exit', (code) => reject(new Error(`scaleServer exited with ${code}`)));
  });
  return { child, ep };
}

/** `node` pods cost what the product's pods cost to start (≈ 50 ms of CPU each); `sleep` pods cost nothing, isolating the dev cluster's own work. */
function indexedJob(name: string, completions: number, parallelism: number, image: string): Record<string, unknown> {
  const container = image === 'sleep' ? { name: 'main', image: 'sleep', args: ['1'] } : { name: 'main', image: 'node', command: ['node', '-e', 'setTimeout(()=>{},1000)'] };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      completionMode: 'Indexed',
      completions,
      parallelism,
      template: { spec: { restartPolicy: 'Never', containers: [container] } },
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'cluster' },
      resources: { type: 'string', default: '200' },
      rate: { type: 'string', default: '1' },
      watchers: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '30' },
      jobs: { type: 'string', default: '2' },
      completions: { type: 'string', default: '50' },
      parallelism: { type: 'string', default: '25' },
      'pod-image': { type: 'string', default: 'node' },
    },
  });
  const mode = values.mode!;
  const resources = Number(values.resources);
  const rate = Number(values.rate);
  const watchers = Number(values.watchers);
  const seconds = Number(values.seconds);
  const jobs = mode === 'cluster' ? Number(values.jobs) : 0;
  const completions = Number(values.completions);
  const parallelism = Number(values.parallelism);
  const podImage = values['pod-image']!;

  const { child, ep } = await startServer(mode);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: ep.caPem });
  try {
    await must(request(ep, agent, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', gaugeCrd), [201], 'create CRD');
    for (let i = 0; (await request(ep, agent, 'GET', GAUGES)).code !== 200; i++) {
      if (i > 100) throw new Error('gauges never served');
      await new Promise((r) => setTimeout(r, 50));
    }
    await must(request(ep, agent, 'POST', '/api/v1/namespaces', { metadata: { name: NS } }), [201], 'create namespace');
    for (let i = 0; i < resources; i++) {
      await must(request(ep, agent, 'POST', GAUGES, { apiVersion: 'scale.test/v1', kind: 'Gauge', metadata: { name: `g-${i}` }, spec: { shards: i } }), [201], `create g-${i}`);
    }
    const rv = (JSON.parse(await must(request(ep, agent, 'GET', GAUGES), [200], 'list')) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

    const startedAt = Date.now() + 500;
    const worker = new Worker(new URL(import.meta.url), { workerData: { ep, watchers, rv, startedAt } });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));

    const before = processUsage(child.pid!);
    const load0 = loadAverage();
    let peakRss = before.rssMiB;
    // Per second: the server's main thread on a CPU, and waiting for one (the machine is shared).
    const sched0 = mainThreadSched(child.pid!);
    let lastSched = sched0;
    const seconds_: { run: number; wait: number }[] = [];
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, processUsage(child.pid!).rssMiB);
      const now = mainThreadSched(child.pid!);
      seconds_.push({ run: (now.runNs - lastSched.runNs) / 1e9, wait: (now.waitNs - lastSched.waitNs) / 1e9 });
      lastSched = now;
    }, 1000);

    // Writers: R status writes per resource per second, spread evenly, at most 64 in flight.
    const interval = 1000 / (resources * rate);
    const writeMs: number[] = [];
    let sent = 0;
    let ok = 0;
    let failed = 0;
    let skipped = 0;
    let inFlight = 0;
    let seq = 0;
    let stopWriting = false;
    const writing = (async () => {
      while (Date.now() < startedAt) await new Promise((r) => setTimeout(r, 5));
      for (let k = 0; !stopWriting; k++) {
        const due = startedAt + k * interval;
        const wait = due - Date.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        if (inFlight >= 64) {
          skipped++;
          continue;
        }
        const name = `g-${k % resources}`;
        const t0 = Date.now();
        inFlight++;
        sent++;
        void request(ep, agent, 'PATCH', `${GAUGES}/${name}/status`, { status: { seq: ++seq, sentAt: t0, phase: 'Running' } }, 'application/merge-patch+json')
          .then((r) => {
            if (r.code === 200) ok++;
            else failed++;
            writeMs.push(Date.now() - t0);
          })
          .catch(() => failed++)
          .finally(() => inFlight--);
      }
    })();

    // Jobs: created 3 s into the load, followed until complete.
    const jobTimes: { name: string; seconds: number }[] = [];
    const jobsDone = (async () => {
      if (jobs === 0) return;
      await new Promise((r) => setTimeout(r, startedAt + 3000 - Date.now()));
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: jobs }, async (_, j) => {
          const name = `load-${j}`;
          await must(request(ep, agent, 'POST', `/apis/batch/v1/namespaces/${NS}/jobs`, indexedJob(name, completions, parallelism, podImage)), [201], `create job ${name}`);
          for (;;) {
            await new Promise((r) => setTimeout(r, 250));
            const job = JSON.parse(await must(request(ep, agent, 'GET', `/apis/batch/v1/namespaces/${NS}/jobs/${name}`), [200], 'get job')) as { status?: { conditions?: { type: string; status: string }[]; succeeded?: number } };
            const conds = job.status?.conditions ?? [];
            if (conds.some((c) => c.type === 'Failed' && c.status === 'True')) throw new Error(`job ${name} failed`);
            if (conds.some((c) => c.type === 'Complete' && c.status === 'True')) break;
          }
          jobTimes.push({ name, seconds: (Date.now() - t0) / 1000 });
        }),
      );
    })();

    await Promise.all([new Promise((r) => setTimeout(r, startedAt + seconds * 1000 - Date.now())), jobsDone]);
    const wall = (Date.now() - startedAt) / 1000;
    const after = processUsage(child.pid!);
    const sched1 = mainThreadSched(child.pid!);
    const load1 = loadAverage();
    stopWriting = true;
    await writing;
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1000)); // the last events reach the watchers
    clearInterval(sampler);
    worker.postMessage('stop');
    const report = await new Promise<WatcherReport>((resolve) => worker.on('message', (m: { type: string; report?: WatcherReport }) => m.type === 'report' && resolve(m.report!)));
    await worker.terminate();

    const lat = [...report.latencies].sort((a, b) => a - b);
    const wr = [...writeMs].sort((a, b) => a - b);
    const worst = [...report.perSecond].sort((a, b) => b.max - a.max).slice(0, 3);
    const lines = [
      `mode ${mode}: ${resources} custom resources × ${rate} status write/s, ${watchers} watchers${jobs ? `, ${jobs} Indexed Jobs × ${completions} ${podImage} pods (parallelism ${parallelism})` : ''}`,
      `window ${wall.toFixed(1)} s, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`,
      `status writes: ${sent} sent (${(sent / wall).toFixed(0)}/s), ${ok} ok, ${failed} failed, ${skipped} skipped (64 in flight)`,
      `write round trip ms: p50 ${percentile(wr, 50)} p90 ${percentile(wr, 90)} p99 ${percentile(wr, 99)} max ${wr[wr.length - 1]}`,
      `watch latency ms (write sent → event at watcher): p50 ${percentile(lat, 50)} p90 ${percentile(lat, 90)} p99 ${percentile(lat, 99)} max ${lat[lat.length - 1]}  (${lat.length} events)`,
      `events per watcher: ${report.perWatcher.join(', ')} (every write seen: ${report.perWatcher.every((n) => n === ok)})`,
      `worst seconds (max latency): ${worst.map((b) => `t=${b.second}s ${b.max} ms`).join(', ')}`,
      `server main thread: on CPU ${(((sched1.runNs - sched0.runNs) / 1e9 / wall) * 100).toFixed(0)} %, waiting for a CPU ${(((sched1.waitNs - sched0.waitNs) / 1e9 / wall) * 100).toFixed(0)} % of the window; busiest second ${(Math.max(...seconds_.map((x) => x.run)) * 100).toFixed(0)} % on CPU, worst second ${(Math.max(...seconds_.map((x) => x.wait)) * 100).toFixed(0)} % waiting`,
      `measured process: CPU ${(((after.cpuSeconds - before.cpuSeconds) / wall) * 100).toFixed(0)} % of one core, RSS ${before.rssMiB.toFixed(0)} → ${after.rssMiB.toFixed(0)} MiB (peak ${peakRss.toFixed(0)})`,
      ...jobTimes.map((j) => `job ${j.name}: ${completions} pods complete in ${j.seconds.toFixed(1)} s`),
    ];
    for (const l of lines) console.log(l);
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const d = workerData as { ep: Endpoint; watchers: number; rv: string; startedAt: number };
  void runWatchers(d.ep, d.watchers, d.rv, d.startedAt);
}
