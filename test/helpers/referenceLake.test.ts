// Keeps the oracle honest: the reference on the real Udacity sample gives the known numbers, and on
// small hand-made inputs (one per rule of docs/schema-on-read.md) it gives rows computed by hand.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildReferenceLake, type ReferenceOptions } from './referenceLake.js';
import { tempDir, udacityLogs, udacitySongs } from './paths.js';
import type { TableName } from '../../job-runner/src/run/types.js';

type Files = Record<string, string | Buffer>;

function writeTree(root: string, files: Files) {
  mkdirSync(root, { recursive: true });
  for (const [key, body] of Object.entries(files)) {
    const path = join(root, ...key.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }
}

const T0 = Date.UTC(2018, 10, 1, 20, 57, 10, 796); // 2018-11-01T20:57:10.796Z, a Thursday

/** A NextSong event shaped like the Udacity logs, with overrides (undefined removes a field). */
function ev(over: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    artist: 'Des\'ree', auth: 'Logged In', firstName: 'Kaylee', gender: 'F', itemInSession: 1, lastName: 'Summers',
    length: 246.30812, level: 'free', location: 'Phoenix-Mesa-Scottsdale, AZ', method: 'PUT', page: 'NextSong',
    registration: 1540344794796.0, sessionId: 139, song: 'You Gotta Be', status: 200, ts: T0, userAgent: 'UA', userId: '8',
  };
  const o = { ...base, ...over };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return JSON.stringify(o);
}

function song(over: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    num_songs: 1, artist_id: 'AR1', artist_latitude: null, artist_longitude: null, artist_location: '',
    artist_name: 'Artist One', song_id: 'SO1', title: 'Title One', duration: 200.0, year: 2005,
  };
  const o = { ...base, ...over };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return JSON.stringify(o);
}

const lines = (...ls: string[]) => ls.join('\n') + '\n';

/** The text's UTF-8 bytes with the first `marker` character replaced by one raw byte. */
function withByte(text: string, marker: string, byte: number): Buffer {
  const i = text.indexOf(marker);
  return Buffer.concat([Buffer.from(text.slice(0, i)), Buffer.from([byte]), Buffer.from(text.slice(i + 1))]);
}

/** FNV-1a 64 with the top bit cleared, written independently with BigInt. */
function songplayId(key: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(key)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return String(h & 0x7fffffffffffffffn);
}

interface Case {
  name: string;
  songs?: Files;
  logs?: Files;
  opts?: ReferenceOptions;
  /** Exact rejectedByReason over all inputs. */
  rejects?: Record<string, number>;
  read?: number;
  /** Per table: a select list and the rows it gives, ordered by all columns. */
  want?: Partial<Record<TableName, { cols: string; groupBy?: string; rows: unknown[][] }>>;
}

/** A copy of `bytes` changed by `f`. */
function damaged(bytes: Buffer, f: (b: Buffer) => void): Buffer {
  const b = Buffer.from(bytes);
  f(b);
  return b;
}

const gz = gzipSync(Buffer.from(lines(ev({ ts: T0, userId: '1' }), ev({ ts: T0 + 1, userId: '2' }))));

