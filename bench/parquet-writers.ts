// Chooses the Parquet writer by measurement (docs/parquet-writer.md), and times the columnar batch
// operations the build stage uses.
//
//   node dist/bench/parquet-writers.js [--rows 1000000] [--songs 15000] [--writers wasm,wasm-zstd,js-small,parquetjs,duckdb]
//                                      [--shapes songplays,songs,song-partitions] [--ops-rows 10000000] [--skip-ops | --ops-only]
//
// Each (writer, shape) runs in its own child process so its peak RSS is its own. The input is built
// before the clock starts; a writer is timed from its natural input (our ColumnBatch for parquet-wasm,
// JS row objects for parquetjs-lite, a DuckDB table for COPY) to files on local disk. Every output is
// then read back by DuckDB and compared with the source rows (types and values, EXCEPT ALL both ways),
// and parquetjs-lite's reader is tried on its own file and on ours. Not a test: it takes a minute.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBConnection } from '@duckdb/node-api';
import * as parquetWasm from 'parquet-wasm';
import type { Column, ColumnBatch } from '../job-runner/src/columnar/batch.js';
import { BatchBuilder } from '../job-runner/src/columnar/builder.js';
import { concatBatches } from '../job-runner/src/columnar/concat.js';
import { decodeSegment, encodeSegment } from '../job-runner/src/columnar/segment.js';
import { groupStarts, sortIndices } from '../job-runner/src/columnar/sort.js';
import { takeRows } from '../job-runner/src/columnar/take.js';
import { writeTableFile } from '../job-runner/src/parquet/writer.js';
import { tableFileKey } from '../job-runner/src/run/partitionPath.js';

// ---------- deterministic input shaped like our tables ----------

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const id18 = (prefix: string, i: number) => prefix + i.toString(36).toUpperCase().padStart(16, '0');
const CITY = (i: number) => `City ${i}-Metro Area, ${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + ((i >> 5) % 26))}`;
const AGENT = (i: number) => `"Mozilla/5.0 (Windows NT 6.${i % 4}; WOW64) AppleWebKit/537.${i} (KHTML, like Gecko) Chrome/36.0.1985.${100 + i} Safari/537.36"`;

function strColumn(codes: Int32Array, dict: string[], valid: Uint8Array | null): Column {
  return { kind: 'str', codes, dict, valid };
}

/**
 * songplays: 1M plays over one month by 5,000 users (Zipf-like), 2 levels, ~50k sessions, 60% of
 * plays matched to 100k songs / 30k artists (Zipf), 1,000 locations, 60 user agents, 63-bit ids.
 */
function songplays(n: number): ColumnBatch {
  const r = rng(1);
  const words = new Int32Array(2 * n);
  const startTime = new Float64Array(n);
  const userId = new Float64Array(n);
  const session = new Float64Array(n);
  const level = new Int32Array(n);
  const song = new Int32Array(n);
  const artist = new Int32Array(n);
  const matched = new Uint8Array(n);
  const location = new Int32Array(n);
  const agent = new Int32Array(n);
  let t = Date.UTC(2018, 10, 1);
  for (let i = 0; i < n; i++) {
    words[2 * i] = Math.floor(r() * 4294967296) | 0;
    words[2 * i + 1] = Math.floor(r() * 2147483648); // top bit clear: a non-negative int64 above 2^53
    t += Math.floor(r() * 5000);
    startTime[i] = t;
    const user = Math.floor(5000 * r() ** 3);
    userId[i] = user + 1;
    session[i] = Math.floor(i / 20);
    level[i] = user % 10 < 7 ? 1 : 0;
    if (r() < 0.6) {
      const s = Math.floor(100_000 * r() ** 4);
      song[i] = s;
      artist[i] = s % 30_000;
      matched[i] = 1;
    }
    location[i] = user % 1000;
    agent[i] = user % 60;
  }
  return {
    length: n,
    columns: [
      { name: 'songplay_id', column: { kind: 'i64', data: new BigInt64Array(words.buffer), valid: null } },
      { name: 'start_time', column: { kind: 'ts-ms', data: startTime, valid: null } },
      { name: 'user_id', column: { kind: 'i64', data: userId, valid: null } },
      { name: 'level', column: strColumn(level, ['free', 'paid'], null) },
      { name: 'song_id', column: strColumn(song, Array.from({ length: 100_000 }, (_, i) => id18('SO', i)), matched) },
      { name: 'artist_id', column: strColumn(artist, Array.from({ length: 30_000 }, (_, i) => id18('AR', i)), matched) },
      { name: 'session_id', column: { kind: 'i64', data: session, valid: null } },
      { name: 'location', column: strColumn(location, Array.from({ length: 1000 }, (_, i) => CITY(i)), null) },
      { name: 'user_agent', column: strColumn(agent, Array.from({ length: 60 }, (_, i) => AGENT(i)), null) },
    ],
  };
}

