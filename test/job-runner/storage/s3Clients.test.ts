// Shared S3 clients: storages with the same client configuration use one S3Client, other
// configurations (a rotated Secret) get their own, and a client is destroyed when the last storage
// holding it is closed. Against real S3 servers (s3rver, and the dev cluster's embedded S3 where
// the secret must be right), plus the memory an operator with 200 lake jobs saves.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it, test } from 'node:test';
import { resolveS3Settings } from '../../../job-runner/src/storage/options.js';
import { openStorage, type OpenStorageOptions } from '../../../job-runner/src/storage/open.js';
import { S3ClientPool, s3ClientPlan, sharedS3Clients } from '../../../job-runner/src/storage/s3Clients.js';
import { S3Storage } from '../../../job-runner/src/storage/s3Storage.js';
import { StorageError, type Storage } from '../../../job-runner/src/storage/storage.js';
import { repoRoot } from '../../helpers/paths.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';
import type { ClientMemoryResult } from './clientMemory.js';

const run = promisify(execFile);
const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

test('s3ClientPlan: one key per client configuration; retries, concurrency and parts are per storage', () => {
  const base = { endpoint: 'http://minio:9000', region: 'eu-west-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } };
  const key = (o: OpenStorageOptions) => s3ClientPlan(resolveS3Settings({ ...base, ...o }, {})).key;
  const table: [string, OpenStorageOptions, 'same' | 'other'][] = [
    ['nothing changed', {}, 'same'],
    ['maxConcurrency', { maxConcurrency: 3 }, 'same'],
    ['retry policy', { retry: { maxAttempts: 2, baseDelayMs: 1 } }, 'same'],
    ['part size and concurrency', { partSize: 6 * 1024 * 1024, partConcurrency: 1 }, 'same'],
    ['source named in errors', { source: 'spec.output' }, 'same'],
    ['endpoint', { endpoint: 'http://minio-2:9000' }, 'other'],
    ['region', { region: 'us-east-1' }, 'other'],
    ['path-style addressing', { forcePathStyle: false }, 'other'],
    ['access key id', { credentials: { ...base.credentials, accessKeyId: 'AKIAOTHER' } }, 'other'],
    ['secret (a rotated Secret)', { credentials: { ...base.credentials, secretAccessKey: 'rotated' } }, 'other'],
    ['a session token', { credentials: { ...base.credentials, sessionToken: 'token-1' } }, 'other'],
  ];
  const k0 = key({});
  for (const [name, change, want] of table) {
    const k = key(change);
    if (want === 'same') assert.equal(k, k0, name);
    else assert.notEqual(k, k0, name);
    for (const secret of ['wJalrXUtnFEMI', 'rotated', 'token-1']) assert.ok(!k.includes(secret), `${name}: the key shows a secret: ${k}`);
  }
  const t1 = key({ credentials: { ...base.credentials, sessionToken: 'token-1' } });
  const t2 = key({ credentials: { ...base.credentials, sessionToken: 'token-2' } });
  assert.notEqual(t1, t2, 'a refreshed session token is another client');
  // The SDK's default chain (no keys given) is one configuration of its own.
  assert.notEqual(s3ClientPlan(resolveS3Settings({ endpoint: base.endpoint, region: base.region }, {})).key, k0);
});

/** Counts destroy() calls of a real client without changing what it does. */
function watchDestroy(s: Storage): { readonly destroyed: number } {
  const client = (s as S3Storage).client;
  const original = client.destroy.bind(client);
  const seen = { destroyed: 0 };
  client.destroy = () => {
    seen.destroyed++;
    original();
  };
  return seen;
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('shared S3 clients (s3rver)', () => {
  let s3: TestS3;
  before(async () => {
    s3 = await startTestS3();
    await s3.createBucket('raw');
    await s3.createBucket('lake');
  });
  after(async () => {
    await s3.stop();
  });

  it('the three roots of a shard share one client, made on the first request', async () => {
    const pool = new S3ClientPool();
    // As the job-runner opens them: settings from the environment, one storage per root.
    const open = (uri: string) => openStorage(uri, { env: s3.env, source: uri, clients: pool }) as S3Storage;
    const [songs, logs, out] = [open('s3://raw/song_data/'), open('s3://raw/log_data/'), open('s3://lake/sparkify/')];
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 }, 'opening alone makes no client');
    await Promise.all([songs.put('A/TRA.json', '{"song_id":"S1"}'), logs.put('2018/11/e.json', '{"ts":1}\n'), out.put('_lake/x', 'x')]);
    assert.deepEqual(pool.stats, { clients: 1, leases: 3 });
    assert.equal(songs.client, logs.client);
    assert.equal(songs.client, out.client);
    // Busy on all three at once, through the one client: each storage's own limit still holds.
    await Promise.all(Array.from({ length: 30 }, (_, i) => [songs, logs, out][i % 3]!.put(`many/${i}`, String(i))));
    assert.deepEqual(await Promise.all([songs.get('many/0'), logs.get('many/1'), out.get('many/29')].map(async (p) => (await p).toString())), ['0', '1', '29']);
    for (const s of [songs, logs, out]) s.close();
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 });
    // Without a pool given, every storage of the process uses the shared one.
    const a = openStorage('s3://raw/song_data/', { env: s3.env }) as S3Storage;
    const b = openStorage('s3://lake/sparkify/', { env: s3.env, maxConcurrency: 4 }) as S3Storage;
    assert.equal(a.client, b.client);
    assert.ok(sharedS3Clients.stats.leases >= 2);
    a.close();
    b.close();
  });

  it('different credentials, endpoint or addressing: different clients', async () => {
    const pool = new S3ClientPool();
    const open = (o: OpenStorageOptions) => openStorage('s3://lake/x/', { env: s3.env, clients: pool, ...o }) as S3Storage;
    const base = open({});
    const others = [
      open({ credentials: { ...creds, secretAccessKey: 'S3RVER-rotated' } }),
      open({ credentials: { accessKeyId: 'OTHERKEY', secretAccessKey: 'S3RVER' } }),
      open({ credentials: { ...creds, sessionToken: 'session-1' } }),
      open({ endpoint: s3.endpoint.replace('127.0.0.1', 'localhost') }),
      open({ forcePathStyle: false }),
    ];
    const same = open({ maxConcurrency: 2, retry: { maxAttempts: 2 } });
    await base.put('k', 'v');
    assert.equal((await same.get('k')).toString(), 'v');
    const clients = new Set([base.client, ...others.map((s) => s.client)]);
    assert.equal(clients.size, 1 + others.length);
    assert.equal(same.client, base.client);
    assert.deepEqual(pool.stats, { clients: 6, leases: 7 });
    for (const s of [base, same, ...others]) s.close();
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 });
  });

  it('close: the last holder destroys the client, after its operations in flight; a closed storage leases again', async () => {
    const pool = new S3ClientPool();
    const a = openStorage('s3://lake/close-a/', { env: s3.env, clients: pool }) as S3Storage;
    const b = openStorage('s3://lake/close-b/', { env: s3.env, clients: pool }) as S3Storage;
    await a.put('k', 'a');
    const big = Buffer.alloc(2 * 1024 * 1024, 7);
    await b.put('big', big);
    const first = a.client;
    const watch = watchDestroy(a);
    a.close();
    a.close(); // idempotent
    assert.equal(watch.destroyed, 0, 'b still holds it');
    assert.deepEqual(pool.stats, { clients: 1, leases: 1 });
    // b closes while a stream of its is open: the client lives until the stream ends.
    const stream = await b.stream('big');
    b.close();
    assert.equal(watch.destroyed, 0, 'a stream in flight keeps the client');
    let got = 0;
    for await (const chunk of stream) got += (chunk as Buffer).length;
    assert.equal(got, big.length);
    assert.equal(watch.destroyed, 1, 'the stream ended: the last lease went, the client was destroyed');
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 });
    // Used again after close: a new client, and the storage works as before.
    assert.equal((await a.get('k')).toString(), 'a');
    assert.notEqual(a.client, first);
    assert.deepEqual(pool.stats, { clients: 1, leases: 1 });
    a.close();
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 });
  });

  it('a stream destroyed before its first read gives its request slot back', async () => {
    const pool = new S3ClientPool();
    const s = openStorage('s3://lake/unread/', { env: s3.env, clients: pool, maxConcurrency: 1 }) as S3Storage;
    await s.put('obj', Buffer.alloc(300_000, 1));
    for (let i = 0; i < 3; i++) {
      const r = await s.stream('obj');
      r.destroy();
      await new Promise((resolve) => r.once('close', resolve));
    }
    // With the one slot lost (as before), this would wait forever.
    assert.equal((await within(5_000, 'get after unread streams', s.get('obj'))).length, 300_000);
    const empty = await s.stream('obj', { start: 10, end: 10 });
    empty.destroy();
    s.close();
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 }, 'no operation left counted as in flight');
  });

  it('list, putStream and delete count as in flight until they finish', async () => {
    const pool = new S3ClientPool();
    const s = openStorage('s3://lake/inflight/', { env: s3.env, clients: pool }) as S3Storage;
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.put(`k${i}`, 'x')));
    const listing = s.list()[Symbol.asyncIterator]();
    assert.equal((await listing.next()).value?.key, 'k0');
    s.close();
    assert.equal(pool.stats.clients, 1, 'a listing half read holds the client');
    await listing.return?.();
    assert.equal(pool.stats.clients, 0);
    const upload = s.putStream('streamed', Readable.from([Buffer.from('a'), Buffer.from('b')]));
    s.close();
    await upload;
    assert.equal(pool.stats.clients, 0, 'released when the upload ended');
    const deleting = s.delete(['k0', 'k1']);
    s.close();
    await deleting;
    assert.equal(pool.stats.clients, 0);
    assert.equal((await s.get('streamed')).toString(), 'ab');
    s.close();
  });

  it('a storage dropped without close gives its client back when it is collected', async () => {
    // Its own process: collection needs --expose-gc, and the shared pool must be this test's alone.
    const script = `
      const { openStorage } = await import(${JSON.stringify(join(repoRoot, 'dist/job-runner/src/storage/open.js'))});
      const { sharedS3Clients } = await import(${JSON.stringify(join(repoRoot, 'dist/job-runner/src/storage/s3Clients.js'))});
      const env = ${JSON.stringify(s3.env)};
      await (async () => {
        const s = openStorage('s3://lake/dropped/', { env });
        await s.put('k', 'v');
      })();
      const held = sharedS3Clients.stats.clients;
      for (let i = 0; i < 20 && sharedS3Clients.stats.clients > 0; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 25));
      }
      console.log(JSON.stringify({ held, after: sharedS3Clients.stats.clients }));`;
    const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    assert.deepEqual(JSON.parse(stdout.trim()), { held: 1, after: 0 });
  });

  it('memory: 200 lake jobs × 3 roots with one Secret hold one client, not 600', async (t) => {
    const measure = async (mode: 'per-storage' | 'shared'): Promise<ClientMemoryResult> => {
      const { stdout } = await run(process.execPath, ['--expose-gc', join(repoRoot, 'dist/test/job-runner/storage/clientMemory.js'), s3.endpoint, mode, '200'], {
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      return JSON.parse(stdout.trim()) as ClientMemoryResult;
    };
    const before = await measure('per-storage');
    const shared = await measure('shared');
    t.diagnostic(`one client per storage (before): ${JSON.stringify(before)}`);
    t.diagnostic(`shared clients (now): ${JSON.stringify(shared)}`);
    assert.equal(before.clients, 600);
    assert.equal(shared.clients, 1);
    assert.equal(before.clientsAfterClose, 0);
    assert.equal(shared.clientsAfterClose, 0);
    // Measured 18.2 vs 1.0 MiB of heap: each client is ~31 KiB, a storage without one ~1.7 KiB.
    assert.ok(before.heapMiB > 10, `600 clients took only ${before.heapMiB} MiB: is the baseline wrong?`);
    assert.ok(shared.heapMiB * 5 < before.heapMiB, `shared ${shared.heapMiB} MiB vs ${before.heapMiB} MiB before`);
  });
});