const cases: Case[] = [
  {
    name: 'blank lines are not records; CRLF and a missing final newline are fine',
    logs: { '2018/11/a.json': '\n  \t\r\n' + ev({ userId: '1' }) + '\r\n\r\n\t\n' + ev({ userId: '2', ts: T0 + 1 }) },
    read: 2,
    rejects: {},
    want: { users: { cols: 'user_id', rows: [[1n], [2n]] } },
  },
  {
    name: 'a pretty-printed song file is one record; an invalid one is one invalid-json reject',
    songs: {
      'A/pretty.json': '\n' + JSON.stringify({ song_id: 'SO1', title: 'Pretty', duration: 1.5, year: 0, artist_id: 'AR1', artist_name: 'N' }, null, 2) + '\n',
      'A/broken.json': '{\n  "song_id": "SO2",\n  "title": "Broken"\n',
      'A/lines.json': lines(song({ song_id: 'SO3', title: 'Line 1' }), song({ song_id: 'SO4', title: 'Line 2' })),
    },
    read: 4,
    rejects: { 'invalid-json': 1 },
    want: { songs: { cols: 'song_id, title, year', rows: [['SO1', 'Pretty', 0], ['SO3', 'Line 1', 2005], ['SO4', 'Line 2', 2005]] } },
  },
  {
    name: 'a line longer than maxLineBytes is rejected; one of exactly maxLineBytes is not',
    opts: { maxLineBytes: 400 },
    logs: {
      'a.json': lines(
        ev({ userId: '1', location: 'x'.repeat(400 - ev({ userId: '1', location: '' }).length) }),
        ev({ userId: '2', location: 'x'.repeat(401 - ev({ userId: '2', location: '' }).length) }),
      ),
    },
    read: 2,
    rejects: { 'line-too-long': 1 },
    want: { users: { cols: 'user_id', rows: [[1n]] } },
  },
  {
    name: 'a trailing \\r is the line terminator: it does not count towards maxLineBytes',
    opts: { maxLineBytes: 400 },
    logs: {
      'a.json': [
        ev({ userId: '1', location: 'x'.repeat(400 - ev({ userId: '1', location: '' }).length) }),
        ev({ userId: '2', location: 'x'.repeat(401 - ev({ userId: '2', location: '' }).length) }),
      ].map((l) => l + '\r\n').join(''),
    },
    read: 2,
    rejects: { 'line-too-long': 1 },
    want: { users: { cols: 'user_id', rows: [[1n]] } },
  },
  {
    name: 'partition-value-too-long: artist_id=<escaped> over 255 UTF-8 bytes, checked after missing-song_id',
    songs: {
      'a.json': lines(
        song({ song_id: 'S1', artist_id: 'AR' + '/'.repeat(81) }), // 10 + 2 + 243 = 255: kept
        song({ song_id: 'S2', artist_id: '/'.repeat(82) }), // 256
        song({ song_id: 'S3', artist_id: '日'.repeat(82) }), // 256
        song({ song_id: 'S4', artist_id: '😀'.repeat(61) + 'A' }), // 255: kept
        song({ song_id: 'S5', artist_id: '😀'.repeat(62) + 'A' }), // 259
        song({ song_id: '', artist_id: '/'.repeat(82) }), // missing-song_id first
        song({ song_id: 'S6', artist_id: 300 }), // a number: its text, "300"
        song({ song_id: 'S7', artist_id: '' }), // the default partition
      ),
    },
    read: 8,
    rejects: { 'partition-value-too-long': 3, 'missing-song_id': 1 },
    want: { songs: { cols: 'song_id', rows: [['S1'], ['S4'], ['S6'], ['S7']] } },
  },
  {
    name: 'invalid-json is exactly what JSON.parse rejects',
    logs: {
      // The valid line comes first: a file whose first line is an invalid '{…' is one pretty-printed document.
      'a.json': lines(
        `{"ts":${T0},"page":"Home","userId":"3","firstName":"a\\"b\\\\c\\u00e9\\ud83d\\ude00","x":[1,{"y":[]}]}`,
        `{"ts":${T0},}`, `{"ts":NaN}`, `{"ts":Infinity}`, `{'ts':1}`, `{"ts":${T0}`, `{"ts":${T0}} x`, `\uFEFF{"ts":${T0}}`,
      ),
    },
    read: 8,
    rejects: { 'invalid-json': 7 },
    want: { users: { cols: 'user_id, first_name', rows: [[3n, 'a"b\\cé😀']] } },
  },
  {
    name: 'valid JSON that is not an object',
    logs: { 'a.json': lines('[1]', '"x"', '42', 'null', 'true', '{}') },
    read: 6,
    rejects: { 'not-an-object': 5, 'missing-ts': 1 },
  },
  {
    name: 'missing-song_id; a number song_id becomes its JSON text',
    songs: {
      'a.json': lines(
        song({ song_id: undefined }), song({ song_id: null }), song({ song_id: '' }), song({ song_id: true }),
        song({ song_id: {} }), song({ song_id: [] }), song({ song_id: 123 }), song({ song_id: 1.5e2 }), '{"song_id":1.50,"title":"t"}',
      ),
    },
    read: 9,
    rejects: { 'missing-song_id': 6 },
    want: { songs: { cols: 'song_id', rows: [['1.5'], ['123'], ['150']] } },
  },
  {
    name: 'missing-ts and invalid-ts; integral numbers and numeric strings are valid ts',
    logs: {
      'a.json': lines(
        ev({ ts: undefined }), ev({ ts: null }), ev({ ts: '' }),
        ev({ ts: 'abc' }), ev({ ts: 1.5 }), ev({ ts: -1 }), ev({ ts: 253402300800000 }), ev({ ts: true }), ev({ ts: '  ' }), ev({ ts: [] }),
        ev({ ts: String(T0), userId: '1' }), ev({ ts: ` ${T0 + 1}.0 `, userId: '2' }), `{"page":"Home","userId":"3","ts":1.541105830798e12}`, ev({ ts: 253402300799999, userId: '4' }),
      ),
    },
    read: 14,
    rejects: { 'missing-ts': 3, 'invalid-ts': 7 },
    want: { time: { cols: 'epoch_ms(start_time), year', rows: [[BigInt(T0), 2018], [BigInt(T0 + 1), 2018], [253402300799999n, 9999]] } },
  },
  {
    name: 'missing-user-id only for NextSong; checks run in table order',
    logs: {
      'a.json': lines(
        ev({ userId: '' }), ev({ userId: null }), ev({ userId: 'abc' }), ev({ userId: '1.5' }), ev({ userId: undefined }), ev({ userId: true }),
        ev({ page: 'Home', userId: '' }), ev({ page: 'Home', userId: 'abc' }),
        ev({ userId: ' 7 ', ts: T0 + 7 }), ev({ userId: '8.0', ts: T0 + 8 }), ev({ userId: 9, ts: T0 + 9 }), ev({ userId: '1e1', ts: T0 + 10 }),
        '{"page":"NextSong","userId":""}', '{"page":"NextSong","userId":"","ts":"x"}',
      ),
    },
    read: 14,
    rejects: { 'missing-user-id': 6, 'missing-ts': 1, 'invalid-ts': 1 },
    want: { users: { cols: 'user_id', rows: [[7n], [8n], [9n], [10n]] }, songplays: { cols: 'user_id', rows: [[7n], [8n], [9n], [10n]] } },
  },
  {
    name: 'gzip: whole, truncated (lines before the cut kept), cut in the header, not gzip, empty (no records); bad CRC, bad ISIZE, damaged header: quarantined whole',
    logs: {
      'a.json.gz': gz,
      'b.json.gz': gz.subarray(0, gz.length - 8),
      'c.json.gz': gz.subarray(0, 10),
      'd.json.gz': Buffer.from(ev({ userId: '9' }) + '\n'),
      'e.json.gz': Buffer.alloc(0),
      'f.json.gz': Buffer.concat([gz.subarray(0, gz.length - 6), Buffer.from([gz[gz.length - 6]! ^ 0xff]), gz.subarray(gz.length - 5)]),
      // Users 3, 4 and 5 appear only in corrupt objects: none of their lines may reach a table.
      'g.json.gz': damaged(gzipSync(lines(ev({ ts: T0 + 3, userId: '3' }), ev({ ts: T0 + 4, userId: '3' }))), (b) => (b[b.length - 8] ^= 0x01)),
      'h.json.gz': damaged(gzipSync(lines(ev({ ts: T0 + 5, userId: '4' }))), (b) => (b[b.length - 1] ^= 0x01)),
      'i.json.gz': damaged(gzipSync(lines(ev({ ts: T0 + 6, userId: '5' }))), (b) => (b[2] = 7)),
    },
    read: 11,
    rejects: { 'truncated-gzip': 2, 'corrupt-gzip': 5 },
    want: { songplays: { cols: 'user_id, count(*)', groupBy: 'user_id', rows: [[1n, 1n], [2n, 1n]] } },
  },
  {
    name: 'coercion of integers, doubles and strings in events',
    logs: {
      'a.json': lines(
        ev({ userId: '39', sessionId: '1.0', itemInSession: 2.5, length: '246.5', level: 1, location: { a: 1 }, userAgent: false, ts: T0 + 1 }),
        ev({ userId: ' 42 ', sessionId: '0x10', itemInSession: '3', length: 'abc', level: 1e21, location: ['x'], userAgent: 0.000001, ts: T0 + 2 }),
        ev({ userId: '4e1', sessionId: 9007199254740991, itemInSession: 1e2, length: true, level: 1e-7, location: null, userAgent: -0, ts: T0 + 3 }),
        ev({ userId: 1e2, sessionId: 9007199254740992, itemInSession: '', length: '1e400', level: 1.2345678901234568e20, location: 100.0, userAgent: 1.25e-5, ts: T0 + 4 }),
      ),
    },
    read: 4,
    rejects: {},
    want: {
      songplays: {
        cols: 'user_id, session_id, level, location, user_agent',
        rows: [
          [39n, 1n, '1', null, 'false'],
          [40n, 9007199254740991n, '1e-7', null, '0'],
          [42n, null, '1e+21', null, '0.000001'],
          [100n, null, '123456789012345680000', '100', '0.0000125'],
        ],
      },
    },
  },
  {
    name: 'coercion in songs: numeric strings, non-integral year, strings from numbers and booleans',
    songs: {
      'a.json': lines(
        song({ song_id: 'S1', duration: '246.5', year: '2005', artist_latitude: 'abc', artist_longitude: '-80.5', title: 1.5, artist_name: true }),
        song({ song_id: 'S2', duration: null, year: 2005.5, artist_latitude: 8.25, artist_location: { x: 1 }, artist_id: 'AR2' }),
      ),
    },
    read: 2,
    rejects: {},
    want: {
      songs: { cols: 'song_id, title, duration, year', rows: [['S1', '1.5', 246.5, 2005], ['S2', 'Title One', null, null]] },
      artists: { cols: 'artist_id, name, location, latitude, longitude', rows: [['AR1', 'true', '', null, -80.5], ['AR2', 'Artist One', null, 8.25, null]] },
    },
  },
  {
    name: 'duplicate keys: the last one wins',
    logs: { 'a.json': lines(`{"ts":"x","page":"NextSong","userId":"","userId":"5","sessionId":1,"ts":${T0},"level":"free","level":"paid"}`) },
    read: 1,
    rejects: {},
    want: { users: { cols: 'user_id, level', rows: [[5n, 'paid']] } },
  },
  {
    name: 'songs and artists: smallest key in UTF-8 byte order wins, then the earliest line',
    songs: {
      // UTF-16 order puts U+1F600 (D83D…) before U+FF5E; UTF-8 (S3) order puts U+FF5E (EF…) first.
      '\u{1F600}.json': song({ song_id: 'S1', title: 'emoji', artist_id: 'AR-E' }),
      '\uFF5E.json': song({ song_id: 'S1', title: 'fullwidth tilde', artist_id: 'AR-T', artist_name: 'first' }),
      'B/x.json': lines(song({ song_id: 'S2', title: 'B first', artist_id: '' }), song({ song_id: 'S2', title: 'B second' })),
      'a/x.json': lines(song({ song_id: 'S2', title: 'a', artist_id: 'AR-T', artist_name: 'second' })),
    },
    read: 5,
    rejects: {},
    want: {
      songs: { cols: 'song_id, title, artist_id', rows: [['S1', 'fullwidth tilde', 'AR-T'], ['S2', 'B first', null]] },
      artists: { cols: 'artist_id, name', rows: [['AR-E', 'Artist One'], ['AR-T', 'second'], ['AR1', 'Artist One']] },
    },
  },
  {
    name: 'users take the event with the greatest (ts, ordinal, offset)',
    logs: {
      'a.json': lines(ev({ userId: '5', ts: T0, level: 'free' }), ev({ userId: '5', ts: T0 + 5, level: 'paid', page: 'Home' }), ev({ userId: '6', ts: T0 + 9, lastName: 'later line' }), ev({ userId: '6', ts: T0 + 9, lastName: 'last line' })),
      'b.json': lines(ev({ userId: '5', ts: T0 + 5, level: 'later file' }), ev({ userId: '5', ts: T0 + 4, level: 'older' }), ev({ userId: '', page: 'Home', ts: T0 + 99 })),
    },
    read: 7,
    rejects: {},
    want: { users: { cols: 'user_id, last_name, level', rows: [[5n, 'Summers', 'later file'], [6n, 'last line', 'free']] } },
  },
  {
    name: 'songplays: a replayed log file and duplicate lines do not double-count; ids are FNV-1a',
    logs: {
      '2018/11/a.json': lines(ev({ userId: '5', sessionId: 10, itemInSession: 0, level: 'from a' }), ev({ userId: '5', sessionId: null, itemInSession: 1, level: 'first null session' }), ev({ userId: '5', sessionId: null, itemInSession: 1, level: 'second null session' })),
      '2018/11/b.json': lines(ev({ userId: '5', sessionId: 10, itemInSession: 0, level: 'from b' })),
    },
    read: 4,
    rejects: {},
    want: {
      songplays: {
        cols: 'songplay_id, user_id, session_id, level',
        rows: [
          [BigInt(songplayId(`5|10|0|${T0}`)), 5n, 10n, 'from a'],
          [BigInt(songplayId(`5||1|${T0}`)), 5n, null, 'first null session'],
        ].sort((a, b) => (BigInt(a[0] as bigint) < BigInt(b[0] as bigint) ? -1 : 1)),
      },
    },
  },
  {
    name: 'the join: title and artist exact, |Δduration| ≤ 2, closest wins, unknown distance last, then smallest song_id',
    songs: {
      'a.json': lines(
        song({ song_id: 'S1', title: 'T', artist_name: 'Ar', duration: 200, artist_id: 'A1' }),
        song({ song_id: 'S2', title: 'T', artist_name: 'Ar', duration: 201, artist_id: 'A2' }),
        song({ song_id: 'S3', title: 'T', artist_name: 'Ar', duration: null, artist_id: 'A3' }),
        song({ song_id: 'S4', title: 'U', artist_name: 'Ar', duration: 100, artist_id: 'A4' }),
        song({ song_id: 'S00', title: 'V', artist_name: 'Ar', duration: 100, artist_id: 'A00' }),
        song({ song_id: 'S0', title: 'V', artist_name: 'Ar', duration: 100, artist_id: 'A0' }),
      ),
    },
    logs: {
      'a.json': lines(
        ev({ userId: '1', song: 'T', artist: 'Ar', length: 200.4 }),
        ev({ userId: '2', song: 'T', artist: 'Ar', length: 202.9 }),
        ev({ userId: '3', song: 'T', artist: 'Ar', length: 300 }),
        ev({ userId: '4', song: 'T', artist: 'Ar', length: null }),
        ev({ userId: '5', song: 'T', artist: 'ar', length: 200 }),
        ev({ userId: '6', song: 'U', artist: 'Ar', length: 102 }),
        ev({ userId: '7', song: 'U', artist: 'Ar', length: 102.5 }),
        ev({ userId: '8', song: 'V', artist: 'Ar', length: 100 }),
      ),
    },
    read: 14,
    rejects: {},
    want: {
      songplays: {
        cols: 'user_id, song_id, artist_id',
        rows: [[1n, 'S1', 'A1'], [2n, 'S2', 'A2'], [3n, 'S3', 'A3'], [4n, 'S1', 'A1'], [5n, null, null], [6n, 'S4', 'A4'], [7n, null, null], [8n, 'S0', 'A0']],
      },
    },
  },
  {
    name: 'time: ISO week and weekday, month and year boundaries, all UTC; one row per distinct ts',
    logs: {
      'a.json': lines(
        ev({ userId: '1', ts: Date.UTC(2018, 11, 31, 23, 59, 59, 999) }),
        ev({ userId: '2', ts: Date.UTC(2019, 0, 1, 0, 0, 0, 0) }),
        ev({ userId: '3', ts: Date.UTC(2021, 0, 3, 12, 0, 0, 0) }),
        ev({ userId: '4', ts: Date.UTC(2018, 10, 30, 23, 59, 59, 999) }),
        ev({ userId: '5', ts: Date.UTC(2018, 11, 1, 0, 0, 0, 0) }),
        ev({ userId: '6', ts: Date.UTC(2018, 11, 1, 0, 0, 0, 0) }),
      ),
    },
    read: 6,
    rejects: {},
    want: {
      time: {
        cols: 'year, month, day, hour, week, weekday',
        rows: [[2018, 11, 30, 23, 48, 5], [2018, 12, 1, 0, 48, 6], [2018, 12, 31, 23, 1, 1], [2019, 1, 1, 0, 1, 2], [2021, 1, 3, 12, 53, 7]],
      },
      songplays: { cols: 'year, month, count(*)', groupBy: 'year, month', rows: [[2018, 11, 1n], [2018, 12, 3n], [2019, 1, 1n], [2021, 1, 1n]] },
    },
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD; a BOM makes a line invalid',
    logs: {
      'a.json': withByte(ev({ userId: '1', location: 'Caf#' }) + '\n', '#', 0xe9),
      'b.json': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ev({ userId: '2' }) + '\n')]),
    },
    read: 2,
    rejects: { 'invalid-json': 1 },
    want: { songplays: { cols: 'location', rows: [['Caf\uFFFD']] } },
  },
  {
    name: 'partition values are kept as values; year 0 kept; empty files hold no records; hidden and non-JSON names are not inputs',
    songs: {
      // The engine escapes NULL (DuckDB would read a bare one as SQL NULL), so it reads back as itself;
      // the literal __HIVE_DEFAULT_PARTITION__ is the default partition, read back as null.
      'a.json': lines(
        song({ song_id: 'S1', artist_id: 'AR/../x=1', year: 0 }),
        song({ song_id: 'S2', artist_id: 'a%b:c', year: null }),
        song({ song_id: 'S4', artist_id: 'NULL', year: 2001 }),
        song({ song_id: 'S5', artist_id: '__HIVE_DEFAULT_PARTITION__', year: 2001 }),
      ),
      'empty.json': '',
      '_ignored.json': 'not json',
      '_temporary/x.json': 'not json',
      '.hidden/x.json': 'not json',
      'notes.txt': 'not an input',
      'UPPER.JSON': song({ song_id: 'S3', artist_id: 'AR3', year: 1999 }),
    },
    logs: { 'empty.json': '', 'blank.json': '\n\n' },
    read: 5,
    rejects: {},
    want: {
      songs: { cols: 'song_id, year, artist_id', rows: [['S1', 0, 'AR/../x=1'], ['S2', null, 'a%b:c'], ['S3', 1999, 'AR3'], ['S4', 2001, 'NULL'], ['S5', 2001, null]] },
      artists: { cols: 'artist_id', rows: [['AR/../x=1'], ['AR3'], ['NULL'], ['__HIVE_DEFAULT_PARTITION__'], ['a%b:c']] },
    },
  },
];

