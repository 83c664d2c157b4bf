// Table-by-table comparison of a lake folder against the DuckDB reference (or another lake folder),
// the way an analyst reads it: `read_parquet('<root>/<table>/**/*.parquet', hive_partitioning = true)`.
// Per table: same columns and types (file columns in order, then the partition columns), same row count, and EXCEPT ALL empty both
// ways (a multiset comparison, so duplicated rows count). A failure shows the first rows missing on
// each side. An S3 lake is compared after downloadPrefix (test/helpers/s3.ts) into a folder.
import { AssertionError } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { TABLES, type TableName } from '../../job-runner/src/run/types.js';
import type { ReferenceLake } from './referenceLake.js';

/** Partition columns and the types the contract gives them (DESIGN.md "Tables"). */
const PARTITION_TYPES: Record<TableName, Record<string, string>> = {
  songs: { year: 'INTEGER', artist_id: 'VARCHAR' },
  artists: {},
  users: {},
  time: { year: 'INTEGER', month: 'INTEGER' },
  songplays: { year: 'INTEGER', month: 'INTEGER' },
};

export interface TableComparison {
  table: TableName;
  equal: boolean;
  /** `name TYPE` per column, in order; null when the side has no Parquet file for the table. */
  columns: { ours: string[] | null; expected: string[] | null };
  rows: { ours: number; expected: number };
  /** First rows (up to `sampleRows`) that only one side has, and how many there are in all. */
  onlyOurs: { count: number; sample: Record<string, unknown>[] };
  onlyExpected: { count: number; sample: Record<string, unknown>[] };
}

export interface LakeComparison {
  equal: boolean;
  tables: TableComparison[];
  /** A short human-readable report (the assertion message). */
  report: string;
}

export interface CompareOptions {
  tables?: readonly TableName[];
  sampleRows?: number;
  /** Columns left out of the row comparison (still checked for presence and type), e.g. an id two ETLs derive differently. */
  ignoreColumns?: Partial<Record<TableName, readonly string[]>>;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function hasParquet(dir: string): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => (e.isDirectory() ? hasParquet(join(dir, e.name)) : e.name.endsWith('.parquet')));
}

/** The SQL relation reading one table of a lake folder, or null when it holds no Parquet file. */
export function lakeTableSql(root: string, table: TableName): string | null {
  if (!hasParquet(join(root, table))) return null;
  const types = Object.entries(PARTITION_TYPES[table]);
  const hiveTypes = types.length ? `, hive_types = {${types.map(([k, t]) => `${sqlString(k)}: ${t}`).join(', ')}}` : '';
  return `read_parquet(${sqlString(join(root, table, '**', '*.parquet'))}, hive_partitioning = true${hiveTypes})`;
}

/**
 * `name TYPE` per column: the file columns in file order, then the partition columns in path order
 * (DuckDB appends hive columns in an order of its own, which says nothing about the lake).
 */
