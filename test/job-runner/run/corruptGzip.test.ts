// Corrupt .gz logs end to end (docs/schema-on-read.md, "gzip"): a corrupt object is quarantined
// whole, so the lake built with it equals the lake built without it, plus one corrupt-gzip reject
// naming it. The corrupt objects: 64 seeded bytes overwritten at three places each at gzip levels 1
// and 9 (most only caught by the CRC at the end, after megabytes of garbage), a bad CRC-32, a bad
// ISIZE, a damaged header, bytes that are not gzip. Beside them a truncated object keeps its complete
// lines. Built locally (one GET held in memory per object) and through real S3 with a staging budget
// so small that every .gz is read with two GETs; both equal the engine's lake without the corrupt
// objects and the DuckDB reference, which implements the same rule on its own.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { constants as zc, gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { runLocal, type LocalRunResult } from '../../../job-runner/src/index.js';
import { buildReferenceLake, type ReferenceLake } from '../../helpers/referenceLake.js';
import { assertLakesEqual } from '../../helpers/compareLakes.js';
import { downloadPrefix, startTestS3, type TestS3 } from '../../helpers/s3.js';
import { tempDir } from '../../helpers/paths.js';
import { cli, lastJson, putFile, walk } from './lakeFiles.js';
import { seeded } from '../read/memoryStorage.js';

const root = tempDir('slake-gzcorrupt-');
const withCorrupt = join(root, 'with');
const withoutCorrupt = join(root, 'without');
/** --staging-memory of the S3 run: its in-memory gzip bound is a sixteenth, 64 KiB. */
const SMALL_STAGING = 1024 * 1024;
const rand = seeded(20260203);


/** Both input folders get `key`, unless it is corrupt. */
const putBoth = (key: string, body: string | Buffer) => {
  putFile(withCorrupt, key, body);
  putFile(withoutCorrupt, key, body);
};

/** Event lines of users that appear in no other object: if any line were read, a table would show it. */
function events(file: number, lines: number): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const user = file * 1000 + (i % 50);
    const song = i % 7 === 0 ? { song: 'Known Song', artist: 'Known Artist', length: 200 } : { song: `S${file}-${i}`, artist: `A${i % 40}`, length: 150 + (i % 100) };
    out.push(JSON.stringify({ auth: 'Logged In', firstName: `F${user}`, gender: user % 2 ? 'F' : 'M', itemInSession: i, lastName: `L${user}`, level: i % 3 ? 'free' : 'paid', location: 'Portland-South Portland, ME', method: 'PUT', page: i % 5 ? 'NextSong' : 'Home', registration: 1540000000000, sessionId: file * 100 + Math.floor(i / 60), status: 200, ts: Date.UTC(2018, 10, 1 + (file % 28)) + i * 997, userAgent: 'Mozilla/5.0', userId: String(user), ...song }));
  }
  return Buffer.from(out.join('\n') + '\n');
}

function damaged(gz: Buffer, f: (b: Buffer) => void): Buffer {
  const b = Buffer.from(gz);
  f(b);
  try {
    gunzipSync(b);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') return b;
  }
  throw new Error('the damage was not detected by zlib: choose another seed');
}

const corruptKeys: string[] = [];
let local: LocalRunResult;
let clean: LocalRunResult;
let reference: ReferenceLake;
let cleanReference: ReferenceLake;
let s3: TestS3 | undefined;

