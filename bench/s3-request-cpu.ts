// CPU per small S3 request, client and server apart (not part of the test suite; numbers go to
// docs/storage.md). Each client runs in its own child process, so process.cpuUsage() there is that
// client's cost alone; the server's CPU comes from /proc/<pid>/stat of the server process.
//
//   node dist/bench/s3-request-cpu.js [requests=2000] [bytes=2048] [concurrency=16]
//
// Clients: `http` — node:http with a keep-alive agent, unsigned requests (plain s3rver only: the
// embedded S3 refuses unsigned requests with 403): the floor any client pays; `signed` — the same plus a minimal SigV4 signature (UNSIGNED-PAYLOAD, signing key cached, as
// the SDK caches it): what signing itself costs; `sdk` — @aws-sdk/client-s3 as S3Storage configures
// it; `storage` — S3Storage itself (the SDK plus our semaphore, retry wrapper and key checks).
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startEmbeddedS3 } from '../devcluster/src/s3/embeddedS3.js';
import { openStorage } from '../job-runner/src/storage/open.js';
import { tempDir } from '../test/helpers/paths.js';

type ClientKind = 'http' | 'signed' | 'sdk' | 'storage';
const CLIENTS: ClientKind[] = ['http', 'signed', 'sdk', 'storage'];

interface Phase {
  op: 'PUT' | 'GET';
  wallMs: number;
  clientCpuMs: number;
  serverCpuMs: number;
}

/** Child: runs `n` PUTs then `n` GETs with one kind of client, prints the phases as JSON. */
async function clientMain(kind: ClientKind, endpoint: string, serverPid: number, n: number, bytes: number, concurrency: number): Promise<void> {
  const body = Buffer.alloc(bytes, 'x');
  const bucket = 'bench';
  const prefix = `${kind}-${process.pid}`;
  const key = (i: number) => `${prefix}/${String(i % 500).padStart(3, '0')}/${i}.json`;
  let put: (i: number) => Promise<void>;
  let get: (i: number) => Promise<void>;
  if (kind === 'http' || kind === 'signed') {
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const url = new URL(endpoint);
    const send = (method: string, path: string, payload?: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const headers: Record<string, string | number> = payload ? { 'content-length': payload.length, 'content-type': 'application/json' } : {};
        if (kind === 'signed') Object.assign(headers, sign(method, path, url.host));
        const req = request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => (got += c.length));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(payload);
      });
    put = (i) => send('PUT', `/${bucket}/${key(i)}`, body);
    get = (i) => send('GET', `/${bucket}/${key(i)}`);
  } else if (kind === 'sdk') {
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: { keepAlive: true, maxSockets: concurrency } },
    });
    put = async (i) => void (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key(i), Body: body, ContentLength: body.length, ContentType: 'application/json' })));
    get = async (i) => void (await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(i) }))).Body!.transformToByteArray());
  } else {
    const s = openStorage(`s3://${bucket}/`, { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, maxConcurrency: concurrency });
    put = (i) => s.put(key(i), body, { contentType: 'application/json' });
    get = async (i) => void (await s.get(key(i)));
  }
  const phase = async (op: Phase['op'], fn: (i: number) => Promise<void>, from: number, count: number): Promise<Phase> => {
    let next = from;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const s0 = processCpuMs(serverPid);
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < from + count) await fn(next++);
    }));
    const c = process.cpuUsage(c0);
    return { op, wallMs: performance.now() - t0, clientCpuMs: (c.user + c.system) / 1000, serverCpuMs: processCpuMs(serverPid) - s0 };
  };
  // Warm-up (JIT, sockets, the SDK's lazy parts), then the measured phases.
  const warm = Math.min(200, n);
  await phase('PUT', put, n, warm);
  await phase('GET', get, n, warm);
  const phases = [await phase('PUT', put, 0, n), await phase('GET', get, 0, n)];
  process.stdout.write(JSON.stringify(phases) + '\n');
  process.exit(0);
}

/** SigV4 headers for a path-style request with an unsigned payload (keys here need no encoding). */
let signingKey: { day: string; key: Buffer } | null = null;
function sign(method: string, path: string, host: string): Record<string, string> {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const canonical = [method, path, '', `host:${host}`, 'x-amz-content-sha256:UNSIGNED-PAYLOAD', `x-amz-date:${amzDate}`, '', 'host;x-amz-content-sha256;x-amz-date', 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  if (signingKey?.day !== day) {
    let k = createHmac('sha256', 'AWS4S3RVER').update(day).digest();
    for (const part of ['us-east-1', 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
    signingKey = { day, key: k };
  }
  const signature = createHmac('sha256', signingKey.key).update(toSign).digest('hex');
  return {
    'x-amz-date': amzDate,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    authorization: `AWS4-HMAC-SHA256 Credential=S3RVER/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
  };
}

/** CPU milliseconds (user + system) a process has used so far. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [n = 2000, bytes = 2048, concurrency = 16] = process.argv.slice(2).map(Number);
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const variant of ['s3rver', 'fast'] as const) {
    const s3 = await startEmbeddedS3({ directory: tempDir('slake-reqcpu-'), variant });
    try {
      const admin = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      await admin.send(new CreateBucketCommand({ Bucket: 'bench' }));
      admin.destroy();
      for (const kind of CLIENTS) {
        if (kind === 'http' && variant === 'fast') continue; // refused unsigned: nothing to measure
        const out = execFileSync(process.execPath, [self, 'client', kind, s3.endpoint, String(s3.pid), String(n), String(bytes), String(concurrency)], {
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        }).toString();
        for (const p of JSON.parse(out.trim()) as Phase[]) {
          const perReq = (ms: number) => ((ms / n) * 1000).toFixed(0);
          rows.push(`| ${variant === 'fast' ? 'embedded S3 (dev cluster)' : "tests' s3rver"} | ${kind} | ${p.op} | ${Math.round((n / p.wallMs) * 1000)} | ${perReq(p.clientCpuMs)} | ${perReq(p.serverCpuMs)} |`);
        }
      }
    } finally {
      await s3.stop();
    }
  }
  console.log(`${n} requests of ${bytes} B each way, concurrency ${concurrency}; CPU µs per request`);
  console.log('| server | client | op | requests/s | client CPU µs | server CPU µs |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

if (process.argv[2] === 'client') {
  const [, kind, endpoint, pid, n, bytes, concurrency] = process.argv.slice(2);
  await clientMain(kind as ClientKind, endpoint!, Number(pid), Number(n), Number(bytes), Number(concurrency));
} else {
  await main();
}
