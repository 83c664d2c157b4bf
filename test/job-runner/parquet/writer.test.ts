// The Parquet writer, read back by DuckDB (the independent reader) exactly as analysts will:
// read_parquet('<root>/<table>/**/*.parquet', hive_partitioning = true) must give exactly the table,
// with the types of DESIGN.md.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import type { Column, ColumnBatch } from '../../../job-runner/src/columnar/batch.js';
import { sliceBatch } from '../../../job-runner/src/columnar/take.js';
import { footerKeys } from '../../../job-runner/src/parquet/footer.js';
import { TABLE_SCHEMAS } from '../../../job-runner/src/parquet/tables.js';
import { CREATED_BY, encodeTableFile, writeTableFile, writeTableStream } from '../../../job-runner/src/parquet/writer.js';
import { tableFileKey } from '../../../job-runner/src/run/partitionPath.js';
import type { TableName } from '../../../job-runner/src/run/types.js';
import { tempDir } from '../../helpers/paths.js';
import { batch, f64, i32, i64, i64big, seeded, str, tsMs } from '../columnar/fixtures.js';
import { openDuck, sqlPath, type Duck } from './duck.js';

type Row = Record<string, string | number | bigint | null>;

const MS = (iso: string): number => Date.parse(iso);

/** ISO-8601 week number, written independently of the engine. */
function isoWeek(ms: number): number {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const firstThursday = new Date(thursday);
  const jan4 = Date.UTC(firstThursday.getUTCFullYear(), 0, 4);
  const jan4Day = (new Date(jan4).getUTCDay() + 6) % 7;
  return 1 + Math.round((thursday - (jan4 - jan4Day * 86400000 + 3 * 86400000)) / (7 * 86400000));
}

// One small lake whose rows cover nulls, unicode, hostile partition values, ids above 2^53 and UTC
// month/year boundaries. Expected rows are what DuckDB must return, partition columns included.
const TIMES = ['2018-11-30T23:59:59.999Z', '2018-12-01T00:00:00.000Z', '2018-12-31T23:59:59.999Z', '2019-01-01T00:00:00.000Z', '2021-01-03T12:34:56.789Z'].map(MS);

const LAKE: Record<TableName, { partitions: { values: Record<string, string>; batch: ColumnBatch }[]; want: Row[]; key: string }> = {
  songs: {
    key: 'song_id',
    partitions: [
      { values: { year: '0', artist_id: 'AR/../x=1' }, batch: batch({ song_id: str(['S1', 'S2']), title: str(['Héllo 日本', null]), duration: f64([218.93179, null]) }) },
      { values: { year: '1969', artist_id: 'ARé:100%' }, batch: batch({ song_id: str(['S3']), title: str(['"quoted", \\ and \n']), duration: f64([0.5]) }) },
    ],
    want: [
      { song_id: 'S1', title: 'Héllo 日本', duration: 218.93179, year: 0n, artist_id: 'AR/../x=1' },
      { song_id: 'S2', title: null, duration: null, year: 0n, artist_id: 'AR/../x=1' },
      { song_id: 'S3', title: '"quoted", \\ and \n', duration: 0.5, year: 1969n, artist_id: 'ARé:100%' },
    ],
  },
  artists: {
    key: 'artist_id',
    partitions: [{ values: {}, batch: batch({ artist_id: str(['AR1', 'AR/../x=1']), name: str(['Mötley Crüe', '']), location: str([null, 'Kyiv, Україна']), latitude: f64([35.14968, null]), longitude: f64([-90.04892, null]) }) }],
    want: [
      { artist_id: 'AR/../x=1', name: '', location: 'Kyiv, Україна', latitude: null, longitude: null },
      { artist_id: 'AR1', name: 'Mötley Crüe', location: null, latitude: 35.14968, longitude: -90.04892 },
    ],
  },
  users: {
    key: 'user_id',
    partitions: [{ values: {}, batch: batch({ user_id: i64([0, 2 ** 53 - 1, 26]), first_name: str(['Zoë', null, 'Ryan']), last_name: str(['李', null, 'Smith']), gender: str(['F', null, 'M']), level: str(['paid', 'free', 'free']) }) }],
    want: [
      { user_id: 0n, first_name: 'Zoë', last_name: '李', gender: 'F', level: 'paid' },
      { user_id: 26n, first_name: 'Ryan', last_name: 'Smith', gender: 'M', level: 'free' },
      { user_id: 9007199254740991n, first_name: null, last_name: null, gender: null, level: 'free' },
    ],
  },
  time: { key: 'start_ms', partitions: [], want: [] },
  songplays: {
    key: 'songplay_id',
    partitions: [
      {
        values: { year: '2018', month: '11' },
        batch: batch({
          songplay_id: i64big([2n ** 63n - 1n]),
          start_time: tsMs([TIMES[0]]),
          user_id: i64([26]),
          level: str(['free']),
          song_id: str([null]),
          artist_id: str([null]),
          session_id: i64([583]),
          location: str(['San Jose-Sunnyvale-Santa Clara, CA']),
          user_agent: str(['"Mozilla/5.0 (X11; Linux x86_64)"']),
        }),
      },
      {
        values: { year: '2018', month: '12' },
        batch: batch({
          songplay_id: i64big([2n ** 53n + 1n, 1n]),
          start_time: tsMs([TIMES[1], TIMES[2]]),
          user_id: i64([2 ** 53 - 1, 0]),
          level: str(['paid', null]),
          song_id: str(['S1', null]),
          artist_id: str(['AR/../x=1', null]),
          session_id: i64([null, 0]),
          location: str(['日本', '']),
          user_agent: str([null, 'ua']),
        }),
      },
    ],
    want: [
      { songplay_id: 1n, start_ms: BigInt(TIMES[2]), user_id: 0n, level: null, song_id: null, artist_id: null, session_id: 0n, location: '', user_agent: 'ua', year: 2018n, month: 12n },
      { songplay_id: 2n ** 53n + 1n, start_ms: BigInt(TIMES[1]), user_id: 2n ** 53n - 1n, level: 'paid', song_id: 'S1', artist_id: 'AR/../x=1', session_id: null, location: '日本', user_agent: null, year: 2018n, month: 12n },
      { songplay_id: 2n ** 63n - 1n, start_ms: BigInt(TIMES[0]), user_id: 26n, level: 'free', song_id: null, artist_id: null, session_id: 583n, location: 'San Jose-Sunnyvale-Santa Clara, CA', user_agent: '"Mozilla/5.0 (X11; Linux x86_64)"', year: 2018n, month: 11n },
    ],
  },
};

