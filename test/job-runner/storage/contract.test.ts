// ONE contract for both storages: every case runs against a local folder and against s3rver
// (through @aws-sdk/client-s3, as in production). A case names the few expectations that differ by
// nature (a missing bucket is an error on S3, a missing folder is just empty), never by accident.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Readable } from 'node:stream';
import { rmSync } from 'node:fs';
import { openStorage, type OpenStorageOptions } from '../../../job-runner/src/storage/open.js';
import { S3ClientPool } from '../../../job-runner/src/storage/s3Clients.js';
import { S3Storage } from '../../../job-runner/src/storage/s3Storage.js';
import { StorageError, type Storage } from '../../../job-runner/src/storage/storage.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';
import { tempDir } from '../../helpers/paths.js';

const MiB = 1024 * 1024;

interface Harness {
  name: 'local' | 's3rver';
  /** A fresh, empty root. */
  fresh(opts?: OpenStorageOptions): Promise<Storage>;
  /** A root whose bucket (or folder) does not exist. */
  missingRoot(): Storage;
}

interface Case {
  name: string;
  only?: Harness['name'];
  /**
   * The case watches the S3 client's commands: give its storage a client of its own (storages of
   * the same configuration share one client, and a recorder on it would see the others' requests).
   */
  ownClient?: true;
  run(h: Harness, s: Storage): Promise<void>;
}

async function keys(s: Storage, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.list(prefix)) out.push(o.key);
  return out;
}

