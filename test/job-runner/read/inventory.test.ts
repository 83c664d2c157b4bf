// The input inventory: which keys are inputs, their order and ordinals, and the errors a person sees
// when the sources are wrong. Against the real Udacity sample (local) and s3rver.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { classifyInputKey, listInputs, type InputVerdict } from '../../../job-runner/src/read/inventory.js';
import { openStorage, type OpenStorageOptions } from '../../../job-runner/src/storage/open.js';
import { StorageError } from '../../../job-runner/src/storage/storage.js';
import type { RunSpec } from '../../../job-runner/src/run/types.js';
import { udacityLogs, udacitySongs } from '../../helpers/paths.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';

function spec(songs: string, logs: string): RunSpec {
  return {
    runId: 'r1',
    songs,
    logs,
    output: '/tmp/unused',
    sharding: { targetShardBytes: 1 << 28, maxShards: 10, perObjectCost: 1 << 16, splitBytes: 1 << 28 },
    quality: { maxRejectRatio: 0.01 },
    read: { maxLineBytes: 1 << 24, maxRejectSampleBytes: 1 << 16 },
    buckets: 4,
    createdAt: '2026-01-01T00:00:00.000Z',
    origin: 'cli',
  };
}

test('classifyInputKey', () => {
  const table: [string, number, InputVerdict][] = [
    ['A/B/C/TRABC.json', 10, { take: true, compressed: false }],
    ['2018/11/2018-11-01-events.json.gz', 10, { take: true, compressed: true }],
    ['x.jsonl', 1, { take: true, compressed: false }],
    ['x.NDJSON.GZ', 1, { take: true, compressed: true }],
    ['empty.json', 0, { take: true, compressed: false }],
    ['_SUCCESS', 0, { take: false, why: 'hidden' }],
    ['a/.DS_Store', 6, { take: false, why: 'hidden' }],
    ['a/._TRX.json', 6, { take: false, why: 'hidden' }],
    ['_temporary/0/part.json', 6, { take: false, why: 'hidden' }],
    ['song_data/', 0, { take: false, why: 'folder-marker' }],
    ['notes.txt', 3, { take: false, why: 'extension' }],
    ['x.json.bak', 3, { take: false, why: 'extension' }],
    ['x.gz', 3, { take: false, why: 'extension' }],
  ];
  for (const [key, size, want] of table) assert.deepEqual(classifyInputKey(key, size), want, key);
});

test('the Udacity sample: 71 songs then 30 logs, each sorted by key, ordinals 0..100', async () => {
  const inputs = await listInputs(spec(udacitySongs, udacityLogs), (uri) => openStorage(uri));
  assert.equal(inputs.length, 101);
  assert.deepEqual(inputs.map((i) => i.ordinal), Array.from({ length: 101 }, (_, i) => i));
  const songs = inputs.filter((i) => i.kind === 'song');
  const logs = inputs.filter((i) => i.kind === 'log');
  assert.equal(songs.length, 71);
  assert.equal(logs.length, 30);
  assert.ok(inputs.slice(0, 71).every((i) => i.kind === 'song'));
  assert.deepEqual(songs.map((s) => s.key), [...songs.map((s) => s.key)].sort());
  assert.equal(logs[0]!.key, '2018/11/2018-11-01-events.json');
  assert.ok(inputs.every((i) => i.size > 0 && !i.compressed));
});

test('overlapping roots are refused', async () => {
  await assert.rejects(listInputs(spec('s3://raw/', 's3://raw/log_data/'), (uri) => openStorage(uri, { env: {} })), (err: unknown) => err instanceof StorageError && err.kind === 'invalid' && /overlap/.test(err.message));
});

describe('listInputs on S3', () => {
  let s3: TestS3;
  const open = (extra: OpenStorageOptions = {}) => (uri: string) => openStorage(uri, { env: s3.env, retry: { maxAttempts: 2, baseDelayMs: 1 }, ...extra });
  before(async () => {
    s3 = await startTestS3();
    await s3.createBucket('raw');
    const raw = open()('s3://raw/');
    await raw.put('song_data/', '');
    await raw.put('song_data/B/TRB.json', '{"song_id":"B"}');
    await raw.put('song_data/A/TRA.json', '{"song_id":"A"}');
    await raw.put('song_data/_SUCCESS', '');
    await raw.put('song_data/.DS_Store', 'x');
    await raw.put('song_data/readme.txt', 'x');
    await raw.put('log_data/2018/11/b.json.gz', gzipSync('{"ts":1}'));
    await raw.put('log_data/2018/11/a.ndjson', '{"ts":1}');
    await raw.put('empty_data/notes.txt', 'x');
  });
  after(async () => s3.stop());

  it('takes inputs, skips the rest, sorts and numbers them', async () => {
    const inputs = await listInputs(spec('s3://raw/song_data', 's3://raw/log_data/'), open());
    assert.deepEqual(inputs, [
      { kind: 'song', key: 'A/TRA.json', size: 15, compressed: false, ordinal: 0 },
      { kind: 'song', key: 'B/TRB.json', size: 15, compressed: false, ordinal: 1 },
      { kind: 'log', key: '2018/11/a.ndjson', size: 8, compressed: false, ordinal: 2 },
      { kind: 'log', key: '2018/11/b.json.gz', size: gzipSync('{"ts":1}').length, compressed: true, ordinal: 3 },
    ]);
  });

  const errors: { name: string; songs: string; logs: string; opts?: OpenStorageOptions; kind: StorageError['kind']; message: RegExp }[] = [
    { name: 'no input under a root', songs: 's3://raw/song_data/', logs: 's3://raw/empty_data/', kind: 'not-found', message: /^no log input found under s3:\/\/raw\/empty_data\/ \(looked for \*\.json, \*\.jsonl, \*\.ndjson, optionally \.gz; it holds 1 other object, e\.g\. "notes\.txt"\)$/ },
    { name: 'an empty prefix', songs: 's3://raw/nothing/', logs: 's3://raw/log_data/', kind: 'not-found', message: /^no song input found under s3:\/\/raw\/nothing\/ .*it is empty\)$/ },
    { name: 'a missing bucket', songs: 's3://raw/song_data/', logs: 's3://missing-bucket/log_data/', kind: 'no-bucket', message: /^bucket "missing-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+ \(create it, or fix/ },
    { name: 'bad credentials', songs: 's3://raw/song_data/', logs: 's3://raw/log_data/', opts: { credentials: { accessKeyId: 'AKIANOPE', secretAccessKey: 'nope-nope' } }, kind: 'access-denied', message: /S3 rejected the credentials for s3:\/\/raw\// },
  ];
  for (const e of errors) {
    it(`error: ${e.name}`, async () => {
      await assert.rejects(listInputs(spec(e.songs, e.logs), open(e.opts)), (err: unknown) => {
        assert.ok(err instanceof StorageError, String(err));
        assert.equal(err.kind, e.kind, err.message);
        assert.match(err.message, e.message);
        return true;
      });
    });
  }
});