// time rows derive from TIMES with an independent calendar computation.
for (const ms of TIMES) {
  const d = new Date(ms);
  const values = { year: String(d.getUTCFullYear()), month: String(d.getUTCMonth() + 1) };
  LAKE.time.partitions.push({ values, batch: batch({ start_time: tsMs([ms]), hour: i32([d.getUTCHours()]), day: i32([d.getUTCDate()]), week: i32([isoWeek(ms)]), weekday: i32([((d.getUTCDay() + 6) % 7) + 1]) }) });
  LAKE.time.want.push({ start_ms: BigInt(ms), hour: d.getUTCHours(), day: d.getUTCDate(), week: isoWeek(ms), weekday: ((d.getUTCDay() + 6) % 7) + 1, year: BigInt(values.year), month: BigInt(values.month) });
}

const WANT_TYPES: Record<TableName, Record<string, string>> = {
  songs: { song_id: 'VARCHAR', title: 'VARCHAR', duration: 'DOUBLE', year: 'BIGINT', artist_id: 'VARCHAR' },
  artists: { artist_id: 'VARCHAR', name: 'VARCHAR', location: 'VARCHAR', latitude: 'DOUBLE', longitude: 'DOUBLE' },
  users: { user_id: 'BIGINT', first_name: 'VARCHAR', last_name: 'VARCHAR', gender: 'VARCHAR', level: 'VARCHAR' },
  time: { start_time: 'TIMESTAMP WITH TIME ZONE', hour: 'INTEGER', day: 'INTEGER', week: 'INTEGER', weekday: 'INTEGER', year: 'BIGINT', month: 'BIGINT' },
  songplays: {
    songplay_id: 'BIGINT',
    start_time: 'TIMESTAMP WITH TIME ZONE',
    user_id: 'BIGINT',
    level: 'VARCHAR',
    song_id: 'VARCHAR',
    artist_id: 'VARCHAR',
    session_id: 'BIGINT',
    location: 'VARCHAR',
    user_agent: 'VARCHAR',
    year: 'BIGINT',
    month: 'BIGINT',
  },
};