describe('reference lake (DuckDB oracle)', () => {
  test('Udacity sample: songs 71, artists 69, users 97, time 6,813, songplays 6,820, 1 matched', async () => {
    const ref = await buildReferenceLake({ songs: udacitySongs, logs: udacityLogs });
    try {
      assert.deepEqual(await ref.rowCounts(), { songs: 71, artists: 69, users: 97, time: 6813, songplays: 6820 });
      assert.equal(await ref.matchedPlays(), 1);
      assert.deepEqual(ref.counts.total, { read: 71 + 8056, accepted: 71 + 8056, rejected: 0, rejectedByReason: {} });
      const r = await ref.connection.runAndReadAll(`SELECT song_id, artist_id, user_id, session_id FROM ref.songplays WHERE song_id IS NOT NULL`);
      assert.deepEqual(r.getRowsJS(), [['SOZCTXZ12AB0182364', 'AR5KOSW1187FB35FF4', 15n, 818n]]);
      // Types exactly as the contract (what DuckDB reads back from the engine's Parquet files).
      const types = await ref.connection.runAndReadAll(`SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'ref' GROUP BY table_name ORDER BY table_name`);
      assert.deepEqual(Object.fromEntries(types.getRowsJS() as [string, string][]), {
        artists: 'artist_id VARCHAR, name VARCHAR, location VARCHAR, latitude DOUBLE, longitude DOUBLE',
        songplays: 'songplay_id BIGINT, start_time TIMESTAMP WITH TIME ZONE, user_id BIGINT, level VARCHAR, song_id VARCHAR, artist_id VARCHAR, session_id BIGINT, location VARCHAR, user_agent VARCHAR, year INTEGER, month INTEGER',
        songs: 'song_id VARCHAR, title VARCHAR, duration DOUBLE, year INTEGER, artist_id VARCHAR',
        time: 'start_time TIMESTAMP WITH TIME ZONE, hour INTEGER, day INTEGER, week INTEGER, weekday INTEGER, year INTEGER, month INTEGER',
        users: 'user_id BIGINT, first_name VARCHAR, last_name VARCHAR, gender VARCHAR, level VARCHAR',
      });
      // Ids are distinct and non-negative (their FNV-1a values are checked in the test below).
      const ids = await ref.connection.runAndReadAll(`SELECT count(DISTINCT songplay_id), min(songplay_id) >= 0 FROM ref.songplays`);
      assert.deepEqual(ids.getRowsJS(), [[6820n, true]]);
    } finally {
      ref.close();
    }
  });

  for (const c of cases) {
    test(c.name, async () => {
      const root = tempDir('slake-ref-case-');
      writeTree(join(root, 'song_data'), c.songs ?? {});
      writeTree(join(root, 'log_data'), c.logs ?? {});
      const ref = await buildReferenceLake({ songs: join(root, 'song_data'), logs: join(root, 'log_data') }, c.opts).finally(() => rmSync(root, { recursive: true, force: true }));
      try {
        if (c.read !== undefined) assert.equal(ref.counts.total.read, c.read, 'records read');
        if (c.rejects) assert.deepEqual(ref.counts.total.rejectedByReason, c.rejects, `rejects: ${JSON.stringify(ref.rejects, null, 1)}`);
        assert.equal(ref.counts.total.read, ref.counts.total.accepted + ref.counts.total.rejected, 'conservation');
        for (const [table, want] of Object.entries(c.want ?? {})) {
          const grouped = want.groupBy ? ` GROUP BY ${want.groupBy}` : '';
          const got = await ref.connection.runAndReadAll(`SELECT ${want.cols} FROM ref.${table}${grouped} ORDER BY ALL`);
          assert.deepEqual(got.getRowsJS(), want.rows, `${table}: ${want.cols}`);
        }
      } finally {
        ref.close();
      }
    });
  }

  test('rejects keep source, line, offset and raw text', async () => {
    const root = tempDir('slake-ref-rejects-');
    writeTree(join(root, 'log_data'), { 'x/a.json': `${ev()}\r\n\nnot json\r\n[1]` });
    mkdirSync(join(root, 'song_data'));
    const ref = await buildReferenceLake({ songs: join(root, 'song_data'), logs: join(root, 'log_data') }).finally(() => rmSync(root, { recursive: true, force: true }));
    try {
      const off = Buffer.byteLength(ev()) + 3;
      assert.deepEqual(ref.rejects, [
        { kind: 'log', source: 'x/a.json', line: 3, offset: off, reason: 'invalid-json', raw: 'not json' },
        { kind: 'log', source: 'x/a.json', line: 4, offset: off + 10, reason: 'not-an-object', raw: '[1]' },
      ]);
    } finally {
      ref.close();
    }
  });

  test('a lone-surrogate escape (valid for JSON.parse, not for DuckDB) is refused, not misjudged', async () => {
    const root = tempDir('slake-ref-surrogate-');
    writeTree(join(root, 'log_data'), { 'a.json': lines(ev(), '{"ts":1,"song":"\\ud800"}') });
    mkdirSync(join(root, 'song_data'));
    await assert.rejects(buildReferenceLake({ songs: join(root, 'song_data'), logs: join(root, 'log_data') }), /a\.json line 2 holds a lone-surrogate escape/);
    rmSync(root, { recursive: true, force: true });
  });

  test('songplay ids and number texts agree with independent JS implementations', async () => {
    const root = tempDir('slake-ref-fn-');
    mkdirSync(join(root, 's'));
    mkdirSync(join(root, 'l'));
    const ref = await buildReferenceLake({ songs: join(root, 's'), logs: join(root, 'l') }).finally(() => rmSync(root, { recursive: true, force: true }));
    try {
      // A seeded spread of keys and doubles: integers, fractions, tiny, huge, negative.
      let seed = 42;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const keys = Array.from({ length: 200 }, (_, i) => `${Math.floor(rnd() * 1e6)}|${i % 3 ? Math.floor(rnd() * 1e4) : ''}|${i}|${Math.floor(rnd() * 2e12)}`);
      const nums = Array.from({ length: 400 }, (_, i) => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 50 - 25) * (i % 5 === 0 ? 1 : 1.000001)).concat([0.1, 100, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, 0.000001, 1.5e-6]);
      const got = await ref.connection.runAndReadAll(
        `SELECT k, fnv1a63(k)::VARCHAR FROM (SELECT unnest([${keys.map((k) => `'${k}'`).join(',')}]) AS k)`,
      );
      for (const [k, id] of got.getRowsJS() as [string, string][]) assert.equal(id, songplayId(k), k);
      const texts = await ref.connection.runAndReadAll(`SELECT x, js_number(x) FROM (SELECT unnest([${nums.map((n) => `${n.toExponential(17)}::DOUBLE`).join(',')}]) AS x)`);
      for (const [x, text] of texts.getRowsJS() as [number, string][]) assert.equal(text, String(x), `number ${x}`);
    } finally {
      ref.close();
    }
  });
});
