// A .gz object is verified before any of its lines is read (job-runner/src/read/gzipObject.ts):
// the pure decisions table-driven; seeded damage at many places and levels through both read paths
// (one GET held in memory, two streamed GETs), counting the requests; an object replaced between the
// two GETs; and the two-GET path against real S3 (s3rver).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { constants as zc, gunzipSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { readSplit } from '../../../job-runner/src/read/readSplit.js';
import { GzipObjectChangedError, gzipReadPlan, secondPassProblem } from '../../../job-runner/src/read/gzipObject.js';
import type { GunzipOutcome } from '../../../job-runner/src/read/gunzip.js';
import type { ReadItem, ReadSplitOptions } from '../../../job-runner/src/read/items.js';
import type { InputSplit } from '../../../job-runner/src/run/types.js';
import type { ByteRange, Storage } from '../../../job-runner/src/storage/storage.js';
import { openStorage } from '../../../job-runner/src/storage/open.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';
import { ChunkyMemoryStorage, seeded } from './memoryStorage.js';

const OPTS: ReadSplitOptions = { maxLineBytes: 1 << 20, maxRejectSampleBytes: 64 * 1024, blockBytes: 64 * 1024 };

/** Eventsim-like lines: deflate finds many repeats, as in real logs. */
function eventText(lines: number, seed: number): Buffer {
  const rand = seeded(seed);
  const pages = ['NextSong', 'NextSong', 'NextSong', 'Home', 'Logout', 'Settings'];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const user = 1 + Math.floor(rand() * 300);
    out.push(JSON.stringify({ artist: `Artist ${Math.floor(rand() * 900)}`, auth: 'Logged In', firstName: `F${user}`, gender: user % 2 ? 'F' : 'M', itemInSession: i % 90, lastName: `L${user}`, length: 180 + Math.floor(rand() * 12000) / 100, level: user % 3 ? 'free' : 'paid', location: 'Atlanta-Sandy Springs-Roswell, GA', method: 'PUT', page: pages[Math.floor(rand() * pages.length)], registration: 1540000000000 + user, sessionId: Math.floor(i / 90), song: `Song ${Math.floor(rand() * 5000)}`, status: 200, ts: 1541105830796 + i * 1000, userAgent: 'Mozilla/5.0 (Windows NT 6.1; WOW64)', userId: String(user) }));
  }
  return Buffer.from(out.join('\n') + '\n');
}

function splitOf(key: string, size: number): InputSplit {
  return { kind: 'log', key, ordinal: 0, compressed: true, start: 0, end: size, size };
}

async function readAll(storage: Storage, key: string, size: number, opts: Partial<ReadSplitOptions> = {}): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const item of readSplit(storage, splitOf(key, size), { ...OPTS, ...opts })) out.push(item);
  return out;
}

/** Counts whole-object GETs and streams: the request pattern of each path. */
class CountingStorage extends ChunkyMemoryStorage {
  gets = 0;
  streams = 0;
  override async get(key: string, range?: ByteRange): Promise<Buffer> {
    this.gets++;
    return super.get(key, range);
  }
  override async stream(key: string, range?: ByteRange): Promise<Readable> {
    this.streams++;
    this.gets--; // ChunkyMemoryStorage.stream reads through get()
    return super.stream(key, range);
  }
}

const failed = (kind: 'truncated-gzip' | 'corrupt-gzip', decodedBytes: number): GunzipOutcome => ({ ok: false, kind, message: '', zlibMessage: '', compressedBytes: 0, decodedBytes, rawHead: Buffer.alloc(0) });
const ok = (decodedBytes: number): GunzipOutcome => ({ ok: true, compressedBytes: 0, decodedBytes });

test('gzipReadPlan: in memory up to the bound, two GETs above it', () => {
  const cases: [string, number, number, string][] = [
    ['empty', 0, 16, 'in-memory'],
    ['at the bound', 16, 16, 'in-memory'],
    ['one byte over', 17, 16, 'two-gets'],
    ['huge', 5e9, 16 << 20, 'two-gets'],
  ];
  for (const [name, size, bound, want] of cases) assert.equal(gzipReadPlan(size, bound), want, name);
});

