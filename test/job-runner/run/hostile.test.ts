// The hostile input set end to end: tables equal to the DuckDB reference, conservation (read =
// accepted + rejected, per reason, equal to the reference's counts), and the quarantine: every
// rejected record in rejects/*.jsonl with its source, line, offset, reason and raw text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReferenceLake, type ReferenceLake } from '../../helpers/referenceLake.js';
import { assertLakesEqual } from '../../helpers/compareLakes.js';
import { tempDir } from '../../helpers/paths.js';
import { runLocal, type LocalRunResult } from '../../../job-runner/src/index.js';
import { openDuck, sqlPath } from '../parquet/duck.js';
import { HOSTILE_MAX_LINE_BYTES, LONG_ARTIST_IDS, NULL_LIKE_ARTIST_IDS, writeHostileInput } from './hostileInput.js';
import { assertExactlyCommitted, walk } from './lakeFiles.js';

const root = tempDir('slake-hostile-');
const input = writeHostileInput(join(root, 'raw'));
const lake = join(root, 'lake');
let reference: ReferenceLake;
let result: LocalRunResult;

before(async () => {
  reference = await buildReferenceLake(input, { maxLineBytes: HOSTILE_MAX_LINE_BYTES });
  result = await runLocal({
    songs: input.songs,
    logs: input.logs,
    output: lake,
    parallel: 2,
    executor: 'thread',
    quality: { maxRejectRatio: 1 },
    read: { maxLineBytes: HOSTILE_MAX_LINE_BYTES },
  });
});
after(() => reference?.close());

test('hostile: every table equals the DuckDB reference', async () => {
  await assertLakesEqual(lake, reference);
  assertExactlyCommitted(lake);
});

test('hostile: conservation holds and the counts equal the reference, reason by reason', () => {
  const r = result.manifest.records;
  assert.equal(r.read, r.accepted + r.rejected);
  assert.deepEqual({ ...r, rejectedByReason: { ...r.rejectedByReason } }, { ...reference.counts.total, rejectedByReason: { ...reference.counts.total.rejectedByReason } });
  for (const reason of ['line-too-long', 'invalid-json', 'not-an-object', 'missing-song_id', 'partition-value-too-long', 'missing-ts', 'invalid-ts', 'missing-user-id', 'truncated-gzip', 'corrupt-gzip']) {
    assert.ok((r.rejectedByReason[reason] ?? 0) > 0, `the hostile set exercises ${reason}`);
  }
  // The reasons whose edges the set places exactly, counted on their own (the reference agrees above).
  const exact = (reasons: Record<string, number>) => ({
    'partition-value-too-long': reasons['partition-value-too-long'], // the three "Over" artist_ids, not the five "AtLimit" ones
    'line-too-long': reasons['line-too-long'], // the 3 MiB line and the line one byte over; not the one at the limit with its \r
    'truncated-gzip': reasons['truncated-gzip'], // the cut stream; not the empty .gz
    'corrupt-gzip': reasons['corrupt-gzip'], // not gzip at all, bad CRC, bad ISIZE: one each, whole
  });
  const want = { 'partition-value-too-long': 3, 'line-too-long': 2, 'truncated-gzip': 1, 'corrupt-gzip': 3 };
  assert.deepEqual(exact(r.rejectedByReason), want);
  assert.deepEqual(exact(reference.counts.total.rejectedByReason), want);
});

test('hostile: the quarantine holds every rejected record with source, line, offset, reason and raw text', () => {
  const files = walk(join(lake, '_lake', 'runs', result.runId, 'rejects')).filter((p) => p.endsWith('.jsonl'));
  const got = files
    .flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''))
    .map((l) => JSON.parse(l) as { source: string; line: number | null; offset: number; reason: string; raw: string; rawBytes: number; truncated: boolean });
  assert.equal(got.length, result.manifest.records.rejected);
  const key = (x: { source: string; offset: number; reason: string }) => `${x.source}@${x.offset}:${x.reason}`;
  const want = new Map(reference.rejects.map((x) => [key(x), x]));
  for (const g of got) {
    const w = want.get(key(g));
    assert.ok(w, `unexpected reject ${key(g)}`);
    // A byte-range split that does not start at 0 knows offsets, not line numbers (schema-on-read.md).
    if (g.line !== null) assert.equal(g.line, w.line, `${key(g)} line`);
    if (!g.truncated) assert.equal(g.raw, w.raw, `${key(g)} raw`);
    else assert.ok(Buffer.byteLength(g.raw) <= 64 * 1024 && g.rawBytes > Buffer.byteLength(g.raw), `${key(g)} truncated sample`);
  }
  assert.equal(new Set(got.map(key)).size, want.size, 'every reference reject is quarantined once');
});