/** songs: unique ids and titles, 5% null durations, partitions (year, artist_id): ~10k artists, half the years unknown (0). */
function songs(n: number): { batch: ColumnBatch; year: Int32Array; artist: string[] } {
  const r = rng(2);
  const title: string[] = [];
  const duration = new Float64Array(n);
  const valid = new Uint8Array(n);
  const year = new Int32Array(n);
  const artist: string[] = [];
  const syll = ['la', 'mo', 'ré', 'ka', 'zu', 'ni', 'pa', 'so', 'tö', 'vi'];
  for (let i = 0; i < n; i++) {
    title.push(Array.from({ length: 3 + Math.floor(r() * 6) }, () => syll[Math.floor(r() * syll.length)]).join(' ') + ` ${i}`);
    duration[i] = 30 + r() * 570;
    valid[i] = r() < 0.95 ? 1 : 0;
    year[i] = r() < 0.5 ? 0 : 1950 + Math.floor(r() * 60);
    artist.push(id18('AR', Math.floor(r() * (n / 1.5))));
  }
  const batch: ColumnBatch = {
    length: n,
    columns: [
      { name: 'song_id', column: strColumn(Int32Array.from({ length: n }, (_, i) => i), Array.from({ length: n }, (_, i) => id18('SO', i)), null) },
      { name: 'title', column: strColumn(Int32Array.from({ length: n }, (_, i) => i), title, null) },
      { name: 'duration', column: { kind: 'f64', data: duration, valid } },
    ],
  };
  return { batch, year, artist };
}

type Shape = 'songplays' | 'songs' | 'song-partitions';
type Writer = 'wasm' | 'wasm-zstd' | 'js-small' | 'parquetjs' | 'duckdb';

/** Column order and DuckDB types the lake promises (DESIGN.md). */
const WANT_TYPES: Record<Shape, Record<string, string>> = {
  songplays: { songplay_id: 'BIGINT', start_time: 'TIMESTAMP WITH TIME ZONE', user_id: 'BIGINT', level: 'VARCHAR', song_id: 'VARCHAR', artist_id: 'VARCHAR', session_id: 'BIGINT', location: 'VARCHAR', user_agent: 'VARCHAR' },
  songs: { song_id: 'VARCHAR', title: 'VARCHAR', duration: 'DOUBLE' },
  'song-partitions': { song_id: 'VARCHAR', title: 'VARCHAR', duration: 'DOUBLE', year: 'BIGINT', artist_id: 'VARCHAR' },
};

// ---------- row access without a per-row BigInt for our own writer ----------

function cell(column: Column, row: number): string | number | bigint | null {
  if (column.valid !== null && column.valid[row] === 0) return null;
  return column.kind === 'str' ? column.dict[column.codes[row]] : column.data[row];
}

function rowObjects(batch: ColumnBatch, partition?: { year: Int32Array; artist: string[] }): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const row: Record<string, unknown> = {};
    for (const { name, column } of batch.columns) {
      const v = cell(column, i);
      // parquetjs-lite wants numbers (INT64 goes through parseInt) and Dates or ms for timestamps.
      row[name] = v === null ? null : typeof v === 'bigint' ? String(v) : v;
    }
    if (partition) {
      row.year = partition.year[i];
      row.artist_id = partition.artist[i];
    }
    rows[i] = row;
  }
  return rows;
}