// Every partition here is a small file: once through the JS small-file encoder (the default for
// 1..64 rows), once through parquet-wasm; both must read back exactly.
for (const smallFiles of [true, false]) describe(`five tables read back by DuckDB with hive_partitioning (${smallFiles ? 'JS small files' : 'parquet-wasm'})`, () => {
  let root: string;
  let duck: Duck;
  before(async () => {
    root = tempDir('slake-parquet-');
    duck = await openDuck();
    for (const [table, spec] of Object.entries(LAKE) as [TableName, (typeof LAKE)[TableName]][]) {
      for (const [i, p] of spec.partitions.entries()) {
        const path = join(root, tableFileKey(table, p.values, 'run-1', i));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, await writeTableFile(table, p.batch, { smallFiles }));
      }
    }
  });
  after(() => {
    duck.close();
    rmSync(root, { recursive: true, force: true });
  });

  const glob = (table: string) => `read_parquet(${sqlPath(join(root, table, '**', '*.parquet'))}, hive_partitioning = true)`;

  for (const table of Object.keys(LAKE) as TableName[]) {
    test(`${table}: exact types and rows`, async () => {
      assert.deepEqual(await duck.types(`SELECT * FROM ${glob(table)}`), WANT_TYPES[table]);
      const cols = Object.keys(WANT_TYPES[table]).map((c) => (c === 'start_time' ? 'epoch_ms(start_time) AS start_ms' : c));
      const got = await duck.rows(`SELECT ${cols.join(', ')} FROM ${glob(table)} ORDER BY ${LAKE[table].key}`);
      assert.deepEqual(got, LAKE[table].want);
    });
  }

  test('start_time is TIMESTAMP(MILLIS, isAdjustedToUTC=true) in the file; keys are REQUIRED, the rest OPTIONAL', async () => {
    for (const table of ['songs', 'artists', 'users', 'time', 'songplays'] as const) {
      const file = join(root, tableFileKey(table, LAKE[table].partitions[0].values, 'run-1', 0));
      const schema = await duck.rows(`SELECT name, type, repetition_type, logical_type FROM parquet_schema(${sqlPath(file)}) WHERE name <> 'arrow_schema'`);
      assert.deepEqual(schema.map((r) => r.name), TABLE_SCHEMAS[table].columns.map((c) => c.name));
      assert.deepEqual(
        schema.filter((r) => r.repetition_type === 'REQUIRED').map((r) => r.name),
        TABLE_SCHEMAS[table].columns.filter((c) => !c.nullable).map((c) => c.name),
      );
      const ts = schema.find((r) => r.name === 'start_time');
      if (ts === undefined) continue;
      assert.equal(ts.type, 'INT64');
      assert.match(String(ts.logical_type), /isAdjustedToUTC=1/);
      assert.match(String(ts.logical_type), /MILLIS=MilliSeconds\(\)/);
    }
  });

  test('created_by names sparkify-lake, columns are snappy, dictionary-encoded unless unique per row (parquet-wasm) or plain (small files), no ARROW:schema', async () => {
    const file = join(root, tableFileKey('songplays', { year: '2018', month: '12' }, 'run-1', 1));
    const [meta] = await duck.rows(`SELECT created_by FROM parquet_file_metadata(${sqlPath(file)})`);
    assert.equal(meta.created_by, CREATED_BY);
    const chunks = await duck.rows(`SELECT path_in_schema, compression, encodings FROM parquet_metadata(${sqlPath(file)})`);
    assert.equal(chunks.length, 9);
    const dictionary = new Map(TABLE_SCHEMAS.songplays.columns.map((c) => [c.name, c.dictionary]));
    assert.deepEqual([...dictionary.values()].filter((d) => !d).length, 2, 'songplay_id and start_time are written plain');
    for (const c of chunks) {
      assert.equal(c.compression, 'SNAPPY');
      if (smallFiles) assert.equal(String(c.encodings), 'PLAIN, RLE', String(c.path_in_schema));
      else if (dictionary.get(String(c.path_in_schema))) assert.match(String(c.encodings), /RLE_DICTIONARY/, String(c.path_in_schema));
      else assert.doesNotMatch(String(c.encodings), /DICTIONARY/, String(c.path_in_schema));
    }
    const kv = await duck.rows(`SELECT key FROM parquet_kv_metadata(${sqlPath(file)})`);
    assert.deepEqual(kv, []);
  });
});

