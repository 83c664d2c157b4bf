// The real Udacity sample through both parsers, cross-checked row by row against DuckDB's own JSON
// reader (an independent implementation): 8,056 events, 6,820 NextSong, 71 songs, no rejects.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { EventParser } from '../../../job-runner/src/schema/eventParser.js';
import type { RecordParser } from '../../../job-runner/src/schema/recordParser.js';
import type { RejectedRecord } from '../../../job-runner/src/schema/rejects.js';
import { SongParser } from '../../../job-runner/src/schema/songParser.js';
import { udacityLogs, udacitySongs } from '../../helpers/paths.js';
import { allRows, type Row } from './batchRows.js';
import { feedSources, lineBlocks } from './feed.js';
import { rng } from './lineGen.js';

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push(p);
    }
  };
  walk(root);
  // S3 lists keys in UTF-8 byte order; ordinals follow it.
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function parseTree(root: string, make: (onReject: (r: RejectedRecord) => void) => RecordParser) {
  const files = filesUnder(root);
  const r = rng(files.length);
  return {
    files,
    ...feedSources(
      make,
      files.map((f, ordinal) => ({ src: { ordinal, key: relative(root, f), whole: true }, items: lineBlocks(readFileSync(f), r) })),
    ),
  };
}

/** Rows from DuckDB; BIGINT columns arrive as decimal strings and are converted by name. */
async function duckRows(sql: string, bigints: string[] = []): Promise<Row[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const result = await c.runAndReadAll(sql);
    return result.getRowObjectsJson().map((o) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : bigints.includes(k) ? Number(v) : (v as number | string)])),
    );
  } finally {
    c.closeSync();
  }
}

const canon = (rows: Row[], cols: string[]): string[] => rows.map((r) => JSON.stringify(cols.map((c) => r[c]))).sort();

test('udacity logs: 8,056 events, 6,820 NextSong, no rejects, every value as DuckDB reads it', async () => {
  const { files, batches, rejects, parser } = parseTree(udacityLogs, (onReject) => new EventParser({ onReject, batchRows: 3000 }));
  assert.equal(files.length, 30);
  assert.deepEqual(rejects, []);
  assert.deepEqual(parser.counts(), { read: 8056, accepted: 8056, rejected: 0, rejectedByReason: {} });
  const rows = allRows(batches);
  assert.equal(rows.filter((r) => r.page === 'NextSong').length, 6820);
  assert.ok(rows.every((r) => r.page !== 'NextSong' || r.user_id !== null));

  const glob = join(udacityLogs, '**', '*.json');
  const duck = await duckRows(`
    SELECT ts, TRY_CAST(NULLIF(userId, '') AS BIGINT) AS user_id, firstName AS first_name, lastName AS last_name, gender, level, page,
           song, artist, length, sessionId AS session_id, itemInSession AS item_in_session, location, userAgent AS user_agent,
           (userId = '')::INTEGER AS empty_user
    FROM read_json('${glob}', format = 'newline_delimited', columns = {
      artist: 'VARCHAR', auth: 'VARCHAR', firstName: 'VARCHAR', gender: 'VARCHAR', itemInSession: 'BIGINT', lastName: 'VARCHAR',
      length: 'DOUBLE', level: 'VARCHAR', location: 'VARCHAR', method: 'VARCHAR', page: 'VARCHAR', registration: 'DOUBLE',
      sessionId: 'BIGINT', song: 'VARCHAR', status: 'BIGINT', ts: 'BIGINT', userAgent: 'VARCHAR', userId: 'VARCHAR'})`,
    ['ts', 'user_id', 'session_id', 'item_in_session'],
  );
  assert.equal(duck.length, 8056);
  const cols = ['ts', 'user_id', 'first_name', 'last_name', 'gender', 'level', 'page', 'song', 'artist', 'length', 'session_id', 'item_in_session', 'location', 'user_agent'];
  assert.deepEqual(canon(rows, cols), canon(duck, cols));

  // Drift: userId is a string in this data ("91"), empty for logged-out events; nothing else drifts.
  const empty = duck.filter((r) => r.empty_user === 1).length;
  assert.deepEqual({ ...parser.driftReport().coercions }, { 'userId:empty->null': empty, 'userId:string->int64': 8056 - empty });
  assert.deepEqual({ ...parser.driftReport().unknownFields }, {});
  // Positions: the first event of the first file is at line 1, offset 0; lines count up per file.
  const first = rows.filter((r) => r.src === 0);
  assert.deepEqual(first.slice(0, 2).map((r) => [r.line, r.offset]), [[1, 0], [2, readFileSync(files[0]).indexOf(0x0a) + 1]]);
});

test('udacity songs: 71 songs, no rejects, every value as DuckDB reads it', async () => {
  const { files, batches, rejects, parser } = parseTree(udacitySongs, (onReject) => new SongParser({ onReject }));
  assert.equal(files.length, 71);
  assert.deepEqual(rejects, []);
  assert.deepEqual(parser.counts(), { read: 71, accepted: 71, rejected: 0, rejectedByReason: {} });
  const rows = allRows(batches);
  assert.deepEqual(rows.map((r) => r.src), [...Array(71).keys()]);
  const duck = await duckRows(`
    SELECT song_id, title, artist_id, artist_name, artist_location, duration, artist_latitude, artist_longitude, year
    FROM read_json('${join(udacitySongs, '**', '*.json')}', format = 'newline_delimited', columns = {
      num_songs: 'BIGINT', artist_id: 'VARCHAR', artist_latitude: 'DOUBLE', artist_longitude: 'DOUBLE', artist_location: 'VARCHAR',
      artist_name: 'VARCHAR', song_id: 'VARCHAR', title: 'VARCHAR', duration: 'DOUBLE', year: 'INTEGER'})`);
  const cols = ['song_id', 'title', 'artist_id', 'artist_name', 'artist_location', 'duration', 'artist_latitude', 'artist_longitude', 'year'];
  assert.deepEqual(canon(rows, cols), canon(duck, cols));
  assert.ok(rows.some((r) => r.year === 0), 'year 0 (unknown) is kept as 0');
});
