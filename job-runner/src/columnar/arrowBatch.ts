// ColumnBatch ⇄ Arrow (apache-arrow's in-memory form), the bridge under both the staged-segment
// codec and the Parquet writer. Typed arrays go into Arrow Data as they are wherever Arrow's layout
// matches ours (i32, f64, dictionary codes); only validity (bytes → bits) and Float64 int64/timestamps
// (→ 64-bit words) are converted.
//
//   batch kind   Arrow type                      notes
//   i32          Int32
//   i64          Int64                           field metadata records Float64Array vs BigInt64Array
//   f64          Float64
//   ts-ms        Timestamp(MILLISECOND, "UTC")
//   str          Dictionary<Int32, Utf8>         dictionary compacted to the referenced entries
import {
  Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Type,
  Utf8,
  makeData,
  makeVector,
  type Data,
  type DataType,
  type Vector,
} from 'apache-arrow';
import type { Column, ColumnBatch } from './batch.js';
import { DictionaryMerger, compactDictionary, decodeUtf8Strings, encodeUtf8Strings } from './dictionary.js';
import { float64ToInt64, int64ToFloat64 } from './int64.js';
import { packValidity, unpackValidity } from './validity.js';

/** Field metadata key telling the decoder which int64 representation the encoder was given. */
export const INT64_REPR_KEY = 'sparkify.int64';

export interface ArrowFieldPlan {
  /** Declared nullability; a non-nullable field with a null row is an error. */
  nullable: boolean;
  /** Record the int64 representation in field metadata (segments do; Parquet files should not). */
  int64Metadata: boolean;
}

/**
 * One Arrow RecordBatch over the rows [0, batch.length) of `batch`. The caller has validated the
 * batch (checkBatch). Arrays are shared, not copied, except where noted in the header.
 */
export function toArrowRecordBatch(batch: ColumnBatch, plan: (name: string, column: Column) => ArrowFieldPlan): RecordBatch {
  const fields: Field[] = [];
  const children: Data[] = [];
  // apache-arrow 21's IPC writer joins consecutive chunks of one ArrayBuffer whose byte ranges overlap
  // (util/buffer.ts collapseContiguousByteRanges), dropping bytes: the same codes array shared by two
  // columns produced a corrupt stream. Any view overlapping one already used is therefore copied.
  const used = new Map<ArrayBufferLike, [number, number][]>();
  const once = <T extends ArrayBufferView & { slice(): T }>(a: T): T => {
    const start = a.byteOffset;
    const end = start + a.byteLength;
    const ranges = used.get(a.buffer) ?? [];
    if (ranges.some(([s, e]) => start < e && s < end)) return a.slice();
    ranges.push([start, end]);
    used.set(a.buffer, ranges);
    return a;
  };
  const n = batch.length;
  batch.columns.forEach(({ name, column }, index) => {
    const { nullable, int64Metadata } = plan(name, column);
    const { bitmap, nullCount } = packValidity(column.valid, n);
    if (!nullable && nullCount > 0) throw new Error(`column ${name} is declared non-nullable but ${nullCount} of ${n} rows are null`);
    const nulls = bitmap === null ? {} : { nullBitmap: bitmap, nullCount };
    let metadata: Map<string, string> | null = null;
    let data: Data;
    switch (column.kind) {
      case 'i32': {
        data = makeData({ type: new Int32(), length: n, data: once(column.data.subarray(0, n)), ...nulls });
        break;
      }
      case 'f64': {
        data = makeData({ type: new Float64(), length: n, data: once(column.data.subarray(0, n)), ...nulls });
        break;
      }
      case 'i64': {
        const big = column.data instanceof BigInt64Array;
        const words = big ? once((column.data as BigInt64Array).subarray(0, n)) : float64ToInt64(column.data as Float64Array, column.valid, n, `column ${name}`);
        data = makeData({ type: new Int64(), length: n, data: words, ...nulls });
        if (int64Metadata) metadata = new Map([[INT64_REPR_KEY, big ? 'bigint' : 'float64']]);
        break;
      }
      case 'ts-ms': {
        const type = new TimestampMillisecond('UTC');
        data = makeData({ type, length: n, data: float64ToInt64(column.data, column.valid, n, `column ${name}`), ...nulls });
        break;
      }
      case 'str': {
        const compact = compactDictionary(column.codes, column.valid, column.dict, n);
        const { offsets, bytes } = encodeUtf8Strings(compact.dict);
        const dictionary = makeVector(makeData({ type: new Utf8(), length: compact.dict.length, valueOffsets: offsets, data: bytes }));
        const type = new Dictionary(new Utf8(), new Int32(), index);
        data = makeData({ type, length: n, data: once(compact.codes.subarray(0, n)), dictionary, ...nulls });
        break;
      }
    }
    fields.push(new Field(name, data.type, nullable, metadata));
    children.push(data);
  });
  const schema = new Schema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, children, nullCount: 0 }));
}

/**
 * Arrow record batches back to one ColumnBatch. Zero-copy for i32, f64, dictionary codes and
 * BigInt64 int64 when there is a single record batch; several batches are concatenated with their
 * dictionaries merged.
 */
export function fromArrowBatches(schema: Schema, batches: readonly RecordBatch[]): ColumnBatch {
  const length = batches.reduce((sum, b) => sum + b.numRows, 0);
  const columns = schema.fields.map((field, index) => ({
    name: field.name,
    column: decodeColumn(field, batches.map((b) => b.data.children[index]), length),
  }));
  return { length, columns };
}