async function columnsOf(c: DuckDBConnection, relation: string, table: TableName): Promise<string[]> {
  const r = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  const cols = r.getRowObjectsJS().map((row) => ({ name: String(row.column_name), text: `${String(row.column_name)} ${String(row.column_type)}` }));
  const parts = Object.keys(PARTITION_TYPES[table]);
  const rank = (name: string) => (parts.includes(name) ? 1 + parts.indexOf(name) : 0);
  return cols
    .map((col, i) => ({ ...col, i }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.i - b.i)
    .map((col) => col.text);
}

/** The relation with its columns in `columnsOf` order (minus `ignore`), so EXCEPT ALL pairs columns by name. */
function ordered(relation: string, columns: string[], ignore: readonly string[]): string {
  const names = columns
    .map((col) => col.slice(0, col.indexOf(' ')))
    .filter((name) => !ignore.includes(name))
    .map((name) => `"${name.replace(/"/g, '""')}"`);
  return `(SELECT ${names.join(', ')} FROM ${relation})`;
}

async function scalar(c: DuckDBConnection, sql: string): Promise<number> {
  return Number((await c.runAndReadAll(sql)).getRowsJS()[0]![0]);
}

async function onlyLeft(c: DuckDBConnection, left: string, right: string, sampleRows: number) {
  const diff = `(SELECT * FROM ${left} EXCEPT ALL SELECT * FROM ${right})`;
  const count = await scalar(c, `SELECT count(*) FROM ${diff}`);
  const sample = count === 0 ? [] : ((await c.runAndReadAll(`SELECT * FROM ${diff} ORDER BY ALL LIMIT ${sampleRows}`)).getRowObjectsJson() as Record<string, unknown>[]);
  return { count, sample };
}

async function compareTable(c: DuckDBConnection, table: TableName, ours: string | null, expected: string | null, sampleRows: number, ignore: readonly string[]): Promise<TableComparison> {
  const result: TableComparison = {
    table,
    equal: false,
    columns: { ours: ours ? await columnsOf(c, ours, table) : null, expected: expected ? await columnsOf(c, expected, table) : null },
    rows: { ours: ours ? await scalar(c, `SELECT count(*) FROM ${ours}`) : 0, expected: expected ? await scalar(c, `SELECT count(*) FROM ${expected}`) : 0 },
    onlyOurs: { count: 0, sample: [] },
    onlyExpected: { count: 0, sample: [] },
  };
  if (!ours || !expected) {
    // A side without files is an empty table; it equals the other side only if that one is empty too.
    result.equal = result.rows.ours === 0 && result.rows.expected === 0;
    if (ours) result.onlyOurs = await onlyLeft(c, ours, `(SELECT * FROM ${ours} LIMIT 0)`, sampleRows);
    if (expected) result.onlyExpected = await onlyLeft(c, expected, `(SELECT * FROM ${expected} LIMIT 0)`, sampleRows);
    return result;
  }
  if (result.columns.ours!.join(',') !== result.columns.expected!.join(',')) return result;
  const [o, e] = [ordered(ours, result.columns.ours!, ignore), ordered(expected, result.columns.expected!, ignore)];
  result.onlyOurs = await onlyLeft(c, o, e, sampleRows);
  result.onlyExpected = await onlyLeft(c, e, o, sampleRows);
  result.equal = result.rows.ours === result.rows.expected && result.onlyOurs.count === 0 && result.onlyExpected.count === 0;
  return result;
}

function describe(t: TableComparison, expectedName: string): string[] {
  if (t.equal) return [`  ${t.table}: equal (${t.rows.ours} rows)`];
  const out = [`  ${t.table}: DIFFERENT`];
  const cols = (c: string[] | null) => (c ? c.join(', ') : '(no Parquet files)');
  if (t.columns.ours?.join(',') !== t.columns.expected?.join(',')) {
    out.push(`    columns ours:     ${cols(t.columns.ours)}`, `    columns ${expectedName}: ${cols(t.columns.expected)}`);
  }
  out.push(`    rows ours ${t.rows.ours}, ${expectedName} ${t.rows.expected}`);
  for (const [label, side] of [[`only in ${expectedName}`, t.onlyExpected], ['only in ours', t.onlyOurs]] as const) {
    if (side.count === 0) continue;
    out.push(`    ${label} (${side.count}${side.count > side.sample.length ? `, first ${side.sample.length}` : ''}):`);
    for (const row of side.sample) out.push(`      ${JSON.stringify(row)}`);
  }
  return out;
}

/**
 * Compares the lake folder `ours` with the reference lake or with another lake folder. The DuckDB
 * work runs in the reference's connection (or a fresh in-memory one for two folders).
 */
export async function compareLakes(ours: string, expected: ReferenceLake | string, opts: CompareOptions = {}): Promise<LakeComparison> {
  const sampleRows = opts.sampleRows ?? 5;
  const ownInstance = typeof expected === 'string' ? await DuckDBInstance.create(':memory:', { threads: '2' }) : null;
  const c = ownInstance ? await ownInstance.connect() : (expected as ReferenceLake).connection;
  try {
    const tables: TableComparison[] = [];
    for (const table of opts.tables ?? TABLES) {
      const theirs = typeof expected === 'string' ? lakeTableSql(expected, table) : expected.table(table);
      tables.push(await compareTable(c, table, lakeTableSql(ours, table), theirs, sampleRows, opts.ignoreColumns?.[table] ?? []));
    }
    const expectedName = typeof expected === 'string' ? 'expected' : 'reference';
    const equal = tables.every((t) => t.equal);
    const report = [`lake ${ours} ${equal ? 'equals' : 'differs from'} the ${expectedName}${typeof expected === 'string' ? ` lake ${expected}` : ''}:`, ...tables.flatMap((t) => describe(t, expectedName))].join('\n');
    return { equal, tables, report };
  } finally {
    if (ownInstance) {
      c.closeSync();
      ownInstance.closeSync();
    }
  }
}

/** Throws an AssertionError carrying the comparison report when any table differs. */
export async function assertLakesEqual(ours: string, expected: ReferenceLake | string, opts: CompareOptions = {}): Promise<LakeComparison> {
  const result = await compareLakes(ours, expected, opts);
  if (!result.equal) throw new AssertionError({ message: result.report });
  return result;
}