describe('credential rotation (embedded S3: the secret is verified)', () => {
  let s3: TestS3;
  before(async () => {
    s3 = await startTestS3({ variant: 'fast' });
    await s3.createBucket('lake');
  });
  after(async () => {
    await s3.stop();
  });

  it('a rotated secret gets a new client at once; the old one is destroyed when its storages close', async () => {
    const pool = new S3ClientPool();
    const open = (uri: string, secretAccessKey: string) => openStorage(uri, { endpoint: s3.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey }, clients: pool }) as S3Storage;
    const roots = ['s3://lake/songs/', 's3://lake/logs/', 's3://lake/out/'];
    // The Secret holds a secret the server no longer accepts (it was rotated there first).
    const stale = roots.map((uri) => open(uri, 'S3RVER-expired'));
    for (const s of stale) {
      await assert.rejects(s.put('k', 'v'), (err: unknown) => err instanceof StorageError && err.kind === 'access-denied' && !err.message.includes('S3RVER-expired'));
    }
    const oldClient = watchDestroy(stale[0]!);
    assert.deepEqual(pool.stats, { clients: 1, leases: 3 });
    // The Secret is updated: storages opened with it get a client of their own and work at once.
    const fresh = roots.map((uri) => open(uri, 'S3RVER'));
    for (const s of fresh) await s.put('k', s.root);
    assert.notEqual(fresh[0]!.client, stale[0]!.client);
    assert.equal(fresh[0]!.client, fresh[2]!.client);
    assert.deepEqual(pool.stats, { clients: 2, leases: 6 });
    // The old storages are given back one by one; the old client goes with the last of them.
    stale[0]!.close();
    stale[1]!.close();
    assert.equal(oldClient.destroyed, 0);
    stale[2]!.close();
    assert.equal(oldClient.destroyed, 1);
    assert.deepEqual(pool.stats, { clients: 1, leases: 3 });
    for (const s of fresh) assert.equal((await s.get('k')).toString(), s.root);
    for (const s of fresh) s.close();
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 });
  });
});
