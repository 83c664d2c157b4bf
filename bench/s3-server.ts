// The embedded S3 server's own pace, measured through @aws-sdk/client-s3 as the engine reaches it:
// N small PUTs (keys shaped like song partitions, each in its own folder), GETs of every key, HEADs,
// full listings paged by 1,000, then DeleteObjects of everything. Per phase: requests/s, latency
// p50/p99, and the server process's CPU milliseconds per request (from /proc, so the load of other
// work on the machine shows up in the wall rates but not in the CPU cost).
//
//   node dist/bench/s3-server.js [--puts 5000] [--size 2048] [--concurrency 16] [--variant fast|s3rver]
//                                [--cpu-prof DIR] [--json]
//
// --variant s3rver serves every request with plain s3rver (the "before"); fast (default) is what the
// dev cluster runs. --cpu-prof writes a V8 CPU profile of the server process into DIR.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3Options } from '../devcluster/src/s3/embeddedS3.js';

const { values } = parseArgs({
  options: {
    puts: { type: 'string', default: '5000' },
    size: { type: 'string', default: '2048' },
    concurrency: { type: 'string', default: '16' },
    variant: { type: 'string', default: 'fast' },
    lists: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const puts = Number(values.puts);
const size = Number(values.size);
const concurrency = Number(values.concurrency);
const variant = values.variant as NonNullable<EmbeddedS3Options['variant']>;
if (variant !== 'fast' && variant !== 's3rver') {
  console.error(`s3-server bench: --variant ${variant}: want fast or s3rver`);
  process.exit(2);
}

interface Phase {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  serverCpuMsPerRequest: number;
  /** the part of the server's CPU spent in the kernel (file system calls) */
  serverSystemMsPerRequest: number;
  clientCpuMsPerRequest: number;
}

/** User and system CPU milliseconds of a process, all threads (clock ticks are 100 Hz on Linux). */
function processCpuMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

async function phase(name: string, serverPid: number, count: number, op: (i: number) => Promise<unknown>, parallel = concurrency): Promise<Phase> {
  const latencies: number[] = [];
  const cpu0 = processCpuMs(serverPid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        await op(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(client0);
  const cpu1 = processCpuMs(serverPid);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    name,
    requests: count,
    seconds,
    perSecond: count / seconds,
    p50ms: pct(0.5),
    p99ms: pct(0.99),
    serverCpuMsPerRequest: (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / count,
    serverSystemMsPerRequest: (cpu1.system - cpu0.system) / count,
    clientCpuMsPerRequest: (clientCpu.user + clientCpu.system) / 1000 / count,
  };
}

const keyOf = (i: number) =>
  `bench/songs/year=${1990 + (i % 30)}/artist_id=AR${i.toString(16).toUpperCase().padStart(6, '0')}/part-r1-00000.parquet`;

const dir = mkdtempSync(join(tmpdir(), 'slake-s3-bench-'));
const s3 = await startEmbeddedS3({
  directory: dir,
  variant,
  execArgv: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [],
});
const client = new S3Client({
  endpoint: s3.endpoint,
  region: s3.env.AWS_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const phases: Phase[] = [];
try {
  await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const body = Buffer.alloc(size, 'x');
  phases.push(await phase('PUT', s3.pid, puts, (i) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: keyOf(i), Body: body }))));
  phases.push(
    await phase('GET', s3.pid, puts, async (i) => {
      const got = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: keyOf(i) }));
      const bytes = await got.Body!.transformToByteArray();
      if (bytes.length !== size) throw new Error(`GET ${keyOf(i)}: ${bytes.length} bytes, want ${size}`);
    }),
  );
  phases.push(await phase('HEAD', s3.pid, puts, (i) => client.send(new HeadObjectCommand({ Bucket: 'bench', Key: keyOf(i) }))));
  const pages = Math.ceil(puts / 1000);
  let listed = 0;
  const lists = Number(values.lists);
  // A listing pages sequentially (each page needs the previous token): one listing at a time.
  const listPhase = await phase(
    `LIST (${pages} pages of 1000)`,
    s3.pid,
    lists,
    async () => {
      let token: string | undefined;
      let n = 0;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'bench', Prefix: 'bench/', ContinuationToken: token }));
        n += page.KeyCount ?? 0;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      listed = n;
    },
    1,
  );
  if (listed !== puts) throw new Error(`listing found ${listed} keys, want ${puts}`);
  phases.push(listPhase);
  const batches = Array.from({ length: pages }, (_, b) => Array.from({ length: Math.min(1000, puts - b * 1000) }, (_, j) => keyOf(b * 1000 + j)));
  phases.push(
    await phase('DeleteObjects (1000 keys)', s3.pid, batches.length, (b) =>
      client.send(new DeleteObjectsCommand({ Bucket: 'bench', Delete: { Objects: batches[b]!.map((Key) => ({ Key })), Quiet: true } })),
    ),
  );
} finally {
  client.destroy();
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
}

if (values.json) {
  console.log(JSON.stringify({ variant, puts, size, concurrency, phases }));
} else {
  console.log(`embedded S3 (${variant}): ${puts} objects of ${size} bytes, concurrency ${concurrency}`);
  for (const p of phases) {
    console.log(
      `${p.name.padEnd(28)} ${String(p.requests).padStart(6)} req ${p.seconds.toFixed(2).padStart(7)} s ${p.perSecond.toFixed(0).padStart(6)}/s` +
        `  p50 ${p.p50ms.toFixed(1)} ms p99 ${p.p99ms.toFixed(1)} ms  server CPU ${p.serverCpuMsPerRequest.toFixed(2)} ms/req (${p.serverSystemMsPerRequest.toFixed(2)} kernel)  client CPU ${p.clientCpuMsPerRequest.toFixed(2)} ms/req`,
    );
  }
}