// ---------- parquetjs-lite, typed by hand (it ships no types) ----------

interface PjsWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
  setRowGroupSize(n: number): void;
}
interface PjsReader {
  getCursor(): { next(): Promise<unknown> };
  close(): Promise<void>;
}
interface Pjs {
  ParquetSchema: new (fields: Record<string, { type: string; optional?: boolean; compression?: string }>) => unknown;
  ParquetWriter: { openFile(schema: unknown, path: string, opts?: Record<string, unknown>): Promise<PjsWriter> };
  ParquetReader: { openFile(path: string): Promise<PjsReader> };
}
const pjs = createRequire(import.meta.url)('parquetjs-lite') as Pjs;

function pjsSchema(shape: Shape): unknown {
  const f = (type: string, optional = true) => ({ type, optional, compression: 'SNAPPY' });
  if (shape === 'songplays') {
    return new pjs.ParquetSchema({
      songplay_id: f('INT64', false),
      start_time: f('TIMESTAMP_MILLIS', false),
      user_id: f('INT64', false),
      level: f('UTF8'),
      song_id: f('UTF8'),
      artist_id: f('UTF8'),
      session_id: f('INT64'),
      location: f('UTF8'),
      user_agent: f('UTF8'),
    });
  }
  return new pjs.ParquetSchema({ song_id: f('UTF8', false), title: f('UTF8'), duration: f('DOUBLE') });
}

async function pjsReadAll(path: string): Promise<{ rows: number } | { error: string }> {
  try {
    const reader = await pjs.ParquetReader.openFile(path);
    const cursor = reader.getCursor();
    let rows = 0;
    while (await cursor.next()) rows++;
    await reader.close();
    return { rows };
  } catch (err) {
    return { error: String(err instanceof Error ? err.message : err).slice(0, 160) };
  }
}

// ---------- one measurement, in a child process ----------

interface ChildResult {
  writer: Writer;
  shape: Shape;
  rows: number;
  files: number;
  seconds: number;
  /** User + system CPU seconds of the write: steadier than wall time on a shared machine (WASM and DuckDB here run on one thread). */
  cpuSeconds: number;
  prepSeconds: number;
  bytes: number;
  rssInputMB: number;
  peakRssMB: number;
  wasmMB: number;
  pjsReadsOwn?: { rows: number } | { error: string };
}

function input(shape: Shape, rows: number, songRows: number) {
  if (shape === 'songplays') return { batch: songplays(rows), partition: undefined };
  const s = songs(songRows);
  return { batch: s.batch, partition: shape === 'song-partitions' ? { year: s.year, artist: s.artist } : undefined };
}