test('secondPassProblem: the parse pass must end exactly as the integrity pass did', () => {
  const cases: [string, GunzipOutcome, GunzipOutcome, boolean][] = [
    ['both complete, same size', ok(100), ok(100), false],
    ['both truncated at the same point', failed('truncated-gzip', 40), failed('truncated-gzip', 40), false],
    ['complete, then a different size', ok(100), ok(120), true],
    ['complete, then truncated', ok(100), failed('truncated-gzip', 100), true],
    ['truncated, then complete', failed('truncated-gzip', 40), ok(40), true],
    ['truncated, then corrupt', failed('truncated-gzip', 40), failed('corrupt-gzip', 40), true],
    ['truncated at another point', failed('truncated-gzip', 40), failed('truncated-gzip', 41), true],
  ];
  for (const [name, first, second, problem] of cases) {
    const got = secondPassProblem(first, second, 's3://raw/x.json.gz');
    assert.equal(got !== null, problem, name);
    if (got) assert.match(got, /^gzip object s3:\/\/raw\/x\.json\.gz changed while it was read: .*retry/, name);
  }
});

describe('seeded damage', () => {
  const text = eventText(6000, 7);
  const rand = seeded(20260202);
  const trials: { level: 1 | 9; at: number; gz: Buffer }[] = [];
  for (const level of [1, 9] as const) {
    const gz = gzipSync(text, { level });
    for (let k = 0; k < 40; k++) {
      const damaged = Buffer.from(gz);
      // 64 bytes overwritten somewhere in the deflate data or the trailer (the header has its own test).
      const at = 10 + Math.floor(rand() * (gz.length - 10 - 8));
      for (let i = at; i < Math.min(at + 64, gz.length); i++) damaged[i] = Math.floor(rand() * 256);
      trials.push({ level, at, gz: damaged });
    }
  }

  test('a damaged object is one corrupt-gzip item (line 1, offset 0) and nothing else, through both paths', async () => {
    const storage = new CountingStorage(seeded(5), 70_000);
    let caughtOnlyByTrailer = 0;
    for (const [i, t] of trials.entries()) {
      const key = `d${i}.json.gz`;
      await storage.put(key, t.gz);
      // Independent judge: the one-shot API on the whole object.
      let code = 'ok';
      try {
        gunzipSync(t.gz);
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? 'error';
      }
      try {
        gunzipSync(t.gz.subarray(0, t.gz.length - 8), { finishFlush: zc.Z_SYNC_FLUSH });
        if (code !== 'ok') caughtOnlyByTrailer++;
      } catch {
        // deflate itself noticed
      }
      for (const twoGets of [false, true]) {
        const before = { gets: storage.gets, streams: storage.streams };
        const items = await readAll(storage, key, t.gz.length, { gzipInMemoryBytes: twoGets ? t.gz.length - 1 : t.gz.length });
        const what = `level ${t.level} damage at ${t.at}, ${twoGets ? 'two GETs' : 'in memory'}`;
        if (code === 'ok') {
          // 64 random bytes that still decode to the same CRC and size: possible in theory only.
          assert.ok(items.every((it) => it.type === 'lines'), what);
          continue;
        }
        assert.equal(code, 'Z_DATA_ERROR', what);
        assert.equal(items.length, 1, `${what}: ${items.map((it) => it.type).join(', ')}`);
        const only = items[0]!;
        assert.equal(only.type, 'corrupt-gzip', what);
        if (only.type !== 'corrupt-gzip') continue;
        assert.deepEqual([only.offset, only.line], [0, 1], what);
        assert.ok(only.tail.length <= OPTS.maxRejectSampleBytes, what);
        if (only.length > 0) assert.ok(only.tail.length === Math.min(only.length, OPTS.maxRejectSampleBytes), what);
        assert.match(only.message, /^corrupt gzip object mem:\/\/test\/d\d+\.json\.gz: .* re-upload the object from its source\.$/, what);
        if (only.length === t.gz.length) assert.deepEqual(only.tail, t.gz.subarray(0, OPTS.maxRejectSampleBytes), `${what}: the raw head`);
        // A corrupt object is read once, no second pass (when nothing decoded, a ranged GET of its head).
        const requests = twoGets ? { gets: only.length === t.gz.length ? 1 : 0, streams: 1 } : { gets: 1, streams: 0 };
        assert.deepEqual({ gets: storage.gets - before.gets, streams: storage.streams - before.streams }, requests, what);
      }
    }
    // Most damage is only caught by the trailer: the reason the stream is verified before parsing.
    assert.ok(caughtOnlyByTrailer > trials.length / 2, `caught only by the CRC/ISIZE check: ${caughtOnlyByTrailer} of ${trials.length}`);
  });

  test('an intact object is read from one GET in memory, or from two streamed GETs above the bound', async () => {
    const storage = new CountingStorage(seeded(6), 70_000);
    const gz = gzipSync(text, { level: 9 });
    await storage.put('ok.json.gz', gz);
    for (const [bound, requests] of [[gz.length, { gets: 1, streams: 0 }], [gz.length - 1, { gets: 0, streams: 2 }]] as const) {
      const before = { gets: storage.gets, streams: storage.streams };
      const items = await readAll(storage, 'ok.json.gz', gz.length, { gzipInMemoryBytes: bound });
      assert.deepEqual(Buffer.concat(items.map((it) => (it.type === 'lines' ? it.data : Buffer.alloc(0)))), text);
      assert.deepEqual({ gets: storage.gets - before.gets, streams: storage.streams - before.streams }, requests);
    }
  });
});

