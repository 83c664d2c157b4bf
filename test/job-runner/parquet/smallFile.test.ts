// The JS small-file encoder (parquet/smallFile.ts, snappy.ts, thriftCompact.ts) against parquet-wasm
// on the same rows, judged by two independent readers: DuckDB (values, schema, statistics, codec)
// and arrow-rs itself (parquet-wasm's reader decodes our pages, our snappy and our Thrift footer).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import type { Column, ColumnBatch } from '../../../job-runner/src/columnar/batch.js';
import { SMALL_FILE_MAX_ROWS } from '../../../job-runner/src/parquet/smallFile.js';
import { TABLE_SCHEMAS } from '../../../job-runner/src/parquet/tables.js';
import { encodeTableFile, writeTableFile, writeTableStream } from '../../../job-runner/src/parquet/writer.js';
import { TABLES, type TableName } from '../../../job-runner/src/run/types.js';
import { tempDir } from '../../helpers/paths.js';
import { batch, f64, i32, i64, i64big, seeded, str, tsMs } from '../columnar/fixtures.js';
import { openDuck, sqlPath, type Duck } from './duck.js';

// Values chosen to break a hand-written encoder: byte order vs UTF-16 order ('\uffff' < '😀' in
// UTF-16, > in bytes), empty strings, NUL, every UTF-8 length, -0 and 0, extremes of every type.
const STRINGS = ['', 'a', 'A', 'é', 'z', '\uffff', '😀', 'a\u0000b', '日本', '"q"\\', 'x'.repeat(300), 'Zoë', ' '];
const DOUBLES = [0, -0, 1.5, -1.5, 5e-324, -Number.MAX_VALUE, Number.MAX_VALUE, 218.93179, -0.000001];
const INTS = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 7];
const LONGS = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 1541105830796];
const BIGS = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n];

function randomTableBatch(table: TableName, n: number, seed: number): ColumnBatch {
  const rnd = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const columns: Record<string, Column> = {};
  // Some batches have no nulls at all, some a column of nulls only.
  const nullShare = pick([0, 0.2, 1]);
  for (const spec of TABLE_SCHEMAS[table].columns) {
    const rows = Array.from({ length: n }, () => spec.nullable && rnd() < nullShare);
    switch (spec.kind) {
      case 'str':
        columns[spec.name] = str(rows.map((isNull) => (isNull ? null : pick(STRINGS) + (rnd() < 0.5 ? String(Math.floor(rnd() * 100)) : ''))));
        break;
      case 'f64':
        columns[spec.name] = f64(rows.map((isNull) => (isNull ? null : rnd() < 0.5 ? pick(DOUBLES) : (rnd() - 0.5) * 1000)));
        break;
      case 'i32':
        columns[spec.name] = i32(rows.map((isNull) => (isNull ? null : pick(INTS))));
        break;
      case 'ts-ms':
        columns[spec.name] = tsMs(rows.map((isNull) => (isNull ? null : Math.floor(rnd() * 253402300799999))));
        break;
      case 'i64':
        columns[spec.name] =
          spec.name === 'songplay_id' ? i64big(rows.map((isNull) => (isNull ? null : pick(BIGS) + BigInt(Math.floor(rnd() * 3)) * (rnd() < 0.5 ? 1n : -1n)))) : i64(rows.map((isNull) => (isNull ? null : pick(LONGS) + Math.floor(rnd() * 3))));
        break;
    }
  }
  // Keep every value in range after the small offsets added above.
  const id = columns.songplay_id;
  if (id?.kind === 'i64' && id.data instanceof BigInt64Array) for (let i = 0; i < n; i++) id.data[i] = BigInt.asIntN(64, id.data[i]!);
  for (const c of Object.values(columns)) if (c.kind === 'i64' && c.data instanceof Float64Array) for (let i = 0; i < n; i++) c.data[i] = Math.max(-(2 ** 53 - 1), Math.min(2 ** 53 - 1, c.data[i]!));
  return batch(columns);
}