/** Partition (year, artist_id) → row indices, in first-seen order. */
function partitionRows(p: { year: Int32Array; artist: string[] }): Map<string, { year: number; artist: string; rows: number[] }> {
  const groups = new Map<string, { year: number; artist: string; rows: number[] }>();
  for (let i = 0; i < p.year.length; i++) {
    const k = `${p.year[i]}\u0000${p.artist[i]}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { year: p.year[i], artist: p.artist[i], rows: [] }));
    g.rows.push(i);
  }
  return groups;
}

async function child(writer: Writer, shape: Shape, rows: number, songRows: number, out: string): Promise<ChildResult> {
  const table = shape === 'songplays' ? 'songplays' : 'songs';
  const { batch, partition } = input(shape, rows, songRows);
  let prepSeconds = 0;
  let files = 0;
  let pjsReadsOwn: ChildResult['pjsReadsOwn'];
  mkdirSync(out, { recursive: true });
  const rssInputMB = process.memoryUsage().rss / 2 ** 20;
  let t0 = performance.now();
  let cpu0 = process.cpuUsage();
  if (writer === 'wasm' || writer === 'wasm-zstd' || writer === 'js-small') {
    const compression = writer === 'wasm-zstd' ? 'zstd' : 'snappy';
    // 'wasm' forces parquet-wasm for every file; 'js-small' is the engine's default, where files of
    // up to SMALL_FILE_MAX_ROWS rows are encoded in JS (parquet/smallFile.ts).
    const smallFiles = writer === 'js-small';
    if (partition) {
      for (const g of partitionRows(partition).values()) {
        const key = tableFileKey('songs', { year: String(g.year), artist_id: g.artist }, 'bench', 0);
        mkdirSync(dirname(join(out, key)), { recursive: true });
        writeFileSync(join(out, key), await writeTableFile('songs', takeRows(batch, Int32Array.from(g.rows)), { compression, smallFiles }));
        files++;
      }
    } else {
      writeFileSync(join(out, 'part-0.parquet'), await writeTableFile(table, batch, { compression, smallFiles }));
      files = 1;
    }
  } else if (writer === 'parquetjs') {
    const objects = rowObjects(batch, partition);
    prepSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    const groups = partition ? [...partitionRows(partition).values()].map((g) => ({ dir: `songs/year=${g.year}/artist_id=${g.artist}`, rows: g.rows })) : [{ dir: '.', rows: [] as number[] }];
    for (const g of groups) {
      mkdirSync(join(out, g.dir), { recursive: true });
      const w = await pjs.ParquetWriter.openFile(pjsSchema(shape), join(out, g.dir, 'part-0.parquet'));
      w.setRowGroupSize(131_072);
      if (partition) for (const i of g.rows) await w.appendRow(objects[i]);
      else for (const o of objects) await w.appendRow(o);
      await w.close();
      files++;
    }
  } else {
    // The ceiling: DuckDB's native COPY from a table already in DuckDB (loaded untimed).
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await loadTable(conn, withPartitions(batch, partition), 't');
    prepSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    if (partition) await conn.run(`COPY t TO '${join(out, 'songs')}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year, artist_id))`);
    else await conn.run(`COPY t TO '${join(out, 'part-0.parquet')}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 131072)`);
    conn.closeSync();
    db.closeSync();
    files = listParquet(out).length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (writer === 'parquetjs' && !partition) pjsReadsOwn = await pjsReadAll(join(out, 'part-0.parquet'));
  const bytes = listParquet(out).reduce((s, f) => s + statSync(f).size, 0);
  return {
    writer,
    shape,
    rows: batch.length,
    files,
    seconds,
    cpuSeconds,
    prepSeconds,
    bytes,
    rssInputMB,
    peakRssMB: peakRssMB(),
    wasmMB: parquetWasm.wasmMemory().buffer.byteLength / 2 ** 20,
    pjsReadsOwn,
  };
}

/**
 * Peak RSS of this process. VmHWM, not getrusage's maxRSS: Linux keeps maxRSS across execve, so a
 * child would report the parent's peak (the parent holds the DuckDB reference tables).
 */
function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

function listParquet(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listParquet(p));
    else if (e.name.endsWith('.parquet')) out.push(p);
  }
  return out;
}

// ---------- verification in the parent: DuckDB against the source rows ----------

/** The batch (plus partition columns) as a DuckDB table, through the appender: the reference rows. */
async function loadTable(conn: DuckDBConnection, batch: ColumnBatch, name: string): Promise<void> {
  const sqlType = (c: Column) => ({ str: 'VARCHAR', f64: 'DOUBLE', i32: 'INTEGER', i64: 'BIGINT', 'ts-ms': 'TIMESTAMPTZ' })[c.kind];
  await conn.run(`CREATE OR REPLACE TABLE ${name} (${batch.columns.map(({ name: n, column }) => `${n} ${sqlType(column)}`).join(', ')})`);
  const app = await conn.createAppender(name);
  const words = batch.columns.map(({ column }) => (column.kind === 'i64' && column.data instanceof BigInt64Array ? column.data : null));
  for (let i = 0; i < batch.length; i++) {
    batch.columns.forEach(({ column }, k) => {
      if (column.valid !== null && column.valid[i] === 0) return app.appendNull();
      if (column.kind === 'str') return app.appendVarchar(column.dict[column.codes[i]]);
      if (column.kind === 'f64') return app.appendDouble(column.data[i]);
      if (column.kind === 'i32') return app.appendInteger(column.data[i]);
      if (column.kind === 'ts-ms') return app.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(column.data[i]) * 1000n));
      return app.appendBigInt(words[k] ? words[k]![i] : BigInt(column.data[i]));
    });
    app.endRow();
  }
  app.closeSync();
}