/** Serves `versions[n]` to the n-th stream of the key (the last one from then on). */
class ReplacedStorage extends ChunkyMemoryStorage {
  private served_ = 0;
  constructor(private readonly versions: Buffer[]) {
    super(seeded(9), 50_000);
  }
  override async stream(key: string, range?: ByteRange): Promise<Readable> {
    await this.put(key, this.versions[Math.min(this.served_++, this.versions.length - 1)]!);
    return super.stream(key, range);
  }
}

test('an object replaced between the two GETs fails the read (retryable), naming the object', async () => {
  const a = gzipSync(eventText(3000, 1));
  const b = gzipSync(eventText(3100, 2));
  const cases: [string, Buffer, Buffer][] = [
    ['another complete version', a, b],
    ['complete, then cut short', a, a.subarray(0, a.length - 100)],
    ['cut short, then complete', a.subarray(0, a.length - 100), a],
  ];
  for (const [name, first, second] of cases) {
    const storage = new ReplacedStorage([first, second]);
    await assert.rejects(
      readAll(storage, 'x.json.gz', first.length, { gzipInMemoryBytes: 1 }),
      (err: unknown) => err instanceof GzipObjectChangedError && /^gzip object mem:\/\/test\/x\.json\.gz changed while it was read/.test(err.message),
      name,
    );
  }
});

describe('two GETs against real S3 (s3rver)', () => {
  let s3: TestS3;
  let storage: Storage;
  const text = eventText(4000, 3);
  const gz = gzipSync(text, { level: 1 });
  const corrupt = Buffer.from(gz);
  corrupt[corrupt.length - 8]! ^= 0x01; // the CRC: every deflate block decodes
  before(async () => {
    s3 = await startTestS3();
    await s3.createBucket('raw');
    storage = openStorage('s3://raw/logs/', { env: s3.env });
    await storage.put('ok.json.gz', gz);
    await storage.put('crc.json.gz', corrupt);
    await storage.put('cut.json.gz', gz.subarray(0, Math.floor(gz.length / 2)));
  });
  after(async () => {
    storage?.close?.();
    await s3?.stop();
  });

  test('intact, bad CRC and truncated objects above the in-memory bound', async () => {
    const bound = { gzipInMemoryBytes: 1024 };
    const whole = await readAll(storage, 'ok.json.gz', gz.length, bound);
    assert.deepEqual(Buffer.concat(whole.map((it) => (it.type === 'lines' ? it.data : Buffer.alloc(0)))), text);

    const bad = await readAll(storage, 'crc.json.gz', corrupt.length, bound);
    assert.deepEqual(bad.map((it) => it.type), ['corrupt-gzip']);
    const only = bad[0]!;
    if (only.type !== 'corrupt-gzip') return;
    assert.deepEqual([only.offset, only.line, only.length], [0, 1, text.length]);
    assert.deepEqual(only.tail, text.subarray(0, OPTS.maxRejectSampleBytes));
    assert.match(only.message, /^corrupt gzip object s3:\/\/raw\/logs\/crc\.json\.gz: the CRC-32 of the decoded data does not match the trailer \(zlib: incorrect data check\) after \d+ of \d+ compressed bytes, \d+ bytes decoded before the error\./);

    const cutBytes = gz.subarray(0, Math.floor(gz.length / 2));
    const decodable = gunzipSync(cutBytes, { finishFlush: zc.Z_SYNC_FLUSH });
    const cut = await readAll(storage, 'cut.json.gz', cutBytes.length, bound);
    const last = cut[cut.length - 1]!;
    assert.equal(last.type, 'truncated-gzip');
    const lines = Buffer.concat(cut.map((it) => (it.type === 'lines' ? it.data : Buffer.alloc(0))));
    assert.deepEqual(lines, decodable.subarray(0, decodable.lastIndexOf(0x0a) + 1));
    if (last.type === 'truncated-gzip') assert.equal(lines.length + last.length, decodable.length);
  });
});