const jsonOf = (v: unknown) => JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && Object.is(x, -0) ? '-0' : x));

/** Rows as arrow-rs reads them: parquet-wasm's reader → Arrow IPC → apache-arrow. */
function readWithArrowRs(bytes: Uint8Array): unknown[] {
  const table = parquetWasm.readParquet(bytes);
  const arrow = tableFromIPC(table.intoIPCStream());
  return arrow.toArray().map((r) => {
    const o = r.toJSON() as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) if (v instanceof Uint8Array) o[k] = Buffer.from(v).toString('hex');
    return o;
  });
}

describe('small files: the JS encoder against parquet-wasm, read by DuckDB and arrow-rs', () => {
  let duck: Duck;
  const root = tempDir('slake-small-');
  before(async () => {
    duck = await openDuck();
  });
  after(() => duck?.close());

  const meta = (f: string) =>
    `SELECT path_in_schema, type, num_values, stats_min, stats_max, stats_null_count, stats_min_value, stats_max_value, min_is_exact, max_is_exact, compression FROM parquet_metadata(${sqlPath(f)}) ORDER BY column_id`;
  const schema = (f: string) => `SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema(${sqlPath(f)})`;
  const fileMeta = (f: string) => `SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata(${sqlPath(f)})`;

  for (const table of TABLES) {
    test(`${table}: 40 random batches of 1..${SMALL_FILE_MAX_ROWS} rows give the same rows, schema and statistics`, async () => {
      for (let k = 0; k < 40; k++) {
        const n = k < 3 ? [1, 2, SMALL_FILE_MAX_ROWS][k]! : 1 + Math.floor(seeded(k * 31 + 7)() * SMALL_FILE_MAX_ROWS);
        const rows = randomTableBatch(table, n, 1000 * TABLES.indexOf(table) + k);
        const js = await writeTableFile(table, rows);
        const wasm = await writeTableFile(table, rows, { smallFiles: false });
        const a = join(root, `${table}-${k}-js.parquet`);
        const b = join(root, `${table}-${k}-wasm.parquet`);
        writeFileSync(a, js);
        writeFileSync(b, wasm);
        const what = `${table} batch ${k} (${n} rows)`;
        assert.equal(jsonOf(await duck.rows(`SELECT * FROM read_parquet(${sqlPath(a)})`)), jsonOf(await duck.rows(`SELECT * FROM read_parquet(${sqlPath(b)})`)), `${what}: rows`);
        assert.deepEqual(await duck.types(`SELECT * FROM read_parquet(${sqlPath(a)})`), await duck.types(`SELECT * FROM read_parquet(${sqlPath(b)})`), `${what}: types`);
        assert.deepEqual(await duck.rows(schema(a)).then((r) => r.map(({ ...x }) => x)), await duck.rows(schema(b)), `${what}: schema`);
        assert.equal(jsonOf(await duck.rows(meta(a))), jsonOf(await duck.rows(meta(b))), `${what}: statistics and codec`);
        assert.deepEqual(await duck.rows(fileMeta(a)), await duck.rows(fileMeta(b)), `${what}: file metadata`);
        assert.equal(jsonOf(readWithArrowRs(js)), jsonOf(readWithArrowRs(wasm)), `${what}: arrow-rs reads the same values`);
        assert.ok(js.length < wasm.length, `${what}: no dictionary pages or page index: smaller (${js.length} vs ${wasm.length} bytes)`);
      }
    });
  }

  test('snappy: long repeats become copies (offsets past 2 KiB, runs past 64 bytes), and both readers decode them', async () => {
    const rnd = seeded(5);
    const alphabet = 'abcdefgh';
    const values: string[] = [];
    for (let i = 0; i < 30; i++) {
      const unit = Array.from({ length: 1 + Math.floor(rnd() * 3000) }, () => alphabet[Math.floor(rnd() * (rnd() < 0.5 ? 2 : 8))]).join('');
      values.push(unit.repeat(1 + Math.floor(rnd() * 4)) + 'é'.repeat(Math.floor(rnd() * 200)));
    }
    const rows = batch({ artist_id: str(values), name: str(values.map((v) => v.slice(0, 70))), location: str(values.map(() => null)), latitude: f64(values.map(() => 1)), longitude: f64(values.map((_, i) => i)) });
    const js = encodeTableFile('artists', rows);
    const file = join(root, 'snappy.parquet');
    writeFileSync(file, js);
    const got = await duck.rows(`SELECT artist_id FROM read_parquet(${sqlPath(file)})`);
    assert.deepEqual(got.map((r) => r.artist_id), values);
    assert.deepEqual(readWithArrowRs(js).map((r) => (r as { artist_id: string }).artist_id), values);
    const [sizes] = await duck.rows(`SELECT sum(total_compressed_size) AS c, sum(total_uncompressed_size) AS u FROM parquet_metadata(${sqlPath(file)}) WHERE path_in_schema = 'artist_id'`);
    assert.ok(Number(sizes!.c) < Number(sizes!.u) / 2, `repetitive strings compress: ${String(sizes!.c)} of ${String(sizes!.u)} bytes`);
  });

  test('compression none is read back; the same rows give the same bytes by every path', async () => {
    const rows = randomTableBatch('songplays', 17, 99);
    const plain = encodeTableFile('songplays', rows, { compression: 'none' });
    const file = join(root, 'plain.parquet');
    writeFileSync(file, plain);
    assert.deepEqual(await duck.rows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlPath(file)})`), [{ compression: 'UNCOMPRESSED' }]);
    const once = Buffer.from(encodeTableFile('songplays', rows));
    const snappyFile = join(root, 'snappy-17.parquet');
    writeFileSync(snappyFile, once);
    assert.equal(jsonOf(await duck.rows(`SELECT * FROM read_parquet(${sqlPath(file)})`)), jsonOf(await duck.rows(`SELECT * FROM read_parquet(${sqlPath(snappyFile)})`)));
    async function* pieces(): AsyncGenerator<ColumnBatch> {
      yield { length: 5, columns: rows.columns.map(({ name, column }) => ({ name, column: sliceColumn(column, 0, 5) })) };
      yield { length: 12, columns: rows.columns.map(({ name, column }) => ({ name, column: sliceColumn(column, 5, 17) })) };
    }
    const parts: Uint8Array[] = [];
    for await (const c of writeTableStream('songplays', pieces())) parts.push(c);
    assert.ok(once.equals(Buffer.concat(parts)), 'streamed in two pieces');
    assert.ok(once.equals(Buffer.from(await writeTableFile('songplays', rows))), 'writeTableFile');
    assert.ok(once.equals(Buffer.from(encodeTableFile('songplays', rows))), 'twice');
  });

  test('bad rows are refused with the same messages as the parquet-wasm path', async () => {
    const good = randomTableBatch('songplays', 3, 1);
    const replace = (name: string, column: Column): ColumnBatch => ({ length: 3, columns: good.columns.map((c) => (c.name === name ? { name, column } : c)) });
    for (const [bad, error] of [
      [replace('start_time', tsMs([null, 1, 2])), /writing songplays Parquet: .*column start_time is declared non-nullable but 1 of 3 rows are null/],
      [replace('session_id', i64([1.5, 2, 3])), /writing songplays Parquet: column session_id: row 0 holds 1.5/],
      [replace('user_id', f64([1, 2, 3])), /column user_id is f64, the table wants i64/],
    ] as const) {
      assert.throws(() => encodeTableFile('songplays', bad), error);
      await assert.rejects(writeTableFile('songplays', bad, { smallFiles: false }), error);
    }
  });
});

function sliceColumn(c: Column, s: number, e: number): Column {
  const valid = c.valid === null ? null : c.valid.subarray(s, e);
  if (c.kind === 'str') return { kind: 'str', codes: c.codes.subarray(s, e), dict: c.dict, valid };
  return { ...c, data: c.data.subarray(s, e), valid } as Column;
}