/** A songplays-like batch of n rows with realistic cardinalities (seeded). */
function songplaysBatch(n: number, seed: number): ColumnBatch {
  const rnd = seeded(seed);
  const pick = (k: number) => Math.floor(rnd() ** 2 * k);
  const songs = Array.from({ length: 2000 }, (_, i) => `SO${i.toString(36).toUpperCase().padStart(16, 'X')}`);
  const agents = Array.from({ length: 40 }, (_, i) => `"Mozilla/5.0 (Windows NT 6.${i % 4}; WOW64) AppleWebKit/537.${i}"`);
  const rows = Array.from({ length: n }, (_, i) => i);
  const col = (values: (string | null)[]): Column => str(values);
  return batch({
    songplay_id: i64big(rows.map((i) => (BigInt(i) * 0x9e3779b97f4a7c15n) & 0x7fffffffffffffffn)),
    start_time: tsMs(rows.map((i) => MS('2018-11-01T00:00:00Z') + i * 1000)),
    user_id: i64(rows.map(() => pick(100))),
    level: col(rows.map(() => (rnd() < 0.7 ? 'paid' : 'free'))),
    song_id: col(rows.map(() => (rnd() < 0.3 ? songs[pick(2000)] : null))),
    artist_id: col(rows.map(() => (rnd() < 0.3 ? `AR${pick(500)}` : null))),
    session_id: i64(rows.map(() => pick(5000))),
    location: col(rows.map(() => `City ${pick(50)}, ST`)),
    user_agent: col(rows.map(() => agents[pick(40)])),
  });
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

describe('row groups, determinism, streaming', () => {
  const data = songplaysBatch(40_000, 3);

  test('same rows give identical bytes: twice, and however the input is batched', async () => {
    const a = Buffer.from(await writeTableFile('songplays', data, { rowGroupRows: 10_000 }));
    const b = Buffer.from(await writeTableFile('songplays', data, { rowGroupRows: 10_000 }));
    assert.ok(a.equals(b));
    async function* uneven(): AsyncGenerator<ColumnBatch> {
      for (const [s, e] of [[0, 7], [7, 7], [7, 15_001], [15_001, 40_000]]) yield sliceBatch(data, s, e);
    }
    const streamed = await collect(writeTableStream('songplays', uneven(), { rowGroupRows: 10_000 }));
    assert.ok(a.equals(streamed), 'streamed file differs from the one-shot file');
  });

  test('the synchronous one-row-group path gives the same bytes as the stream', async () => {
    const small = sliceBatch(data, 0, 9_000);
    const sync = Buffer.from(encodeTableFile('songplays', small, { rowGroupRows: 10_000 }));
    async function* pieces(): AsyncGenerator<ColumnBatch> {
      yield sliceBatch(small, 0, 4_000);
      yield sliceBatch(small, 4_000, 9_000);
    }
    assert.ok(sync.equals(await collect(writeTableStream('songplays', pieces(), { rowGroupRows: 10_000 }))));
    assert.ok(sync.equals(Buffer.from(await writeTableFile('songplays', small, { rowGroupRows: 10_000 }))));
    assert.throws(() => encodeTableFile('songplays', small, { rowGroupRows: 8_000 }), /9000 rows exceed one row group of 8000/);
  });

  test('row groups of rowGroupRows rows; DuckDB sums match the input', async () => {
    const root = tempDir('slake-rg-');
    try {
      const file = join(root, 'part.parquet');
      writeFileSync(file, await writeTableFile('songplays', data, { rowGroupRows: 16_384 }));
      const duck = await openDuck();
      try {
        const groups = await duck.rows(`SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata(${sqlPath(file)}) GROUP BY 1 ORDER BY 1`);
        assert.deepEqual(groups.map((g) => g.n), [16_384n, 16_384n, 7_232n]);
        const [agg] = await duck.rows(
          `SELECT count(*) AS n, sum(user_id) AS users, sum(session_id) AS sessions, count(song_id) AS songs, sum(epoch_ms(start_time)) AS ms, max(songplay_id) AS maxid FROM read_parquet(${sqlPath(file)})`,
        );
        const sum = (name: string) => {
          const c = data.columns.find((x) => x.name === name)!.column as { data: Float64Array };
          return BigInt(c.data.reduce((s, v) => s + v, 0));
        };
        const songs = data.columns.find((x) => x.name === 'song_id')!.column;
        const ids = (data.columns[0].column as { data: BigInt64Array }).data;
        assert.deepEqual(agg, {
          n: 40_000n,
          users: sum('user_id'),
          sessions: sum('session_id'),
          songs: BigInt(songs.valid!.reduce((s, v) => s + v, 0)),
          ms: BigInt(sum('start_time')),
          maxid: ids.reduce((m, v) => (v > m ? v : m), 0n),
        });
      } finally {
        duck.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('zstd is available and read by DuckDB', async () => {
    const root = tempDir('slake-zstd-');
    try {
      const file = join(root, 'z.parquet');
      writeFileSync(file, await writeTableFile('songplays', data, { compression: 'zstd' }));
      const duck = await openDuck();
      try {
        const codecs = await duck.rows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlPath(file)})`);
        assert.deepEqual(codecs, [{ compression: 'ZSTD' }]);
        assert.deepEqual(await duck.rows(`SELECT count(*) AS n FROM read_parquet(${sqlPath(file)})`), [{ n: 40_000n }]);
      } finally {
        duck.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('an empty input is a valid file with the schema and no rows', async () => {
    const file = await writeTableFile('users', batch({ user_id: i64([]), first_name: str([]), last_name: str([]), gender: str([]), level: str([]) }));
    const table = tableFromIPC(parquetWasm.readParquet(file).intoIPCStream());
    assert.equal(table.numRows, 0);
    assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${f.type}`), ['user_id:Int64', 'first_name:Utf8', 'last_name:Utf8', 'gender:Utf8', 'level:Utf8']);
  });

  test('a second reader (arrow-rs via parquet-wasm) sees plain Utf8 strings, not dictionaries', async () => {
    const file = await writeTableFile('songplays', sliceBatch(data, 0, 100));
    assert.deepEqual(footerKeys(file), []);
    const table = tableFromIPC(parquetWasm.readParquet(file).intoIPCStream());
    assert.deepEqual(
      table.schema.fields.map((f) => `${f.name}:${f.type}`),
      ['songplay_id:Int64', 'start_time:Timestamp<MILLISECOND, UTC>', 'user_id:Int64', 'level:Utf8', 'song_id:Utf8', 'artist_id:Utf8', 'session_id:Int64', 'location:Utf8', 'user_agent:Utf8'],
    );
    assert.equal(table.getChild('songplay_id')!.get(99), (data.columns[0].column as { data: BigInt64Array }).data[99]);
  });
});

describe('bad input is refused with an actionable message', () => {
  const good = LAKE.songplays.partitions[1].batch;
  const without = (name: string): ColumnBatch => ({ ...good, columns: good.columns.filter((c) => c.name !== name) });
  const replace = (name: string, column: Column): ColumnBatch => ({ ...good, columns: good.columns.map((c) => (c.name === name ? { name, column } : c)) });
  const cases: { name: string; run: () => Promise<unknown>; error: RegExp }[] = [
    { name: 'a missing column', run: () => writeTableFile('songplays', without('user_agent')), error: /songplays batch has no column user_agent/ },
    { name: 'a column of the wrong kind', run: () => writeTableFile('songplays', replace('user_id', f64([1, 2]))), error: /column user_id is f64, the table wants i64/ },
    { name: 'a null in a non-nullable column', run: () => writeTableFile('songplays', replace('start_time', tsMs([null, 1]))), error: /column start_time is declared non-nullable but 1 of 2 rows are null/ },
    { name: 'a fractional id', run: () => writeTableFile('songplays', replace('session_id', i64([1.5, 2]))), error: /column session_id: row 0 holds 1.5/ },
    { name: 'an unknown table', run: () => writeTableFile('plays' as TableName, good), error: /unknown table "plays"/ },
    { name: 'a zero row group size', run: () => writeTableFile('songplays', good, { rowGroupRows: 0 }), error: /rowGroupRows must be a positive integer/ },
    {
      name: 'a bad batch late in a stream',
      run: () =>
        collect(
          writeTableStream('songplays', (async function* () {
            yield good;
            yield without('level');
          })()),
        ),
      error: /writing songplays Parquet: songplays batch has no column level/,
    },
  ];
  for (const c of cases) test(c.name, () => assert.rejects(c.run(), c.error));

  test('extra columns (e.g. the partition columns) are not written', async () => {
    const withYear = { ...good, columns: [...good.columns, { name: 'year', column: i32([2018, 2018]) }] };
    const table = tableFromIPC(parquetWasm.readParquet(await writeTableFile('songplays', withYear)).intoIPCStream());
    assert.ok(!table.schema.fields.some((f) => f.name === 'year'));
  });
});