function decodeColumn(field: Field, chunks: Data[], length: number): Column {
  const type: DataType = field.type;
  const what = `field ${field.name} (${String(type)})`;
  const valid = concatValidity(chunks, length);
  switch (type.typeId) {
    case Type.Int: {
      const int = type as unknown as Int32 | Int64;
      if (int.bitWidth === 32 && int.isSigned) return { kind: 'i32', data: concatValues(chunks, Int32Array, length), valid };
      if (int.bitWidth === 64 && int.isSigned) {
        const words = concatValues(chunks, BigInt64Array, length);
        if (field.metadata.get(INT64_REPR_KEY) === 'bigint') return { kind: 'i64', data: words, valid };
        // Float64 form unless a value is beyond 2^53, which only a BigInt64Array can hold exactly.
        return { kind: 'i64', data: int64ToFloat64(words, length) ?? words, valid };
      }
      break;
    }
    case Type.Float: {
      if ((type as unknown as Float64).precision === 2) return { kind: 'f64', data: concatValues(chunks, Float64Array, length), valid };
      break;
    }
    case Type.Timestamp: {
      const ts = type as unknown as TimestampMillisecond;
      if (ts.unit !== 1) break; // TimeUnit.MILLISECOND
      const words = concatValues(chunks, BigInt64Array, length);
      const data = int64ToFloat64(words, length);
      if (data === null) throw new Error(`${what}: a timestamp is beyond ±2^53 ms`);
      return { kind: 'ts-ms', data, valid };
    }
    case Type.Dictionary: {
      const dictType = type as unknown as Dictionary;
      if (dictType.indices.bitWidth !== 32 || !dictType.indices.isSigned || dictType.dictionary.typeId !== Type.Utf8) break;
      return decodeDictionaryColumn(chunks, length, valid);
    }
    case Type.Utf8:
      return decodePlainStrings(chunks, length, valid);
  }
  throw new Error(`${what}: not a type a ColumnBatch can hold (Int32, Int64, Float64, Timestamp(ms), Utf8, Dictionary<Int32, Utf8>)`);
}

type Typed = Int32Array | Float64Array | BigInt64Array;
type TypedCtor<T extends Typed> = { new (length: number): T };

function concatValues<T extends Typed>(chunks: Data[], Ctor: TypedCtor<T>, length: number): T {
  if (chunks.length === 1) {
    const [d] = chunks;
    return (d.values as T).subarray(d.offset, d.offset + d.length) as T;
  }
  const out = new Ctor(length);
  let at = 0;
  for (const d of chunks) {
    out.set((d.values as T).subarray(d.offset, d.offset + d.length) as never, at);
    at += d.length;
  }
  return out;
}

function concatValidity(chunks: Data[], length: number): Uint8Array | null {
  if (chunks.every((d) => d.nullCount === 0)) return null;
  const out = new Uint8Array(length).fill(1);
  let at = 0;
  for (const d of chunks) {
    const part = unpackValidity(d.nullBitmap, d.offset, d.length, d.nullCount);
    if (part !== null) out.set(part, at);
    at += d.length;
  }
  return out;
}

function dictionaryStrings(dictionary: Vector): string[] {
  const out: string[] = [];
  for (const d of dictionary.data) {
    const offsets = (d.valueOffsets as Int32Array).subarray(d.offset, d.offset + d.length + 1);
    const strings = decodeUtf8Strings(offsets, d.values as Uint8Array, d.length);
    for (const s of strings) out.push(s);
  }
  return out;
}

function decodeDictionaryColumn(chunks: Data[], length: number, valid: Uint8Array | null): Column {
  if (chunks.length === 1) {
    const [d] = chunks;
    const dict = d.dictionary ? dictionaryStrings(d.dictionary) : [];
    return { kind: 'str', codes: (d.values as Int32Array).subarray(d.offset, d.offset + d.length), dict, valid };
  }
  // Batches may carry different (replacement or delta) dictionaries: merge them, remap the codes.
  const merger = new DictionaryMerger();
  const codes = new Int32Array(length);
  const decoded = new Map<Vector, string[]>();
  let at = 0;
  for (const d of chunks) {
    let strings: string[] = [];
    if (d.dictionary) {
      strings = decoded.get(d.dictionary) ?? dictionaryStrings(d.dictionary);
      decoded.set(d.dictionary, strings);
    }
    const remap = merger.remap(strings);
    const src = d.values as Int32Array;
    for (let i = 0; i < d.length; i++) codes[at + i] = remap[src[d.offset + i]] ?? 0;
    at += d.length;
  }
  return { kind: 'str', codes, dict: merger.dict, valid };
}

function decodePlainStrings(chunks: Data[], length: number, valid: Uint8Array | null): Column {
  const merger = new DictionaryMerger();
  const codes = new Int32Array(length);
  let at = 0;
  for (const d of chunks) {
    const buf = Buffer.from((d.values as Uint8Array).buffer, (d.values as Uint8Array).byteOffset, (d.values as Uint8Array).byteLength);
    const offsets = d.valueOffsets as Int32Array;
    for (let i = 0; i < d.length; i++) {
      const row = at + i;
      if (valid !== null && valid[row] === 0) continue;
      codes[row] = merger.intern(buf.toString('utf8', offsets[d.offset + i], offsets[d.offset + i + 1]));
    }
    at += d.length;
  }
  return { kind: 'str', codes, dict: merger.dict, valid };
}
