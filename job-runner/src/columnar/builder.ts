// Building a batch row by row, column-wise: each column has an appender with typed push methods, so
// the hot loop writes straight into growing typed arrays (no row objects, no per-value boxing).
// Validity is allocated on the first null only; strings are interned into the column's dictionary.
//
//   const b = new BatchBuilder([{ name: 'song_id', kind: 'str' }, { name: 'duration', kind: 'f64' }]);
//   const songId = b.str('song_id'), duration = b.f64('duration');
//   songId.push('SOAB'); duration.push(218.9);
//   const batch = b.finish();            // every column must have the same number of values
import type { BatchSchema, Column, ColumnBatch, ColumnKind } from './batch.js';
import { isValid } from './values.js';

abstract class Appender {
  length = 0;
  protected valid: Uint8Array | null = null;
  protected capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(16, capacity);
  }

  protected abstract grow(capacity: number): void;
  abstract finish(): Column;
  /** Copies one row of a compatible column (same kind). */
  abstract pushFrom(column: Column, row: number): void;

  /** Makes room for one more value; returns its row. */
  protected next(): number {
    if (this.length === this.capacity) {
      this.capacity *= 2;
      this.grow(this.capacity);
      if (this.valid !== null) this.valid = resized(this.valid, this.capacity);
    }
    return this.length++;
  }

  protected markValid(row: number): void {
    if (this.valid !== null) this.valid[row] = 1;
  }

  pushNull(): void {
    const row = this.next();
    if (this.valid === null) {
      this.valid = new Uint8Array(this.capacity);
      this.valid.fill(1, 0, row);
    }
    this.valid[row] = 0;
  }

  protected finishValid(): Uint8Array | null {
    return this.valid === null ? null : this.valid.subarray(0, this.length);
  }
}

function resized<T extends Uint8Array | Int32Array | Float64Array>(a: T, capacity: number): T {
  const b = new (a.constructor as { new (n: number): T })(capacity);
  b.set(a as never);
  return b;
}

export class NumberAppender extends Appender {
  private data: Int32Array | Float64Array;

  constructor(
    readonly kind: 'i32' | 'f64' | 'ts-ms' | 'i64',
    capacity: number,
  ) {
    super(capacity);
    this.data = kind === 'i32' ? new Int32Array(this.capacity) : new Float64Array(this.capacity);
  }

  protected grow(capacity: number): void {
    this.data = resized(this.data, capacity);
  }

  /** A value, or null. For i64 the value must be an exact integer (checked when encoded). */
  push(value: number | null): void {
    if (value === null) return this.pushNull();
    const row = this.next();
    this.data[row] = value;
    this.markValid(row);
  }

  pushFrom(column: Column, row: number): void {
    if (column.kind === 'str' || column.kind !== this.kind) throw new Error(`cannot append a ${column.kind} value to a ${this.kind} column`);
    if (!isValid(column, row)) return this.pushNull();
    if (column.data instanceof BigInt64Array) throw new Error('cannot append a BigInt64 int64 value to a Float64 int64 column; build it with { int64: "bigint" }');
    this.push(column.data[row]);
  }

  finish(): Column {
    const valid = this.finishValid();
    if (this.kind === 'i32') return { kind: 'i32', data: (this.data as Int32Array).subarray(0, this.length), valid };
    return { kind: this.kind, data: (this.data as Float64Array).subarray(0, this.length), valid };
  }
}

/** int64 over the full 64-bit range, written as two 32-bit halves (no BigInt per value needed). */
export class Int64WordsAppender extends Appender {
  private words: Int32Array;
  /** Word view of the last BigInt64Array copied from (pushFrom is called once per row). */
  private viewOf: BigInt64Array | null = null;
  private view: Int32Array = new Int32Array(0);

  constructor(capacity: number) {
    super(capacity);
    this.words = new Int32Array(this.capacity * 2);
  }

  protected grow(capacity: number): void {
    this.words = resized(this.words, capacity * 2);
  }

  /** hi: the signed upper 32 bits; lo: the lower 32 bits (signed or unsigned, same bits). */
  pushWords(hi: number, lo: number): void {
    const row = this.next();
    this.words[2 * row] = lo;
    this.words[2 * row + 1] = hi;
    this.markValid(row);
  }

  pushBigInt(value: bigint | null): void {
    if (value === null) return this.pushNull();
    const v = BigInt.asUintN(64, value);
    this.pushWords(Number(v >> 32n) | 0, Number(v & 0xffffffffn) | 0);
  }

  pushFrom(column: Column, row: number): void {
    if (column.kind !== 'i64') throw new Error(`cannot append a ${column.kind} value to an i64 column`);
    if (!isValid(column, row)) return this.pushNull();
    if (column.data instanceof BigInt64Array) {
      if (this.viewOf !== column.data) {
        this.viewOf = column.data;
        this.view = new Int32Array(column.data.buffer, column.data.byteOffset, column.data.length * 2);
      }
      this.pushWords(this.view[2 * row + 1], this.view[2 * row]);
    } else {
      const x = column.data[row];
      const hi = Math.floor(x / 4294967296);
      this.pushWords(hi, x - hi * 4294967296);
    }
  }

  override pushNull(): void {
    super.pushNull();
    const row = this.length - 1;
    this.words[2 * row] = 0;
    this.words[2 * row + 1] = 0;
  }

  finish(): Column {
    return { kind: 'i64', data: new BigInt64Array(this.words.buffer, 0, this.length), valid: this.finishValid() };
  }
}

export class StringAppender extends Appender {
  private codes: Int32Array;
  private readonly dict: string[] = [];
  private readonly index = new Map<string, number>();
  /** Source dictionary → (source code → our code, -1 until first used): copying rows never interns a whole foreign dictionary. */
  private readonly remaps = new Map<readonly string[], Int32Array>();

