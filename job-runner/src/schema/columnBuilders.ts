// Growable typed column builders that a parser fills row by row and hands over as a ColumnBatch.
//
// All builders of a batch share one capacity, grown by doubling up to the batch's row limit, so a
// small input does not allocate a full batch; once a batch has filled up, the next ones start at
// full size. take() hands the arrays over (trimmed) and starts fresh ones: a batch the consumer
// holds is never written again. Validity bytes start as 1 and only a null writes one, because
// nulls are rare and a store per cell is not free.
import type { Column, ColumnBatch, ColumnKind } from '../columnar/batch.js';
import { StringInterner } from './stringInterner.js';

const INITIAL_ROWS = 1024;

/** f64, i64 (exact integers in a Float64Array) and ts-ms columns. NaN marks null. */
export class F64Builder {
  data = new Float64Array(0);
  valid = new Uint8Array(0);
  nulls = 0;
  constructor(readonly kind: 'f64' | 'i64' | 'ts-ms') {}

  set(row: number, v: number): void {
    if (v !== v) {
      this.valid[row] = 0;
      this.nulls++;
    } else this.data[row] = v;
  }

  resize(capacity: number): void {
    this.data = resized(this.data, capacity);
    this.valid = resizedValid(this.valid, capacity);
  }

  take(rows: number): Column {
    const col: Column = { kind: this.kind, data: trimmed(this.data, rows), valid: this.nulls > 0 ? trimmed(this.valid, rows) : null };
    this.data = new Float64Array(0);
    this.valid = new Uint8Array(0);
    this.nulls = 0;
    return col;
  }
}

/** i32 columns; -0x80000000 never occurs in our data, so callers pass `null` explicitly. */
export class I32Builder {
  data = new Int32Array(0);
  valid = new Uint8Array(0);
  nulls = 0;

  set(row: number, v: number): void {
    this.data[row] = v;
  }

  setNull(row: number): void {
    this.valid[row] = 0;
    this.nulls++;
  }

  resize(capacity: number): void {
    this.data = resized(this.data, capacity);
    this.valid = resizedValid(this.valid, capacity);
  }

  take(rows: number): Column {
    const col: Column = { kind: 'i32', data: trimmed(this.data, rows), valid: this.nulls > 0 ? trimmed(this.valid, rows) : null };
    this.data = new Int32Array(0);
    this.valid = new Uint8Array(0);
    this.nulls = 0;
    return col;
  }
}

/** Dictionary-encoded strings; code -1 marks null. */
export class StrBuilder {
  codes = new Int32Array(0);
  valid = new Uint8Array(0);
  nulls = 0;
  readonly dict = new StringInterner();

  /** A code >= 0, or -1 for null (whose code slot stays 0). */
  set(row: number, code: number): void {
    if (code < 0) {
      this.valid[row] = 0;
      this.nulls++;
    } else this.codes[row] = code;
  }

  resize(capacity: number): void {
    this.codes = resized(this.codes, capacity);
    this.valid = resizedValid(this.valid, capacity);
  }

  take(rows: number): Column {
    const dict = this.dict.takeDict();
    const col: Column = {
      kind: 'str',
      codes: trimmed(this.codes, rows),
      dict,
      valid: this.nulls > 0 ? trimmed(this.valid, rows) : null,
    };
    this.codes = new Int32Array(0);
    this.valid = new Uint8Array(0);
    this.nulls = 0;
    return col;
  }
}

export type ColumnBuilder = F64Builder | I32Builder | StrBuilder;

export class BatchBuilder {
  rows = 0;
  private capacity = 0;
  /** A batch filled up before: start the next one at full size instead of growing again. */
  private full = false;
  readonly maxRows: number;
  private columns: readonly { name: string; builder: ColumnBuilder }[] = [];

  constructor(maxRows: number) {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new Error(`batchRows must be a positive integer, got ${maxRows}`);
    this.maxRows = maxRows;
  }

  /** The batch's columns, in output order (once, before the first row). */
  attach(columns: readonly { name: string; builder: ColumnBuilder }[]): void {
    if (this.columns.length > 0) throw new Error('columns already attached');
    this.columns = columns;
  }

  /** The row index to fill; commitRow() makes it count. */
  beginRow(): number {
    if (this.rows === this.capacity) {
      this.capacity = this.full ? this.maxRows : Math.min(this.maxRows, Math.max(INITIAL_ROWS, this.capacity * 2));
      for (const c of this.columns) c.builder.resize(this.capacity);
    }
    return this.rows;
  }

  /** Returns true when the batch is full and must be taken. */
  commitRow(): boolean {
    return ++this.rows === this.maxRows;
  }

  schema(): { name: string; kind: ColumnKind }[] {
    return this.columns.map((c) => ({ name: c.name, kind: c.builder instanceof F64Builder ? c.builder.kind : c.builder instanceof I32Builder ? 'i32' : 'str' }));
  }

  take(): ColumnBatch {
    const length = this.rows;
    if (length === this.maxRows) this.full = true;
    const batch: ColumnBatch = { length, columns: this.columns.map((c) => ({ name: c.name, column: c.builder.take(length) })) };
    this.rows = 0;
    this.capacity = 0;
    return batch;
  }
}

function resized<T extends Float64Array | Int32Array | Uint8Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

function resizedValid(a: Uint8Array, capacity: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(capacity).fill(1);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

// Exactly `rows` long: a consumer may rely on `.length` (and `.buffer`) without knowing the capacity.
function trimmed<T extends Float64Array | Int32Array | Uint8Array>(a: T, rows: number): T {
  return (a.length === rows ? a : a.slice(0, rows)) as T;
}
