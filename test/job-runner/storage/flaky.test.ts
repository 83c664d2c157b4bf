// S3 that fails: a proxy in front of s3rver answers some requests with 503 SlowDown, 500, a reset
// connection, or a body cut mid-way. S3Storage must get through with retries and give results
// identical to a direct connection; when the failures never stop, it must say so clearly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { openStorage } from '../../../job-runner/src/storage/open.js';
import { S3ClientPool } from '../../../job-runner/src/storage/s3Clients.js';
import { S3Storage } from '../../../job-runner/src/storage/s3Storage.js';
import { StorageError, type Storage } from '../../../job-runner/src/storage/storage.js';
import { readSplit } from '../../../job-runner/src/read/readSplit.js';
import type { RetryClock } from '../../../job-runner/src/storage/retry.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';
import { startFlakyS3Proxy, type FlakyS3Proxy, type FlakyMode } from '../../helpers/flakyS3Proxy.js';

const MiB = 1024 * 1024;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Retries without waiting, counting the waits the policy asked for. */
function instantClock(): RetryClock & { waits: number } {
  const c = { waits: 0, sleep: async () => void c.waits++, random: Math.random, now: Date.now };
  return c;
}

async function snapshot(s: Storage): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const o of s.list()) out[o.key] = `${o.size}:${(await s.get(o.key)).toString('base64').slice(0, 40)}`;
  return out;
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('S3 through a flaky proxy', () => {
  let s3: TestS3;
  let proxy: FlakyS3Proxy;
  let direct: S3Storage;
  const opened: S3Storage[] = [];
  const flaky = (prefix: string, clock: RetryClock, maxAttempts = 12, clients?: S3ClientPool) => {
    const s = openStorage(`s3://flaky/${prefix}`, { env: { ...s3.env, AWS_ENDPOINT_URL: proxy.endpoint }, clock, retry: { maxAttempts }, clients }) as S3Storage;
    opened.push(s);
    return s;
  };
  before(async () => {
    s3 = await startTestS3();
    await s3.createBucket('flaky');
    proxy = await startFlakyS3Proxy(s3.endpoint);
    direct = openStorage('s3://flaky/', { env: s3.env }) as S3Storage;
  });
  after(async () => {
    for (const s of [...opened, direct]) s.destroy();
    await proxy.close();
    await s3.stop();
  });

  const modes: { mode: FlakyMode; rate: number }[] = [
    { mode: 'slowdown', rate: 0.3 },
    { mode: 'internal', rate: 0.2 },
    { mode: 'reset', rate: 0.2 },
  ];
  for (const { mode, rate } of modes) {
    it(`${mode} on ${rate * 100}% of requests: every operation gets through, results identical`, async () => {
      proxy.configure({ mode, failRate: rate, failFirst: 0, seed: 42, eligible: () => true });
      const before = { ...proxy.stats };
      const clock = instantClock();
      const s = flaky(`${mode}/`, clock);
      const big = pattern(11 * MiB + 5, 3);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 60; i++) writes.push(s.put(`obj/${String(i).padStart(3, '0')}.json`, `{"i":${i}}\n`.repeat(i + 1)));
      writes.push(s.putStream('big/streamed.bin', Readable.from([big.subarray(0, 5 * MiB), big.subarray(5 * MiB)])));
      writes.push(s.put('big/buffer.bin', big));
      await Promise.all(writes);
      await s.delete(['obj/000.json', 'obj/001.json', 'missing']);
      const viaProxy = await snapshot(s);
      proxy.configure({ failRate: 0 });
      const viaDirect = await snapshot(openStorage(`s3://flaky/${mode}/`, { env: s3.env }));
      assert.deepEqual(viaProxy, viaDirect);
      assert.equal(Object.keys(viaDirect).length, 60);
      assert.ok((await direct.get(`${mode}/big/streamed.bin`)).equals(big));
      assert.ok((await direct.get(`${mode}/big/buffer.bin`)).equals(big));
      const failed = proxy.stats.failed - before.failed;
      assert.ok(failed >= 10, `only ${failed} failures injected`);
      assert.equal(clock.waits, failed, 'one backoff wait per injected failure');
    });
  }

  it('a body cut mid-way resumes from the last byte received (ranged GET pinned to the ETag)', async () => {
    const data = pattern(3 * MiB, 9);
    await direct.put('cut/obj.bin', data);
    const clock = instantClock();
    const s = flaky('cut/', clock);
    proxy.configure({ mode: 'reset-mid-body', failFirst: 3, failRate: 0, midBodyBytes: 200_000, eligible: (r) => r.method === 'GET' });
    const failedBefore = proxy.stats.failed;
    assert.ok((await drain(await s.stream('obj.bin'))).equals(data), 'stream');
    assert.equal(proxy.stats.failed - failedBefore, 3);
    proxy.configure({ failFirst: 2 });
    assert.ok((await s.get('obj.bin', { start: 100, end: 2 * MiB })).equals(data.subarray(100, 2 * MiB)), 'get');
    proxy.configure({ failFirst: 2 });
    assert.ok((await drain(await s.stream('obj.bin', { start: 7, end: 2 * MiB + 3 }))).equals(data.subarray(7, 2 * MiB + 3)), 'ranged stream');
    proxy.configure({ failFirst: 0 });
  });

  it('readSplit over a flaky S3 yields the same lines as over a direct connection', async () => {
    const text = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ ts: 1541000000000 + i, page: 'NextSong', song: `Ça ${i}` })).join('\n');
    await direct.put('lines/log.json', text);
    const size = Buffer.byteLength(text);
    const read = async (s: Storage) => {
      const out: string[] = [];
      for (const [start, end] of [[0, Math.floor(size / 3)], [Math.floor(size / 3), size]]) {
        for await (const it of readSplit(s, { kind: 'log', key: 'log.json', ordinal: 0, compressed: false, start: start!, end: end!, size }, { maxLineBytes: 1 << 20, maxRejectSampleBytes: 100, blockBytes: 64 * 1024 })) {
          if (it.type === 'lines') out.push(`${it.offset}:${it.data.toString()}`);
        }
      }
      return out;
    };
    const want = await read(openStorage('s3://flaky/lines/', { env: s3.env }));
    proxy.configure({ mode: 'slowdown', failRate: 0.4, failFirst: 0, seed: 7, eligible: () => true });
    const got = await read(flaky('lines/', instantClock()));
    proxy.configure({ failRate: 0 });
    assert.deepEqual(got, want);
    assert.equal(want.join('').split('\n').length, 20_000);
  });

  it('a server without multi-object delete (501) gets single deletes, remembered per instance', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (const k of keys) await direct.put(`nodelete/${k}`, k);
    proxy.configure({ mode: 'not-implemented', failRate: 1, failFirst: 0, eligible: (r) => r.method === 'POST' && /[?&]delete/.test(r.url) });
    try {
      // A client of its own: the recorder below must see this storage's requests only.
      const s = flaky('nodelete/', instantClock(), 12, new S3ClientPool());
      const sent: string[] = [];
      s.client.middlewareStack.add((next, context) => async (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      }, { step: 'initialize', name: 'record' });
      await s.delete(keys.slice(0, 20));
      await s.delete(keys.slice(20));
      const left: string[] = [];
      for await (const o of direct.list('nodelete/')) left.push(o.key);
      assert.deepEqual(left, []);
      assert.equal(sent.filter((c) => c === 'DeleteObjectsCommand').length, 1, 'batch delete tried once, then remembered');
      // s3rver itself answers some concurrent single deletes with 500 InternalError (a race in its
      // folder cleanup); those are retried, so there may be more calls than keys.
      assert.ok(sent.filter((c) => c === 'DeleteObjectCommand').length >= 30);
    } finally {
      proxy.configure({ failRate: 0, eligible: () => true });
    }
  });

  it('when S3 never stops throttling, the error says so after the configured attempts', async () => {
    await direct.put('always/x', 'x');
    proxy.configure({ mode: 'slowdown', failRate: 1, failFirst: 0, eligible: () => true });
    const clock = instantClock();
    const s = flaky('always/', clock, 4);
    try {
      await assert.rejects(s.get('x'), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.equal(err.kind, 'throttled');
        assert.equal(err.transient, true);
        assert.match(err.message, /^S3 kept throttling read s3:\/\/flaky\/always\/x \(503 SlowDown\) after 4 attempts over \d+\.\d s; lower the concurrency or retry later$/);
        return true;
      });
      assert.equal(clock.waits, 3);
    } finally {
      proxy.configure({ failRate: 0 });
    }
  });
});