function withPartitions(batch: ColumnBatch, partition?: { year: Int32Array; artist: string[] }): ColumnBatch {
  if (!partition) return batch;
  const codes = new Map<string, number>();
  const dict: string[] = [];
  const artistCodes = Int32Array.from(partition.artist, (a) => {
    let c = codes.get(a);
    if (c === undefined) codes.set(a, (c = dict.push(a) - 1));
    return c;
  });
  return {
    length: batch.length,
    columns: [...batch.columns, { name: 'year', column: { kind: 'i32', data: partition.year, valid: null } }, { name: 'artist_id', column: { kind: 'str', codes: artistCodes, dict, valid: null } }],
  };
}

async function verify(conn: DuckDBConnection, shape: Shape, dir: string, ref: string): Promise<string> {
  const glob = `read_parquet('${dir}/**/*.parquet'${shape === 'song-partitions' ? ', hive_partitioning = true' : ''})`;
  try {
    const described = await conn.runAndReadAll(`SELECT * FROM ${glob} LIMIT 0`);
    const got = Object.fromEntries(described.columnNames().map((n, i) => [n, String(described.columnTypes()[i])]));
    const wrong = Object.entries(WANT_TYPES[shape]).filter(([n, t]) => got[n] !== t).map(([n, t]) => `${n} ${got[n]}≠${t}`);
    // epoch_ms on both sides: parquetjs-lite's timestamps read as TIMESTAMP, not TIMESTAMPTZ.
    const cols = Object.keys(WANT_TYPES[shape]).map((c) => (c === 'start_time' ? 'epoch_ms(start_time)' : c)).join(', ');
    const refCols = cols;
    const diff = async (a: string, b: string) => Number((await conn.runAndReadAll(`SELECT count(*) FROM (${a} EXCEPT ALL ${b})`)).getRows()[0][0]);
    const missing = await diff(`SELECT ${refCols} FROM ${ref}`, `SELECT ${cols} FROM ${glob}`);
    const extra = await diff(`SELECT ${cols} FROM ${glob}`, `SELECT ${refCols} FROM ${ref}`);
    const values = missing === 0 && extra === 0 ? 'values exact' : `values differ (${missing} rows missing, ${extra} unexpected)`;
    return `${wrong.length === 0 ? 'types exact' : `types: ${wrong.join(', ')}`}; ${values}`;
  } catch (err) {
    return `DuckDB cannot read it: ${(err as Error).message.slice(0, 120)}`;
  }
}

// ---------- batch operations at 10M rows ----------

function timeIt<T>(label: string, rows: number, f: () => T): T {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = f();
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  console.log(`  ${label.padEnd(58)} wall ${s.toFixed(3).padStart(6)} s  cpu ${cpu.toFixed(3).padStart(6)} s  ${(rows / cpu / 1e6).toFixed(1).padStart(6)} M rows/cpu-s`);
  return r;
}

