// Small helpers over ColumnBatch: its schema, empty columns, structural checks, and reading single
// values (for tests, error messages and the odd per-row decision; hot loops read the arrays).
import type { BatchSchema, Column, ColumnBatch, ColumnKind } from './batch.js';
import { checkCodes } from './dictionary.js';

export type CellValue = number | bigint | string | null;

export function schemaOf(batch: ColumnBatch): BatchSchema {
  return batch.columns.map(({ name, column }) => ({ name, kind: column.kind }));
}

/** A column of `length` rows, all null (no validity array when there are no rows). */
export function nullColumn(kind: ColumnKind, length: number): Column {
  const valid = length === 0 ? null : new Uint8Array(length);
  switch (kind) {
    case 'i32':
      return { kind, data: new Int32Array(length), valid };
    case 'i64':
      return { kind, data: new Float64Array(length), valid };
    case 'f64':
      return { kind, data: new Float64Array(length), valid };
    case 'ts-ms':
      return { kind, data: new Float64Array(length), valid };
    case 'str':
      return { kind, codes: new Int32Array(length), dict: [], valid };
  }
}

export function emptyBatch(schema: BatchSchema): ColumnBatch {
  return { length: 0, columns: schema.map(({ name, kind }) => ({ name, column: nullColumn(kind, 0) })) };
}

/** Rows in a column's arrays (they may be longer than the batch: builders over-allocate). */
export function columnCapacity(column: Column): number {
  return column.kind === 'str' ? column.codes.length : column.data.length;
}

/**
 * Structural checks a writer needs before it hands arrays to Arrow or Parquet: unique names, arrays
 * at least `length` long, dictionary codes inside their dictionary for present rows.
 */
export function checkBatch(batch: ColumnBatch, what: string): void {
  if (!Number.isInteger(batch.length) || batch.length < 0) throw new Error(`${what}: invalid batch length ${batch.length}`);
  const names = new Set<string>();
  for (const { name, column } of batch.columns) {
    if (names.has(name)) throw new Error(`${what}: column ${name} appears twice`);
    names.add(name);
    const where = `${what}, column ${name}`;
    if (columnCapacity(column) < batch.length) throw new Error(`${where}: ${columnCapacity(column)} values for ${batch.length} rows`);
    if (column.valid !== null && column.valid.length < batch.length) throw new Error(`${where}: validity has ${column.valid.length} entries for ${batch.length} rows`);
    if (column.kind === 'str') checkCodes(column.codes, column.valid, column.dict.length, batch.length, where);
  }
}

export function isValid(column: Column, row: number): boolean {
  return column.valid === null || column.valid[row] !== 0;
}

/** One value: number for i32/f64/ts-ms and Float64Array i64, bigint for BigInt64Array i64, string, or null. */
export function valueAt(column: Column, row: number): CellValue {
  if (!isValid(column, row)) return null;
  return column.kind === 'str' ? column.dict[column.codes[row]] : column.data[row];
}

/** The batch as plain row objects: for tests and diagnostics, never for data paths. */
export function batchToRows(batch: ColumnBatch): Record<string, CellValue>[] {
  const rows: Record<string, CellValue>[] = [];
  for (let r = 0; r < batch.length; r++) {
    const row: Record<string, CellValue> = {};
    for (const { name, column } of batch.columns) row[name] = valueAt(column, r);
    rows.push(row);
  }
  return rows;
}
