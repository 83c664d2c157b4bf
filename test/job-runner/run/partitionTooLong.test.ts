// A song whose artist_id cannot be a folder name (`artist_id=<escaped>` over 255 bytes) is
// quarantined at scan as `partition-value-too-long`: the run succeeds, the record is counted and in
// the rejects file, and it takes no part in songs, artists or the join. (It used to fail the build
// shard permanently.) The DuckDB reference applies the same rule (the hostile set's songs at and past
// the limit, hostile.test.ts); this test checks one lake on its own terms, read back by DuckDB,
// including a quarantined record that would otherwise have won its song_id's dedup.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal, type LocalRunResult } from '../../../job-runner/src/index.js';
import { tempDir } from '../../helpers/paths.js';
import { openDuck, sqlPath, type Duck } from '../parquet/duck.js';
import { putFile, walk } from './lakeFiles.js';

const root = tempDir('slake-longpart-');
const lake = join(root, 'lake');
// 82 slashes escape to 246 bytes: `artist_id=` + 246 = 256, one over. The same song_id also appears
// in a later file with a short artist_id: the quarantined record must not win the dedup.
const LONG = '/'.repeat(82);
const FITS = 'A'.repeat(245); // exactly 255 bytes: kept
let result: LocalRunResult;
let duck: Duck;

const put = (key: string, body: string) => putFile(join(root, 'raw'), key, body);

before(async () => {
  const song = (o: Record<string, unknown>) => JSON.stringify({ num_songs: 1, artist_latitude: null, artist_longitude: null, artist_location: '', year: 2001, duration: 200, ...o });
  put('song_data/A/1.json', song({ song_id: 'SOLONG', title: 'Too Long', artist_id: LONG, artist_name: 'Slasher' }));
  put('song_data/A/2.json', song({ song_id: 'SOLONG', title: 'Short Copy', artist_id: 'ARSHORT', artist_name: 'Shorty' }));
  put('song_data/A/3.json', song({ song_id: 'SOFITS', title: 'Just Fits', artist_id: FITS, artist_name: 'Long Name' }));
  const event = (o: Record<string, unknown>) =>
    JSON.stringify({ auth: 'Logged In', firstName: 'Ada', gender: 'F', lastName: 'L', level: 'free', location: 'X', method: 'PUT', page: 'NextSong', registration: 1, status: 200, userAgent: 'UA', userId: '1', sessionId: 1, ...o });
  put('log_data/2018/11/e.json', [
    event({ ts: 1541105830796, itemInSession: 0, song: 'Too Long', artist: 'Slasher', length: 200 }),
    event({ ts: 1541105830797, itemInSession: 1, song: 'Just Fits', artist: 'Long Name', length: 200 }),
  ].join('\n'));
  result = await runLocal({ songs: join(root, 'raw', 'song_data'), logs: join(root, 'raw', 'log_data'), output: lake, parallel: 1, executor: 'thread', quality: { maxRejectRatio: 1 } });
  duck = await openDuck();
});
after(() => duck?.close());

const files = (name: string) => `read_parquet(${sqlPath(join(lake, name, '**', '*.parquet'))}`;

test('partition-value-too-long: the run succeeds and counts the record as rejected', () => {
  const r = result.manifest.records;
  assert.deepEqual({ read: r.read, accepted: r.accepted, rejected: r.rejected }, { read: 5, accepted: 4, rejected: 1 });
  assert.deepEqual({ ...r.rejectedByReason }, { 'partition-value-too-long': 1 });
});

test('partition-value-too-long: the record is quarantined verbatim with its source and reason', () => {
  const lines = walk(join(lake, '_lake', 'runs', result.runId, 'rejects'))
    .flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''))
    .map((l) => JSON.parse(l) as { source: string; line: number; offset: number; reason: string; raw: string });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.source, 'A/1.json');
  assert.equal(lines[0]!.reason, 'partition-value-too-long');
  assert.equal(lines[0]!.line, 1);
  assert.equal((JSON.parse(lines[0]!.raw) as { artist_id: string }).artist_id, LONG);
});

test('partition-value-too-long: the record takes no part in songs, artists or the join', async () => {
  assert.deepEqual(await duck.rows(`SELECT song_id, title, artist_id FROM ${files('songs')}, hive_partitioning = true, hive_types = {'year': INTEGER, 'artist_id': VARCHAR}) ORDER BY song_id`), [
    { song_id: 'SOFITS', title: 'Just Fits', artist_id: FITS },
    { song_id: 'SOLONG', title: 'Short Copy', artist_id: 'ARSHORT' },
  ]);
  assert.deepEqual((await duck.rows(`SELECT artist_id FROM ${files('artists')}) ORDER BY artist_id`)).map((r) => r.artist_id), [FITS, 'ARSHORT']);
  const plays = await duck.rows(`SELECT song_id FROM ${files('songplays')}) ORDER BY start_time`);
  assert.deepEqual(plays.map((p) => p.song_id), [null, 'SOFITS']);
  // The 255-byte folder exists; no folder name is longer.
  const folders = walk(join(lake, 'songs')).filter((p) => p.endsWith('.parquet')).map((p) => p.split('/').find((s) => s.startsWith('artist_id='))!);
  assert.ok(folders.includes(`artist_id=${FITS}`), folders.join('\n'));
  for (const f of folders) assert.ok(Buffer.byteLength(f) <= 255, f);
});
