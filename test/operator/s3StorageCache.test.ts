// The operator's storages (operator/src/s3/storages.ts) over the engine's shared S3 clients, against
// the dev cluster's embedded S3 (which verifies the secret): lake jobs with one Secret share one
// client; a rotated Secret gets new storages and a new client at once, and the old client is
// destroyed once its storages have been idle; the size bound and shutdown close what they drop.
// And the operator's entrypoint keeps the AWS SDK's Node-version warning out of pod logs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it, test } from 'node:test';
import { openStorage } from '../../job-runner/src/storage/open.js';
import { S3ClientPool } from '../../job-runner/src/storage/s3Clients.js';
import type { S3Storage } from '../../job-runner/src/storage/s3Storage.js';
import { StorageError } from '../../job-runner/src/storage/storage.js';
import { StorageCache, STORAGE_MAX_CONCURRENCY, type S3Settings } from '../../operator/src/s3/storages.js';
import { repoRoot } from '../helpers/paths.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';

const run = promisify(execFile);

describe('operator storages over shared S3 clients (embedded S3)', () => {
  let s3: TestS3;
  before(async () => {
    s3 = await startTestS3({ variant: 'fast' });
    await s3.createBucket('raw');
    await s3.createBucket('lake');
  });
  after(async () => {
    await s3.stop();
  });

  const settings = (secretAccessKey: string): S3Settings => ({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey } });
  /** The cache as start.ts makes it, with a pool and a clock of the test's own. */
  const cache = (o: { max?: number; idleMs?: number } = {}) => {
    const pool = new S3ClientPool();
    const clock = { t: 0 };
    const storages = new StorageCache((uri, s) => openStorage(uri, { ...s, maxConcurrency: STORAGE_MAX_CONCURRENCY, clients: pool }), { ...o, now: () => clock.t });
    return { pool, clock, storages };
  };
  const roots = (j: number) => [`s3://raw/job${j}/song_data/`, `s3://raw/job${j}/log_data/`, `s3://lake/job${j}/`];

  it('20 lake jobs with one Secret: 60 storages, one client', async () => {
    const { pool, storages } = cache();
    const s = settings('S3RVER');
    for (let j = 0; j < 20; j++) for (const uri of roots(j)) await storages.get(uri, s).put('_lake/probe', uri);
    assert.equal(storages.size, 60);
    assert.deepEqual(pool.stats, { clients: 1, leases: 60 });
    assert.equal(storages.get(roots(3)[1]!, s), storages.get(roots(3)[1]!, { ...s }), 'the same storage for the same root and settings');
    assert.equal((await storages.get(roots(7)[2]!, s).get('_lake/probe')).toString(), roots(7)[2]);
    storages.close();
    assert.equal(storages.size, 0);
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 }, 'shutdown destroys the client');
  });

  it('a rotated Secret: new storages and a new client at once; the old client goes once its storages are idle', async () => {
    const idleMs = 60_000;
    const { pool, clock, storages } = cache({ idleMs });
    const before = settings('S3RVER-revoked');
    const rotated = settings('S3RVER');
    // The secret in the lake job's Secret was revoked on the server: every request is refused.
    const old = roots(1).map((uri) => storages.get(uri, before));
    for (const st of old) {
      await assert.rejects(st.get('x'), (err: unknown) => err instanceof StorageError && err.kind === 'access-denied' && !err.message.includes('S3RVER-revoked'));
    }
    const oldClient = (old[0] as S3Storage).client;
    let destroyed = 0;
    const destroy = oldClient.destroy.bind(oldClient);
    oldClient.destroy = () => {
      destroyed++;
      destroy();
    };
    // The Secret is updated; the next reconciles read it and ask for the same roots.
    clock.t += 10_000;
    const now = roots(1).map((uri) => storages.get(uri, rotated));
    for (const st of now) await st.put('k', st.root);
    assert.notEqual((now[0] as S3Storage).client, oldClient);
    assert.deepEqual(pool.stats, { clients: 2, leases: 6 });
    // Reconciles keep using the new storages; the old ones are not asked for again.
    for (let t = 0; t < 8; t++) {
      clock.t += idleMs / 4;
      for (const uri of roots(1)) storages.get(uri, rotated);
    }
    assert.equal(destroyed, 1, 'the old storages were closed after idleMs and the old client destroyed');
    assert.deepEqual(pool.stats, { clients: 1, leases: 3 });
    assert.equal(storages.size, 3);
    for (const st of now) assert.equal((await st.get('k')).toString(), st.root);
    storages.close();
  });

  it('the size bound closes the least recently used; a closed storage still held keeps working', async () => {
    const { pool, storages } = cache({ max: 2 });
    const s = settings('S3RVER');
    const [ua, ub, uc] = roots(2);
    const a = storages.get(ua!, s);
    await a.put('k', 'a');
    await storages.get(ub!, s).put('k', 'b');
    assert.deepEqual(pool.stats, { clients: 1, leases: 2 });
    await storages.get(uc!, s).put('k', 'c'); // asking for c closed a, the least recently used
    assert.equal(storages.size, 2);
    assert.deepEqual(pool.stats, { clients: 1, leases: 2 });
    // A reconcile that still holds a: it takes a client again and works.
    assert.equal((await a.get('k')).toString(), 'a');
    assert.deepEqual(pool.stats, { clients: 1, leases: 3 });
    a.close?.();
    storages.close();
    assert.deepEqual(pool.stats, { clients: 0, leases: 0 });
  });
});

test("the operator's entrypoint turns the AWS SDK's Node-version warning off, unless the environment says otherwise", async (t) => {
  const main = join(repoRoot, 'dist/operator/src/main.js');
  // Load the entrypoint as the image does (with --help, so it returns at once), then make an S3
  // client in the same process: the SDK warns when its first client is made, if it warns at all.
  const script = (loadMain: boolean) => `
    import { createRequire } from 'node:module';
    process.on('warning', (w) => console.log('WARNING ' + w.message.split('\\n')[0]));
    if (${loadMain}) {
      process.argv = [process.argv[0], ${JSON.stringify(main)}, '--help'];
      await import(${JSON.stringify(main)});
    }
    const { S3Client } = createRequire(${JSON.stringify(join(repoRoot, 'package.json'))})('@aws-sdk/client-s3');
    new S3Client({ region: 'us-east-1' }).destroy();
    await new Promise((r) => setTimeout(r, 50));
    console.log('env=' + process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED);`;
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const go = async (loadMain: boolean, extra: Record<string, string> = {}) =>
    (await run(process.execPath, ['--input-type=module', '-e', script(loadMain)], { env: { ...env, ...extra } })).stdout;
  const withMain = await go(true);
  assert.match(withMain, /usage: sparkify-lake operator/);
  assert.doesNotMatch(withMain, /WARNING/);
  assert.match(withMain, /env=true/);
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    t.diagnostic('Node ≥ 22: the SDK never warns, the controls below do not apply');
    return;
  }
  // The controls: without the entrypoint the SDK warns, and an explicit value is respected.
  assert.match(await go(false), /WARNING NodeVersionSupportWarning/);
  const explicit = await go(true, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
  assert.match(explicit, /WARNING NodeVersionSupportWarning/);
  assert.match(explicit, /env=false/);
});
