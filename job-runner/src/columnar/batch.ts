// The in-memory columnar form shared by the parser (schema/), the staged-data codec (columnar/)
// and the Parquet writer (parquet/). Columns are typed arrays, never arrays of JS objects: building
// Arrow data from row objects costs more than writing Parquet (DESIGN.md, measured).
//
// Nulls: `valid` is a byte per row (1 = value present) or null when every row is present.
// int64: a Float64Array holding exact integers (|x| <= 2^53 - 1: ids, ms timestamps) or a
// BigInt64Array when the full 64-bit range is needed (songplay_id). Encoders convert without
// creating a BigInt per value.
// Strings are dictionary-encoded: `codes[i]` indexes `dict`; the parser interns byte slices, so a
// distinct value is decoded to a JS string once per batch, not once per row.

export type Column =
  | { kind: 'i32'; data: Int32Array; valid: Uint8Array | null }
  | { kind: 'i64'; data: Float64Array | BigInt64Array; valid: Uint8Array | null }
  | { kind: 'f64'; data: Float64Array; valid: Uint8Array | null }
  /** Milliseconds since the Unix epoch, UTC. Written to Parquet as TIMESTAMP(MILLIS, isAdjustedToUTC=true). */
  | { kind: 'ts-ms'; data: Float64Array; valid: Uint8Array | null }
  | { kind: 'str'; codes: Int32Array; dict: string[]; valid: Uint8Array | null };

export type ColumnKind = Column['kind'];

export interface ColumnBatch {
  length: number;
  /** Column order is the output column order. */
  columns: { name: string; column: Column }[];
}

/** The schema of a batch: names and kinds in order. */
export type BatchSchema = readonly { name: string; kind: ColumnKind }[];

export function columnOf(batch: ColumnBatch, name: string): Column {
  const found = batch.columns.find((c) => c.name === name);
  if (!found) throw new Error(`column ${name} not in batch (have ${batch.columns.map((c) => c.name).join(', ')})`);
  return found.column;
}