test('hostile: partition values with / = % .. and unicode stay inside their table folder', () => {
  const songFolders = walk(join(lake, 'songs')).map((p) => p.slice(lake.length + 1)).filter((p) => p.endsWith('.parquet'));
  assert.ok(songFolders.some((p) => p.includes('artist_id=AR%2F..%2Fx%3D1/')), songFolders.join('\n'));
  assert.ok(songFolders.some((p) => p.includes('artist_id=AR100%25/')));
  assert.ok(songFolders.some((p) => p.includes('artist_id=__HIVE_DEFAULT_PARTITION__/')));
  for (const p of songFolders) assert.ok(p.startsWith('songs/year='), p);
  const months = walk(join(lake, 'songplays')).map((p) => p.slice(lake.length + 1).split('/').slice(1, 3).join('/'));
  assert.ok(months.includes('year=2018/month=12') && months.includes('year=2019/month=1') && months.includes('year=2019/month=2'), months.join(', '));
});

test('hostile: partition folders at the 255-byte limit and NULL-like values read back exactly through hive_partitioning', async () => {
  const folders = new Set(
    walk(join(lake, 'songs'))
      .filter((p) => p.endsWith('.parquet'))
      .map((p) => p.slice(lake.length + 1).split('/')[2]!),
  );
  for (const f of folders) assert.ok(Buffer.byteLength(f) <= 255, `${f} is ${Buffer.byteLength(f)} bytes`);
  const atLimit = [...folders].filter((f) => Buffer.byteLength(f) === 255);
  assert.equal(atLimit.length, 5, atLimit.join('\n'));
  for (const n of NULL_LIKE_ARTIST_IDS) assert.ok(folders.has(n.folder), `${n.folder} in ${[...folders].join(', ')}`);

  const duck = await openDuck();
  try {
    const rows = await duck.rows(
      `SELECT song_id, artist_id FROM read_parquet(${sqlPath(join(lake, 'songs', '**', '*.parquet'))}, hive_partitioning = true, hive_types = {'year': INTEGER, 'artist_id': VARCHAR})`,
    );
    const got = new Map(rows.map((r) => [String(r.song_id), r.artist_id as string | null]));
    const L = LONG_ARTIST_IDS;
    const want: [string, string | null | undefined][] = [
      ['SOLONG1', L.slashesAtLimit], ['SOLONG2', undefined], ['SOLONG3', L.cjkAtLimit], ['SOLONG4', undefined],
      ['SOLONG5', L.emojiAtLimit], ['SOLONG6', undefined], ['SOLONG7', L.mixedAtLimit], ['SOLONG8', L.replacedAtLimit],
      ...NULL_LIKE_ARTIST_IDS.map((n, i): [string, string | null] => [`SONULL${i}`, n.readBack]),
      ['SONULLX', null],
      ['SONUM', '15'],
    ];
    assert.deepEqual(want.map(([id]) => [id, got.get(id)]), want);
  } finally {
    duck.close();
  }
});

test('hostile: a corrupt .gz is quarantined whole: one reject at line 1, offset 0, and none of its lines in a table', async () => {
  const files = walk(join(lake, '_lake', 'runs', result.runId, 'rejects')).filter((p) => p.endsWith('.jsonl'));
  const corrupt = files
    .flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''))
    .map((l) => JSON.parse(l) as { source: string; line: number; offset: number; reason: string })
    .filter((r) => r.reason === 'corrupt-gzip');
  assert.deepEqual(corrupt.map((r) => [r.source, r.line, r.offset]).sort(), [
    ['2018/11/bad-crc.json.gz', 1, 0], ['2018/11/bad-isize.json.gz', 1, 0], ['2018/11/not-gzip.json.gz', 1, 0],
  ]);
  // User 14 appears only in the corrupt objects (the tables equal the reference's, checked above).
  const users = await reference.connection.runAndReadAll(`SELECT count(*) FROM ${reference.table('users')} WHERE user_id = 14`);
  assert.equal(Number(users.getRowsJS()[0]![0]), 0);
  const duck = await openDuck();
  try {
    const rows = await duck.rows(`SELECT count(*) AS n FROM read_parquet(${sqlPath(join(lake, 'users', '**', '*.parquet'))}) WHERE user_id = 14`);
    assert.equal(Number(rows[0]!.n), 0);
  } finally {
    duck.close();
  }
});