async function expectError(p: Promise<unknown>, kind: StorageError['kind'], message?: RegExp): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StorageError, `want a StorageError, got ${inspect(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`want a ${kind} StorageError, got success`);
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Deterministic bytes that differ at every position of a part (catches reordered or repeated parts). */
function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Commands the S3 client sent (S3 harness only), for checks like "multipart was used". */
function recordCommands(s: Storage): string[] {
  const seen: string[] = [];
  if (s instanceof S3Storage) {
    s.client.middlewareStack.add((next, context) => async (args) => {
      seen.push(context.commandName ?? '?');
      return next(args);
    }, { step: 'initialize', name: `record-${Math.random()}` });
  }
  return seen;
}

const cases: Case[] = [
  {
    name: 'put/get/head round trip: string, Buffer, Uint8Array, empty, overwrite',
    async run(_h, s) {
      await s.put('a.json', '{"a":1}\n');
      await s.put('dir/b.bin', Buffer.from([0, 1, 2, 255]));
      await s.put('dir/c.bin', new Uint8Array([9, 8, 7]));
      await s.put('empty', '');
      assert.equal((await s.get('a.json')).toString(), '{"a":1}\n');
      assert.deepEqual([...(await s.get('dir/b.bin'))], [0, 1, 2, 255]);
      assert.deepEqual([...(await s.get('dir/c.bin'))], [9, 8, 7]);
      assert.equal((await s.get('empty')).length, 0);
      const h = await s.head('dir/b.bin');
      assert.equal(h?.key, 'dir/b.bin');
      assert.equal(h?.size, 4);
      assert.equal((await s.head('empty'))?.size, 0);
      await s.put('a.json', 'replaced');
      assert.equal((await s.get('a.json')).toString(), 'replaced');
      assert.equal((await s.head('a.json'))?.size, 8);
    },
  },
  {
    name: 'missing objects: head is null, get and stream are not-found naming the URI',
    async run(_h, s) {
      assert.equal(await s.head('nope.json'), null);
      assert.equal(await s.head('no/such/dir/x'), null);
      await expectError(s.get('nope.json'), 'not-found', /nope\.json does not exist/);
      await expectError(s.stream('nope.json'), 'not-found', new RegExp(`${s.root.replace(/[/.]/g, '\\$&')}nope\\.json`));
    },
  },
  {
    name: 'list: recursive, prefixes, sorted in UTF-8 byte order, unicode keys, missing prefix is empty',
    async run(_h, s) {
      const all = ['z', 'b/2.json', 'b/10.json', 'a0', 'a/x', 'a/y/z', 'é/1', 'ｱ', '😀', 'Z', 'b2'];
      for (const k of all) await s.put(k, k);
      // Code point order: 'ｱ' (U+FF71) before '😀' (U+1F600), though UTF-16 order says otherwise.
      assert.deepEqual(await keys(s), ['Z', 'a/x', 'a/y/z', 'a0', 'b/10.json', 'b/2.json', 'b2', 'z', 'é/1', 'ｱ', '😀']);
      assert.deepEqual(await keys(s, 'b/'), ['b/10.json', 'b/2.json']);
      assert.deepEqual(await keys(s, 'b'), ['b/10.json', 'b/2.json', 'b2']);
      assert.deepEqual(await keys(s, 'a/y'), ['a/y/z']);
      assert.deepEqual(await keys(s, 'é/'), ['é/1']);
      assert.deepEqual(await keys(s, 'missing/'), []);
      const sizes = new Map<string, number>();
      for await (const o of s.list('b/')) sizes.set(o.key, o.size);
      assert.deepEqual(Object.fromEntries(sizes), { 'b/10.json': 9, 'b/2.json': 8 });
    },
  },
  {
    name: 'list: keys that prefix other keys sort as S3 sorts them (k < k b < k-b; m-n < m/n < m0), also paged',
    async run(_h, s) {
      // Plain s3rver 3.7.1 got this wrong (and lost keys when paging); the test server sorts its
      // listings (devcluster/src/s3/s3rverListingOrder.ts, docs/storage.md), as S3 and MinIO do.
      const want = ['k', 'k b', 'k-b', 'k0', 'm-n', 'm/n', 'm0'];
      for (const k of [...want].reverse()) await s.put(k, k);
      assert.deepEqual(await keys(s), want);
      // More keys than a page (1,000): a page boundary must lose and repeat nothing.
      const many = Array.from({ length: 1005 }, (_, i) => `p/${i % 2 ? `${i}` : `${i}/x`}`);
      for (let i = 0; i < many.length; i += 50) await Promise.all(many.slice(i, i + 50).map((k) => s.put(k, '')));
      const sorted = [...many].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(await keys(s, 'p/'), sorted);
    },
  },
  {
    name: 'local only: a key cannot also be a folder of other keys; the error says why',
    only: 'local',
    async run(_h, s) {
      await s.put('a/b', '1');
      await expectError(s.put('a', '2'), 'invalid', /a folder of that name holds other keys/);
      await s.put('f', '1');
      await expectError(s.put('f/g', '2'), 'invalid', /a parent of it is an object/);
      assert.deepEqual(await keys(s), ['a/b', 'f']);
    },
  },
  {
    name: 'list pages past 1000 keys; delete removes them all in batches',
    async run(_h, s) {
      const n = 1234;
      const all = Array.from({ length: n }, (_, i) => `many/${String(i).padStart(5, '0')}.json`);
      for (let i = 0; i < all.length; i += 32) await Promise.all(all.slice(i, i + 32).map((k) => s.put(k, 'x')));
      await s.put('other', 'o');
      assert.deepEqual(await keys(s, 'many/'), all);
      await s.delete([...all, 'many/not-there.json']);
      assert.deepEqual(await keys(s), ['other']);
    },
  },
  {
    name: 'ranges: [start, end) clamped to the object, empty ranges, streams of ranges',
    async run(_h, s) {
      const data = pattern(100_000);
      await s.put('r.bin', data);
      const table: [number, number][] = [[0, 1], [0, 100_000], [10, 20], [99_999, 100_000], [5, 5], [50_000, 200_000], [100_000, 100_010], [200_000, 300_000]];
      for (const [start, end] of table) {
        const want = data.subarray(Math.min(start, data.length), Math.min(end, data.length));
        assert.ok((await s.get('r.bin', { start, end })).equals(want), `get [${start},${end})`);
        assert.ok((await drain(await s.stream('r.bin', { start, end }))).equals(want), `stream [${start},${end})`);
      }
      await expectError(s.get('r.bin', { start: 5, end: 2 }), 'invalid');
      await expectError(s.get('r.bin', { start: -1, end: 2 }), 'invalid');
    },
  },
  {
    name: 'streams: a 3 MiB object streams back byte for byte',
    async run(_h, s) {
      const data = pattern(3 * MiB + 17, 3);
      await s.put('s.bin', data);
      assert.ok((await drain(await s.stream('s.bin'))).equals(data));
    },
  },
  {
    name: 'putStream: small bodies, and a >16 MiB streamed body (multipart on S3), bytes exact',
    ownClient: true,
    async run(h, s) {
      const sent = recordCommands(s);
      await s.putStream('small.json', Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]));
      assert.equal((await s.get('small.json')).toString(), '{"a":1}');
      await s.putStream('none', Readable.from([]));
      assert.equal((await s.head('none'))?.size, 0);
      const data = pattern(17 * MiB + 123, 7);
      async function* odd() {
        // Odd chunk sizes so parts never line up with chunks.
        for (let o = 0, n = 1; o < data.length; o += n, n = (n * 7 + 13) % 300_000 + 1) yield data.subarray(o, o + n);
      }
      await s.putStream('big/stream.bin', odd());
      assert.equal((await s.head('big/stream.bin'))?.size, data.length);
      assert.ok((await s.get('big/stream.bin')).equals(data));
      if (h.name === 's3rver') {
        assert.equal(sent.filter((c) => c === 'UploadPartCommand').length, 3, sent.join(' '));
        assert.equal(sent.filter((c) => c === 'CompleteMultipartUploadCommand').length, 1);
      }
    },
  },
  {
    name: 'put: a Buffer larger than the part size goes multipart on S3, bytes exact',
    ownClient: true,
    async run(h, s) {
      const sent = recordCommands(s);
      const data = pattern(9 * MiB, 11);
      await s.put('big/buffer.bin', data);
      assert.ok((await s.get('big/buffer.bin')).equals(data));
      if (h.name === 's3rver') assert.equal(sent.filter((c) => c === 'UploadPartCommand').length, 2, sent.join(' '));
    },
  },
  {
    name: 'delete: missing keys are fine; deleted keys are gone from head, get and list',
    async run(_h, s) {
      await s.put('d/1', '1');
      await s.put('d/2', '2');
      await s.put('keep', 'k');
      await s.delete(['d/1', 'missing', 'd/nested/missing']);
      await s.delete([]);
      assert.equal(await s.head('d/1'), null);
      await expectError(s.get('d/1'), 'not-found');
      assert.deepEqual(await keys(s), ['d/2', 'keep']);
      await s.delete(['d/2']);
      assert.deepEqual(await keys(s), ['keep']);
    },
  },
  {
    name: 'keys that could escape the root are refused as invalid',
    async run(_h, s) {
      for (const bad of ['../x', 'a/../../x', '/abs', 'a/..', '']) {
        await expectError(s.put(bad, 'x'), 'invalid');
        await expectError(s.get(bad), 'invalid');
        await expectError(s.delete([bad]), 'invalid');
        if (bad !== '') await expectError(s.head(bad), 'invalid');
      }
      await expectError(keys(s, '../'), 'invalid');
    },
  },
  {
    name: 'a missing bucket is an actionable error on S3; a missing folder is just empty locally',
    async run(h) {
      const s = h.missingRoot();
      if (h.name === 'local') {
        assert.deepEqual(await keys(s), []);
        assert.equal(await s.head('x'), null);
        await expectError(s.get('x'), 'not-found');
        return;
      }
      const msg = /bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+ \(create it, or fix /;
      await expectError(keys(s), 'no-bucket', msg);
      await expectError(s.get('x'), 'no-bucket', msg);
      await expectError(s.head('x'), 'no-bucket', msg);
      await expectError(s.put('x', 'y'), 'no-bucket', msg);
    },
  },
  {
    name: 'bad credentials: rejected with a message that names the fix and never the secret',
    only: 's3rver',
    async run(h) {
      const secret = 'not-the-secret-4f9a';
      const s = await h.fresh({ credentials: { accessKeyId: 'AKIAWRONGKEY0000', secretAccessKey: secret } });
      // One request at a time: a rejection not awaited yet would count as unhandled.
      for (const request of [() => keys(s), () => s.get('x'), () => s.put('x', 'y')]) {
        const err = await expectError(request(), 'access-denied', /S3 rejected the credentials for s3:\/\/contract\/.* \(InvalidAccessKeyId; check AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY or the Secret\)/);
        assert.ok(!inspect(err, { depth: 10 }).includes(secret), 'the secret leaked into the error');
        assert.equal(err.transient, false);
      }
      await expectError(s.head('x'), 'access-denied', /check AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY/);
    },
  },
  {
    name: 'unreachable endpoint: retried, then an unreachable error naming the endpoint',
    only: 's3rver',
    async run(h) {
      const sleeps: number[] = [];
      const s = await h.fresh({ endpoint: 'http://127.0.0.1:1', retry: { maxAttempts: 3 }, clock: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, now: Date.now } });
      const err = await expectError(s.get('x'), 'unreachable', /^cannot reach S3 endpoint http:\/\/127\.0\.0\.1:1: connection refused \(read s3:\/\/contract\/.*x after 3 attempts/);
      assert.equal(err.transient, true);
      assert.deepEqual(sleeps, [50, 100]);
    },
  },
  {
    name: 'concurrency is bounded per storage instance',
    only: 's3rver',
    async run(h) {
      const s = await h.fresh({ maxConcurrency: 3, clients: new S3ClientPool() });
      await s.put('c', pattern(64 * 1024));
      let inFlight = 0;
      let peak = 0;
      (s as S3Storage).client.middlewareStack.add((next) => async (args) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      }, { step: 'finalizeRequest', name: 'count-in-flight' });
      await Promise.all(Array.from({ length: 40 }, () => s.get('c')));
      assert.equal(peak, 3);
    },
  },
];

function runSuite(h: () => Harness): void {
  for (const c of cases) {
    it(c.name, async (t) => {
      const harness = h();
      if (c.only && c.only !== harness.name) {
        t.skip(`${harness.name}: not applicable`);
        return;
      }
      await c.run(harness, await harness.fresh(c.ownClient ? { clients: new S3ClientPool() } : undefined));
    });
  }
}

describe('storage contract: local folder', () => {
  const dirs: string[] = [];
  runSuite(() => ({
    name: 'local',
    async fresh(opts) {
      const d = tempDir('slake-storage-');
      dirs.push(d);
      return openStorage(`${d}/root`, opts);
    },
    missingRoot: () => openStorage(`${tempDir('slake-storage-')}/does/not/exist`),
  }));
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
});

describe('storage contract: S3 (s3rver)', () => {
  let s3: TestS3;
  let n = 0;
  const opened: Storage[] = [];
  before(async () => {
    s3 = await startTestS3();
    await s3.createBucket('contract');
  });
  after(async () => {
    for (const s of opened) if (s instanceof S3Storage) s.destroy();
    await s3.stop();
  });
  runSuite(() => ({
    name: 's3rver',
    async fresh(opts) {
      const s = openStorage(`s3://contract/case${++n}/`, { env: s3.env, ...opts });
      opened.push(s);
      return s;
    },
    missingRoot: () => {
      const s = openStorage('s3://no-such-bucket/x/', { env: s3.env, retry: { maxAttempts: 1 } });
      opened.push(s);
      return s;
    },
  }));
});