  constructor(capacity: number) {
    super(capacity);
    this.codes = new Int32Array(this.capacity);
  }

  protected grow(capacity: number): void {
    this.codes = resized(this.codes, capacity);
  }

  private intern(value: string): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.dict.length;
      this.dict.push(value);
      this.index.set(value, code);
    }
    return code;
  }

  push(value: string | null): void {
    if (value === null) return this.pushNull();
    const code = this.intern(value);
    const row = this.next();
    this.codes[row] = code;
    this.markValid(row);
  }

  /** Appends dict[code] without looking the string up more than once per (dictionary, code). */
  pushCode(dict: readonly string[], code: number): void {
    let remap = this.remaps.get(dict);
    if (remap === undefined) {
      remap = new Int32Array(dict.length).fill(-1);
      this.remaps.set(dict, remap);
    }
    let own = remap[code];
    if (own === undefined) throw new Error(`code ${code} is outside a dictionary of ${dict.length} entries`);
    if (own === -1) own = remap[code] = this.intern(dict[code]);
    const row = this.next();
    this.codes[row] = own;
    this.markValid(row);
  }

  pushFrom(column: Column, row: number): void {
    if (column.kind !== 'str') throw new Error(`cannot append a ${column.kind} value to a str column`);
    if (!isValid(column, row)) return this.pushNull();
    this.pushCode(column.dict, column.codes[row]);
  }

  finish(): Column {
    return { kind: 'str', codes: this.codes.subarray(0, this.length), dict: this.dict, valid: this.finishValid() };
  }
}

export interface BuilderColumn {
  name: string;
  kind: ColumnKind;
  /** For i64 only: build a BigInt64Array (full 64-bit range) instead of exact doubles. */
  int64?: 'float64' | 'bigint';
}

type AnyAppender = NumberAppender | Int64WordsAppender | StringAppender;

export class BatchBuilder {
  private readonly appenders: { name: string; appender: AnyAppender }[];
  private readonly byName = new Map<string, AnyAppender>();

  constructor(schema: BatchSchema | readonly BuilderColumn[], capacity = 1024) {
    this.appenders = schema.map((c) => {
      const spec = c as BuilderColumn;
      const appender =
        spec.kind === 'str'
          ? new StringAppender(capacity)
          : spec.kind === 'i64' && spec.int64 === 'bigint'
            ? new Int64WordsAppender(capacity)
            : new NumberAppender(spec.kind, capacity);
      if (this.byName.has(spec.name)) throw new Error(`BatchBuilder: column ${spec.name} appears twice`);
      this.byName.set(spec.name, appender);
      return { name: spec.name, appender };
    });
  }

  private get<T extends AnyAppender>(name: string, ok: (a: AnyAppender) => a is T, want: string): T {
    const a = this.byName.get(name);
    if (a === undefined) throw new Error(`BatchBuilder: no column ${name}`);
    if (!ok(a)) throw new Error(`BatchBuilder: column ${name} is not ${want}`);
    return a;
  }

  i32(name: string): NumberAppender {
    return this.get(name, (a): a is NumberAppender => a instanceof NumberAppender && a.kind === 'i32', 'i32');
  }
  f64(name: string): NumberAppender {
    return this.get(name, (a): a is NumberAppender => a instanceof NumberAppender && a.kind === 'f64', 'f64');
  }
  tsMs(name: string): NumberAppender {
    return this.get(name, (a): a is NumberAppender => a instanceof NumberAppender && a.kind === 'ts-ms', 'ts-ms');
  }
  /** An i64 column built as exact doubles. */
  i64(name: string): NumberAppender {
    return this.get(name, (a): a is NumberAppender => a instanceof NumberAppender && a.kind === 'i64', 'an i64 column of doubles');
  }
  /** An i64 column built as 64-bit words (declared with int64: 'bigint'). */
  i64Words(name: string): Int64WordsAppender {
    return this.get(name, (a): a is Int64WordsAppender => a instanceof Int64WordsAppender, "an i64 column declared with int64: 'bigint'");
  }
  str(name: string): StringAppender {
    return this.get(name, (a): a is StringAppender => a instanceof StringAppender, 'str');
  }

  /** Appends row `row` of `batch`, matching columns by name (the batch may have more columns). */
  pushRow(batch: ColumnBatch, row: number): void {
    for (const { name, appender } of this.appenders) {
      const source = batch.columns.find((c) => c.name === name);
      if (!source) throw new Error(`BatchBuilder.pushRow: source batch has no column ${name}`);
      appender.pushFrom(source.column, row);
    }
  }

  /** Appends rows `indices` of `batch` (columns matched by name once, not per row). */
  pushRows(batch: ColumnBatch, indices: ArrayLike<number>): void {
    for (const { name, appender } of this.appenders) {
      const source = batch.columns.find((c) => c.name === name);
      if (!source) throw new Error(`BatchBuilder.pushRows: source batch has no column ${name}`);
      for (let i = 0; i < indices.length; i++) appender.pushFrom(source.column, indices[i]);
    }
  }

  /** Rows appended so far (all columns must agree; checked by finish). */
  get length(): number {
    return this.appenders.length === 0 ? 0 : this.appenders[0].appender.length;
  }

  finish(): ColumnBatch {
    const length = this.length;
    const uneven = this.appenders.filter(({ appender }) => appender.length !== length);
    if (uneven.length > 0) {
      throw new Error(`BatchBuilder.finish: columns have different lengths (${this.appenders.map(({ name, appender }) => `${name}=${appender.length}`).join(', ')})`);
    }
    return { length, columns: this.appenders.map(({ name, appender }) => ({ name, column: appender.finish() })) };
  }
}