before(async () => {
  putBoth('song_data/A/SOKNOWN.json', JSON.stringify({ song_id: 'SOKNOWN', title: 'Known Song', artist_id: 'ARKNOWN', artist_name: 'Known Artist', year: 2001, duration: 200.5, num_songs: 1 }));
  putBoth('log_data/2018/11/plain.json', events(1, 2000));
  putBoth('log_data/2018/11/intact.json.gz', gzipSync(events(2, 6000)));
  const cut = gzipSync(events(3, 8000));
  putBoth('log_data/2018/11/truncated.json.gz', cut.subarray(0, Math.floor(cut.length * (0.5 + 0.4 * rand()))));

  const corrupt = (key: string, body: Buffer) => {
    putFile(withCorrupt, `log_data/${key}`, body);
    corruptKeys.push(key);
  };
  let file = 10;
  for (const level of [1, 9]) {
    for (let k = 0; k < 3; k++) {
      const gz = gzipSync(events(file, 4000), { level });
      const at = 10 + Math.floor(rand() * (gz.length - 18));
      corrupt(`2018/11/damaged-l${level}-${k}.json.gz`, damaged(gz, (b) => {
        for (let i = at; i < Math.min(at + 64, b.length); i++) b[i] = Math.floor(rand() * 256);
      }));
      file++;
    }
  }
  corrupt('2018/12/bad-crc.json.gz', damaged(gzipSync(events(file++, 4000)), (b) => (b[b.length - 8] ^= 0x01)));
  corrupt('2018/12/bad-isize.json.gz', damaged(gzipSync(events(file++, 4000)), (b) => (b[b.length - 3] ^= 0x01)));
  corrupt('2018/12/bad-header.json.gz', damaged(gzipSync(events(file++, 4000)), (b) => (b[2] = 9)));
  corrupt('2018/12/not-gzip.json.gz', events(file++, 10));
  corruptKeys.sort();

  const run = (dir: string) =>
    runLocal({ songs: join(dir, 'song_data'), logs: join(dir, 'log_data'), output: join(dir, 'lake'), parallel: 2, executor: 'thread', quality: { maxRejectRatio: 1 } });
  local = await run(withCorrupt);
  clean = await run(withoutCorrupt);
  reference = await buildReferenceLake({ songs: join(withCorrupt, 'song_data'), logs: join(withCorrupt, 'log_data') });
  cleanReference = await buildReferenceLake({ songs: join(withoutCorrupt, 'song_data'), logs: join(withoutCorrupt, 'log_data') });
});

after(async () => {
  reference?.close();
  cleanReference?.close();
  await s3?.stop();
});

interface Reject {
  source: string;
  line: number | null;
  offset: number;
  reason: string;
  raw: string;
  rawBytes: number;
  message?: string;
}

function rejectsOf(lake: string, runId: string): Reject[] {
  return walk(join(lake, '_lake', 'runs', runId, 'rejects'))
    .flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''))
    .map((l) => JSON.parse(l) as Reject);
}

/** The counts a run must have: the clean run's plus one read and one corrupt-gzip reject per corrupt object. */
function assertCountsWithCorrupt(records: LocalRunResult['manifest']['records']): void {
  const c = clean.manifest.records;
  const n = corruptKeys.length;
  assert.equal(records.read, records.accepted + records.rejected);
  assert.deepEqual(
    { read: records.read, accepted: records.accepted, rejected: records.rejected, byReason: { ...records.rejectedByReason } },
    { read: c.read + n, accepted: c.accepted, rejected: c.rejected + n, byReason: { ...c.rejectedByReason, 'corrupt-gzip': n } },
  );
}

test('corrupt gzip: every corrupt object is one record read and one reject; the rest is the clean run', () => {
  assert.equal(clean.manifest.records.rejectedByReason['corrupt-gzip'], undefined);
  assert.equal(clean.manifest.records.rejectedByReason['truncated-gzip'], 1);
  assertCountsWithCorrupt(local.manifest.records);
  assert.deepEqual({ ...local.manifest.records, rejectedByReason: { ...local.manifest.records.rejectedByReason } }, { ...reference.counts.total, rejectedByReason: { ...reference.counts.total.rejectedByReason } });
  assert.deepEqual({ ...clean.manifest.records, rejectedByReason: { ...clean.manifest.records.rejectedByReason } }, { ...cleanReference.counts.total, rejectedByReason: { ...cleanReference.counts.total.rejectedByReason } });
});