function opsBench(n: number): void {
  console.log(`\nbatch operations, ${n.toLocaleString('en-US')} rows (one thread; load average ${loadavg()[0].toFixed(1)})`);
  const r = rng(3);
  const pieces = 10;
  const builders = timeIt(`BatchBuilder: ${pieces} batches (i64, ts-ms, str 1k, f64 w/ nulls)`, n, () => {
    const out: ColumnBatch[] = [];
    for (let p = 0; p < pieces; p++) {
      const b = new BatchBuilder([
        { name: 'user_id', kind: 'i64' },
        { name: 'ts', kind: 'ts-ms' },
        { name: 'song', kind: 'str' },
        { name: 'length', kind: 'f64' },
      ], n / pieces);
      const user = b.i64('user_id');
      const ts = b.tsMs('ts');
      const song = b.str('song');
      const len = b.f64('length');
      const names = Array.from({ length: 1000 }, (_, i) => `song ${(i * 7919 + p) % 1000}`);
      for (let i = 0; i < n / pieces; i++) {
        user.push(Math.floor(r() * 10_000));
        ts.push(1541030400000 + Math.floor(r() * 2.6e9));
        song.push(names[Math.floor(r() * 1000)]);
        len.push(r() < 0.1 ? null : r() * 600);
      }
      out.push(b.finish());
    }
    return out;
  });
  const all = timeIt(`concatBatches: ${pieces} batches, different dictionaries`, n, () => concatBatches(builders));
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  timeIt('takeRows: random permutation', n, () => takeRows(all, perm));
  timeIt('sortIndices: ts-ms', n, () => sortIndices(all, [{ column: 'ts' }]));
  const order = timeIt('sortIndices: (str, i64, ts-ms desc)', n, () => sortIndices(all, [{ column: 'song' }, { column: 'user_id' }, { column: 'ts', descending: true }]));
  timeIt('groupStarts: (str, i64)', n, () => groupStarts(all, order, ['song', 'user_id']));
  const plays = songplays(1_000_000);
  const seg = timeIt('encodeSegment: 1M songplays rows', 1_000_000, () => encodeSegment(plays));
  console.log(`  (segment: ${(seg.byteLength / 2 ** 20).toFixed(1)} MiB)`);
  timeIt('decodeSegment: 1M songplays rows', 1_000_000, () => decodeSegment(seg));
}

// ---------- main ----------

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [, , , writer, shape, rows, songRows, out] = process.argv;
    console.log(JSON.stringify(await child(writer as Writer, shape as Shape, Number(rows), Number(songRows), out)));
    return;
  }
  if (process.argv.includes('--ops-only')) return opsBench(Number(arg('ops-rows', '10000000')));
  const rows = Number(arg('rows', '1000000'));
  const songRows = Number(arg('songs', '15000'));
  const writers = arg('writers', 'wasm,wasm-zstd,js-small,parquetjs,duckdb').split(',') as Writer[];
  const shapes = arg('shapes', 'songplays,songs,song-partitions').split(',') as Shape[];
  const work = mkdtempSync(join(tmpdir(), 'slake-bench-pq-'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    console.log(`Parquet writers (node ${process.version}); songplays ${rows.toLocaleString('en-US')} rows, songs ${songRows.toLocaleString('en-US')} rows`);
    console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
    console.log('writer      shape            files  wall s   cpu s  prep s      MiB  RSS in→peak MiB  WASM MiB  read back by DuckDB');
    for (const shape of shapes) {
      const ref = `ref_${shape.replace('-', '_')}`;
      const source = input(shape, rows, songRows);
      await loadTable(conn, withPartitions(source.batch, source.partition), ref);
      for (const writer of writers) {
        const out = join(work, `${writer}-${shape}`);
        const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', writer, shape, String(rows), String(songRows), out], { encoding: 'utf8', maxBuffer: 1 << 26 });
        if (run.status !== 0) {
          console.log(`${writer.padEnd(11)} ${shape.padEnd(16)} FAILED: ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ')}`);
          continue;
        }
        const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildResult;
        const check = await verify(conn, shape, out, ref);
        console.log(
          `${writer.padEnd(11)} ${shape.padEnd(16)} ${String(r.files).padStart(5)} ${r.seconds.toFixed(2).padStart(7)} ${r.cpuSeconds.toFixed(2).padStart(7)} ${r.prepSeconds.toFixed(2).padStart(7)} ${(r.bytes / 2 ** 20).toFixed(1).padStart(8)}  ${r.rssInputMB.toFixed(0).padStart(6)}→${r.peakRssMB.toFixed(0).padEnd(9)} ${r.wasmMB.toFixed(0).padStart(8)}  ${check}`,
        );
        if (r.pjsReadsOwn) console.log(`${''.padEnd(29)}parquetjs-lite reads its own file: ${JSON.stringify(r.pjsReadsOwn)}`);
        if (writer === 'wasm' && shape !== 'song-partitions') console.log(`${''.padEnd(29)}parquetjs-lite reads ours: ${JSON.stringify(await pjsReadAll(join(out, 'part-0.parquet')))}`);
        rmSync(out, { recursive: true, force: true });
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
  if (!process.argv.includes('--skip-ops')) opsBench(Number(arg('ops-rows', '10000000')));
}

await main();
