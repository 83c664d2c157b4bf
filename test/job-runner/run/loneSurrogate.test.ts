// Lone surrogates. JSON.parse accepts an escape like "\ud800" without its pair, so the engine does
// too; but no UTF-8 output can hold one: staged Arrow data, Parquet strings, folder names and object
// keys all carry U+FFFD instead. The DuckDB reference cannot judge such lines (yyjson refuses them),
// so this test checks the lake on its own terms, read back by DuckDB: every accepted song is in the
// songs table (a song whose artist_id held a lone surrogate used to vanish: its partition, counted
// before staging, never matched its staged rows), and values that differ only by lone surrogate vs
// U+FFFD are one value everywhere downstream of the scan (docs/schema-on-read.md, "Decisions").
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { runLocal, type LocalRunResult } from '../../../job-runner/src/index.js';
import { tempDir } from '../../helpers/paths.js';
import { openDuck, sqlPath, type Duck } from '../parquet/duck.js';
import { putFile, readManifest, walk } from './lakeFiles.js';

const root = tempDir('slake-surrogate-');
const lake = join(root, 'lake');
let result: LocalRunResult;
let duck: Duck;

const put = (key: string, body: string) => putFile(join(root, 'raw'), key, body);

// Raw JSON text: JSON.stringify would write a lone surrogate as the same escape, but spell it out.
const songLine = (id: string, title: string, artistId: string, artistName: string) =>
  `{"song_id":"${id}","title":"${title}","artist_id":"${artistId}","artist_name":"${artistName}","year":2003,"duration":200}`;

before(async () => {
  put('song_data/A/1.json', songLine('SOLONE1', 'Half \\ud83d Heart', 'AR\\ud800', 'Lone'));
  put('song_data/A/2.json', songLine('SOLONE2', 'Replaced', 'AR\\ufffd', 'Replacement'));
  put('song_data/A/3.json', songLine('SOLONE3', 'Low Half', '\\udc00'.repeat(81) + 'AB', 'Low'));
  put('song_data/A/4.json', songLine('SOLONE4', 'Low Half Over', '\\udc00'.repeat(82), 'Low Over'));
  const event = (o: Record<string, unknown>) =>
    JSON.stringify({ auth: 'Logged In', firstName: 'Ada', gender: 'F', lastName: 'L', level: 'free', location: 'X', method: 'PUT', page: 'NextSong', registration: 1, status: 200, userAgent: 'UA', userId: '1', sessionId: 1, ...o });
  // The play names the song with U+FFFD where the song file had a lone surrogate.
  put('log_data/2018/11/e.json', event({ ts: 1541105830796, itemInSession: 0, song: 'Half \ufffd Heart', artist: 'Lone', length: 200 }));
  result = await runLocal({ songs: join(root, 'raw', 'song_data'), logs: join(root, 'raw', 'log_data'), output: lake, parallel: 1, executor: 'thread', quality: { maxRejectRatio: 1 } });
  duck = await openDuck();
});
after(() => duck?.close());

const files = (name: string) => `read_parquet(${sqlPath(join(lake, name, '**', '*.parquet'))}, hive_partitioning = true${name === 'songs' ? `, hive_types = {'year': INTEGER, 'artist_id': VARCHAR}` : ''})`;

test('lone surrogates: a lone surrogate counts 3 bytes (as U+FFFD) towards the folder-name limit', () => {
  const r = result.manifest.records;
  assert.deepEqual({ read: r.read, accepted: r.accepted, rejected: r.rejected, rejectedByReason: { ...r.rejectedByReason } }, {
    read: 5,
    accepted: 4,
    rejected: 1,
    rejectedByReason: { 'partition-value-too-long': 1 },
  });
});

test('lone surrogates: every accepted song is in the songs table, its lone surrogates read back as U+FFFD', async () => {
  assert.deepEqual(await duck.rows(`SELECT song_id, title, artist_id FROM ${files('songs')} ORDER BY song_id`), [
    { song_id: 'SOLONE1', title: 'Half \ufffd Heart', artist_id: 'AR\ufffd' },
    { song_id: 'SOLONE2', title: 'Replaced', artist_id: 'AR\ufffd' },
    { song_id: 'SOLONE3', title: 'Low Half', artist_id: '\ufffd'.repeat(81) + 'AB' },
  ]);
  assert.equal(readManifest(lake).tables.songs.rows, 3);
});

test('lone surrogates: a value and its U+FFFD twin are one partition, one artist, and match in the join', async () => {
  const folders = new Set(walk(join(lake, 'songs')).filter((p) => p.endsWith('.parquet')).map((p) => p.split('/').find((s) => s.startsWith('artist_id='))!));
  assert.deepEqual([...folders].sort(), ['artist_id=AR\ufffd', `artist_id=${'\ufffd'.repeat(81)}AB`]);
  assert.equal(result.manifest.tables.songs.partitions, 2);
  // The smallest source key wins the artist: A/1.json's "Lone" over A/2.json's "Replacement".
  assert.deepEqual(await duck.rows(`SELECT artist_id, name FROM ${files('artists')} ORDER BY artist_id`), [
    { artist_id: 'AR\ufffd', name: 'Lone' },
    { artist_id: '\ufffd'.repeat(81) + 'AB', name: 'Low' },
  ]);
  assert.deepEqual(await duck.rows(`SELECT song_id, artist_id FROM ${files('songplays')}`), [{ song_id: 'SOLONE1', artist_id: 'AR\ufffd' }]);
});