test('corrupt gzip: the lake equals the lake built without the corrupt objects, and both references', async () => {
  await assertLakesEqual(join(withCorrupt, 'lake'), join(withoutCorrupt, 'lake'));
  await assertLakesEqual(join(withCorrupt, 'lake'), reference);
  await assertLakesEqual(join(withCorrupt, 'lake'), cleanReference);
  // The truncated object's complete lines are in: its users reach the tables.
  const users = await reference.connection.runAndReadAll(`SELECT count(*) FROM ${reference.table('users')} WHERE user_id BETWEEN 3000 AND 3999`);
  assert.ok(Number(users.getRowsJS()[0]![0]) > 0);
});

test('corrupt gzip: each reject names its object at line 1, offset 0, with a message a person can act on', () => {
  const rejects = rejectsOf(join(withCorrupt, 'lake'), local.runId).filter((r) => r.reason === 'corrupt-gzip');
  assert.deepEqual(rejects.map((r) => r.source).sort(), corruptKeys);
  for (const r of rejects) {
    assert.deepEqual([r.line, r.offset], [1, 0], r.source);
    assert.match(r.message ?? '', /re-upload/, `${r.source}: the quarantine line says what to do`);
    const stored = readFileSync(join(withCorrupt, 'log_data', ...r.source.split('/')));
    if (r.rawBytes === stored.length) {
      // Nothing decoded: the raw head of the object.
      // (cut at 64 KiB, backed off to a character boundary)
      const cuts = [0, 1, 2, 3].map((k) => stored.subarray(0, Math.min(stored.length, 64 * 1024 - k)).toString('utf8'));
      assert.ok(cuts.includes(r.raw), r.source);
    } else {
      // Its first decoded bytes (for damage past the first blocks, the object's own first lines).
      assert.ok(r.rawBytes > 0 && Buffer.byteLength(r.raw) <= Math.min(r.rawBytes, 64 * 1024), r.source);
    }
  }
  const crc = rejects.find((r) => r.source.endsWith('bad-crc.json.gz'))!;
  const text = gunzipSync(readFileSync(join(withCorrupt, 'log_data', '2018', '12', 'bad-crc.json.gz')).subarray(0, -8), { finishFlush: zc.Z_SYNC_FLUSH });
  assert.equal(crc.rawBytes, text.length);
  assert.equal(crc.raw, text.subarray(0, 64 * 1024).toString('utf8'));
  assert.equal(crc.raw, reference.rejects.find((r) => r.source.endsWith('bad-crc.json.gz'))!.raw.slice(0, crc.raw.length));
});

test('corrupt gzip: through S3 with every .gz above the in-memory bound (two GETs), the same lake and counts', async () => {
  s3 = await startTestS3();
  await s3.createBucket('raw');
  await s3.createBucket('lake');
  for (const path of walk(withCorrupt).filter((p) => !p.startsWith(join(withCorrupt, 'lake')))) {
    const body = readFileSync(path);
    const key = relative(withCorrupt, path).split('\\').join('/');
    if (key.endsWith('.gz') && !key.endsWith('not-gzip.json.gz')) assert.ok(body.length > SMALL_STAGING / 16, `${key} (${body.length} bytes) must be above the bound`);
    await s3.client.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body, ContentLength: body.length }));
  }
  const r = await cli(['run', '--songs', 's3://raw/song_data/', '--logs', 's3://raw/log_data/', '--out', 's3://lake/gz', '--json', '--parallel', '2', '--staging-memory', String(SMALL_STAGING), '--max-reject-ratio', '1'], s3.env);
  assert.equal(r.code, 0, r.stderr);
  const summary = lastJson<{ runId: string; records: { read: number; rejected: number } }>(r.stdout);
  const dir = join(tempDir('slake-gzs3-'), 'gz');
  await downloadPrefix(s3, 'lake', 'gz/', dir);
  await assertLakesEqual(dir, join(withoutCorrupt, 'lake'));
  const manifest = JSON.parse(readFileSync(join(dir, '_lake', 'manifests', `${summary.runId}.json`), 'utf8')) as LocalRunResult['manifest'];
  assertCountsWithCorrupt(manifest.records);
  assert.deepEqual(rejectsOf(dir, summary.runId).filter((x) => x.reason === 'corrupt-gzip').map((x) => x.source).sort(), corruptKeys);
});
