// Measures readSplit throughput and peak RSS (not part of the test suite; numbers go to
// docs/storage.md). Each measurement runs in a fresh child process so that its peak RSS is its own.
//
//   node dist/test/job-runner/read/throughput.bench.js [localMB=500] [s3MB=200]
import { spawnSync } from 'node:child_process';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { readSplit } from '../../../job-runner/src/read/readSplit.js';
import { openStorage } from '../../../job-runner/src/storage/open.js';
import type { InputSplit } from '../../../job-runner/src/run/types.js';
import { startTestS3 } from '../../helpers/s3.js';
import { tempDir } from '../../helpers/paths.js';

const MB = 1e6;

/** eventsim-like lines, ~380 bytes each. */
function* eventLines(bytes: number): Generator<Buffer> {
  let written = 0;
  let i = 0;
  const batch: string[] = [];
  while (written < bytes) {
    const line = JSON.stringify({ artist: `Artist ${i % 5000}`, auth: 'Logged In', firstName: 'Ann', gender: 'F', itemInSession: i % 100, lastName: 'Lee', length: 200 + (i % 97), level: i % 3 ? 'free' : 'paid', location: 'San Jose-Sunnyvale-Santa Clara, CA', method: 'PUT', page: 'NextSong', registration: 1540000000000, sessionId: i % 9000, song: `Song ${i % 70000}`, status: 200, ts: 1541000000000 + i * 1000, userAgent: 'Mozilla/5.0 (Windows NT 6.1; WOW64)', userId: String(i % 3000) }) + '\n';
    batch.push(line);
    written += line.length;
    i++;
    if (batch.length === 4096) {
      yield Buffer.from(batch.join(''));
      batch.length = 0;
    }
  }
  if (batch.length) yield Buffer.from(batch.join(''));
}

interface Result {
  what: string;
  bytes: number;
  seconds: number;
  mbPerSec: number;
  lines: number;
  items: number;
  maxItemBytes: number;
  peakRssMB: number;
}

/** Child mode: read the splits and report. */
async function measure(uri: string, key: string, size: number, compressed: boolean, splits: number, what: string, env: Record<string, string>): Promise<Result> {
  const storage = openStorage(uri, { env: { ...process.env, ...env } });
  const t0 = performance.now();
  let bytes = 0;
  let lines = 0;
  let items = 0;
  let maxItemBytes = 0;
  const n = compressed ? 1 : splits;
  for (let k = 0; k < n; k++) {
    const start = Math.floor((size * k) / n);
    const end = Math.floor((size * (k + 1)) / n);
    const split: InputSplit = { kind: 'log', key, ordinal: 0, compressed, start, end, size };
    for await (const it of readSplit(storage, split, { maxLineBytes: 16 << 20, maxRejectSampleBytes: 64 << 10 })) {
      items++;
      if (it.type !== 'lines') continue;
      bytes += it.data.length;
      maxItemBytes = Math.max(maxItemBytes, it.data.length);
      // Count lines as the parser must touch every byte anyway; keeps the loop honest.
      for (let p = it.data.indexOf(10); p !== -1; p = it.data.indexOf(10, p + 1)) lines++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { what, bytes, seconds: +seconds.toFixed(2), mbPerSec: +(bytes / MB / seconds).toFixed(0), lines, items, maxItemBytes, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
}

function child(args: string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'child') {
    const [uri, key, size, compressed, splits, what, envJson] = rest;
    const res = await measure(uri!, key!, Number(size), compressed === 'true', Number(splits), what!, JSON.parse(envJson ?? '{}') as Record<string, string>);
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const localMB = Number(mode ?? 500);
  const s3MB = Number(rest[0] ?? 200);
  const dir = tempDir('slake-bench-');
  const results: Result[] = [];
  try {
    const plain = join(dir, 'events.json');
    await pipeline(Readable.from(eventLines(localMB * MB)), createWriteStream(plain));
    const size = statSync(plain).size;
    results.push(child([dir, 'events.json', String(size), 'false', '1', `local ${Math.round(size / MB)} MB, whole object`, '{}']));
    results.push(child([dir, 'events.json', String(size), 'false', '4', `local ${Math.round(size / MB)} MB, 4 byte-range splits`, '{}']));
    const gz = join(dir, 'events.json.gz');
    await pipeline(Readable.from(eventLines(Math.min(localMB, 200) * MB)), createGzip(), createWriteStream(gz));
    results.push(child([dir, 'events.json.gz', String(statSync(gz).size), 'true', '1', `local gzip (${Math.round(statSync(gz).size / MB)} MB compressed)`, '{}']));

    const s3 = await startTestS3();
    try {
      await s3.createBucket('bench');
      const storage = openStorage('s3://bench/', { env: s3.env });
      const t0 = performance.now();
      await storage.putStream('events.json', Readable.from(eventLines(s3MB * MB)));
      const upSeconds = (performance.now() - t0) / 1000;
      const s3size = (await storage.head('events.json'))!.size;
      console.error(`s3rver multipart upload: ${Math.round(s3size / MB)} MB in ${upSeconds.toFixed(1)} s = ${(s3size / MB / upSeconds).toFixed(0)} MB/s`);
      const env = JSON.stringify(s3.env);
      results.push(child(['s3://bench/', 'events.json', String(s3size), 'false', '1', `s3rver ${Math.round(s3size / MB)} MB, whole object`, env]));
      results.push(child(['s3://bench/', 'events.json', String(s3size), 'false', '4', `s3rver ${Math.round(s3size / MB)} MB, 4 byte-range splits`, env]));
    } finally {
      await s3.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(results);
}

await main();
