// Small Parquet files written in JS, without Arrow IPC or WebAssembly: the songs table is one file
// per (year, artist_id) partition, ~10k files of one or two rows for the Sparkify shape and ~85k for
// the benchmark, and through parquet-wasm each cost ~0.4 ms of fixed work (build Arrow IPC, import
// it into WASM, set up the writer), 20-50x the encoding itself (docs/parquet-writer.md, "Small files").
//
// The file is what arrow-rs writes for the same rows, minus what a small file does not need:
//
//   "PAR1" │ per column: PageHeader(DATA_PAGE v1) + snappy(def levels? + PLAIN values) │ FileMetaData │ len │ "PAR1"
//
// - one row group, one data page per column; PLAIN values, no dictionary page (a dictionary of one or
//   two values only adds bytes); definition levels (OPTIONAL columns) as one bit-packed run;
// - the same schema as the WASM writer: root `arrow_schema`, REQUIRED/OPTIONAL per tables.ts,
//   STRING (UTF8), TIMESTAMP(MILLIS, isAdjustedToUTC) with TIMESTAMP_MILLIS, plain INT32/INT64/DOUBLE;
// - the same column-chunk statistics: null_count, min_value/max_value (exact) and, for the signed
//   numeric types whose legacy sort order is right, the deprecated min/max too; doubles follow the
//   spec's zero rule (a zero minimum is -0.0, a zero maximum +0.0); strings compare as bytes;
// - the same created_by and TypeDefinedOrder column orders; no page index (nothing to skip in one page).
//
// Deterministic by construction: the bytes depend only on the rows and the options.
import { isUtf8 } from 'node:buffer';
import type { Column, ColumnBatch } from '../columnar/batch.js';
import { snappyCompress } from './snappy.js';
import { CompactWriter, T_STRUCT } from './thriftCompact.js';
import type { TableColumn, TableSchema } from './tables.js';

/** Batches up to this many rows take the JS path (songs partitions hold one or two). */
export const SMALL_FILE_MAX_ROWS = 64;

export type SmallFileCompression = 'snappy' | 'none';

// parquet.thrift enums
const BYTE_ARRAY = 6;
const DOUBLE = 5;
const INT32 = 1;
const INT64 = 2;
const REQUIRED = 0;
const OPTIONAL = 1;
const CONVERTED_UTF8 = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;
const ENC_PLAIN = 0;
const ENC_RLE = 3;
const CODEC_UNCOMPRESSED = 0;
const CODEC_SNAPPY = 1;
const PAGE_DATA = 0;

const MAGIC = Uint8Array.from([0x50, 0x41, 0x52, 0x31]);

/** One writer reused for every file (its buffer grows once): a fresh one per file was 20% of the cost. */
const writer = new CompactWriter();

interface EncodedColumn {
  spec: TableColumn;
  page: Uint8Array;
  uncompressed: number;
  compressed: number;
  nulls: number;
  min: Uint8Array | null;
  max: Uint8Array | null;
}

/** The Parquet file of a batch already projected to the table's columns (in order) and checked. */
export function encodeSmallFile(schema: TableSchema, batch: ColumnBatch, compression: SmallFileCompression, createdBy: string): Uint8Array {
  const n = batch.length;
  const codec = compression === 'snappy' ? CODEC_SNAPPY : CODEC_UNCOMPRESSED;
  const w = writer;
  const columns: EncodedColumn[] = schema.columns.map((spec, i) => {
    const column = batch.columns[i]!.column;
    const { body, nulls, min, max } = encodeValues(spec, column, n);
    const data = codec === CODEC_SNAPPY ? snappyCompress(body) : body;
    w.reset();
    w.i32(1, PAGE_DATA);
    w.i32(2, body.length);
    w.i32(3, data.length);
    w.structBegin(5);
    w.i32(1, n);
    w.i32(2, ENC_PLAIN);
    w.i32(3, ENC_RLE);
    w.i32(4, ENC_RLE);
    w.structEnd();
    w.byte(0);
    const header = w.bytes();
    const page = new Uint8Array(header.length + data.length);
    page.set(header, 0);
    page.set(data, header.length);
    return { spec, page, uncompressed: header.length + body.length, compressed: page.length, nulls, min, max };
  });

  // FileMetaData
  w.reset();
  w.i32(1, 1); // version
  w.list(2, T_STRUCT, columns.length + 1);
  w.structBegin();
  w.string(4, 'arrow_schema');
  w.i32(5, columns.length);
  w.structEnd();
  for (const { spec } of columns) {
    w.structBegin();
    w.i32(1, physicalType(spec));
    w.i32(3, spec.nullable ? OPTIONAL : REQUIRED);
    w.string(4, spec.name);
    if (spec.kind === 'str') w.i32(6, CONVERTED_UTF8);
    else if (spec.kind === 'ts-ms') w.i32(6, CONVERTED_TIMESTAMP_MILLIS);
    if (spec.kind === 'str') {
      w.structBegin(10); // LogicalType
      w.structBegin(1); // STRING
      w.structEnd();
      w.structEnd();
    } else if (spec.kind === 'ts-ms') {
      w.structBegin(10); // LogicalType
      w.structBegin(8); // TIMESTAMP
      w.bool(1, true); // isAdjustedToUTC
      w.structBegin(2); // unit
      w.structBegin(1); // MILLIS
      w.structEnd();
      w.structEnd();
      w.structEnd();
      w.structEnd();
    }
    w.structEnd();
  }
  w.i64(3, n);
  w.list(4, T_STRUCT, 1);
  w.structBegin(); // RowGroup
  w.list(1, T_STRUCT, columns.length);
  let offset = MAGIC.length;
  let totalUncompressed = 0;
  let totalCompressed = 0;
  for (const c of columns) {
    w.structBegin(); // ColumnChunk
    w.i64(2, 0); // file_offset (deprecated; arrow-rs writes 0)
    w.structBegin(3); // ColumnMetaData
    w.i32(1, physicalType(c.spec));
    w.list(2, 5 /* i32 */, 2);
    w.zigzag(ENC_PLAIN);
    w.zigzag(ENC_RLE);
    w.list(3, 8 /* binary */, 1);
    const name = Buffer.from(c.spec.name, 'utf8');
    w.varint(name.length);
    w.raw(name);
    w.i32(4, codec);
    w.i64(5, n);
    w.i64(6, c.uncompressed);
    w.i64(7, c.compressed);
    w.i64(9, offset);
    w.structBegin(12); // Statistics
    const legacy = c.spec.kind !== 'str';
    const max = c.max && (c.spec.kind === 'str' ? truncateMax(c.max) : { bytes: c.max, exact: true });
    const min = c.min && (c.spec.kind === 'str' ? truncateMin(c.min) : { bytes: c.min, exact: true });
    if (legacy && max) w.binary(1, max.bytes);
    if (legacy && min) w.binary(2, min.bytes);
    w.i64(3, c.nulls);
    if (max) w.binary(5, max.bytes);
    if (min) w.binary(6, min.bytes);
    w.bool(7, max?.exact ?? false);
    w.bool(8, min?.exact ?? false);
    w.structEnd();
    w.structEnd();
    w.structEnd();
    offset += c.compressed;
    totalUncompressed += c.uncompressed;
    totalCompressed += c.compressed;
  }
  w.i64(2, totalUncompressed);
  w.i64(3, n);
  w.i64(5, MAGIC.length);
  w.i64(6, totalCompressed);
  w.i32(7, 0); // ordinal
  w.structEnd();
  w.string(6, createdBy);
  w.list(7, T_STRUCT, columns.length);
  for (let i = 0; i < columns.length; i++) {
    w.structBegin(); // ColumnOrder
    w.structBegin(1); // TYPE_ORDER
    w.structEnd();
    w.structEnd();
  }
  w.byte(0);
  const footer = w.bytes();

  const out = new Uint8Array(offset + footer.length + 8);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  for (const c of columns) {
    out.set(c.page, at);
    at += c.page.length;
  }
  out.set(footer, at);
  at += footer.length;
  new DataView(out.buffer).setUint32(at, footer.length, true);
  out.set(MAGIC, at + 4);
  return out;
}

function physicalType(spec: TableColumn): number {
  switch (spec.kind) {
    case 'str':
      return BYTE_ARRAY;
    case 'f64':
      return DOUBLE;
    case 'i32':
      return INT32;
    case 'i64':
    case 'ts-ms':
      return INT64;
  }
}

/**
 * The page body before compression: definition levels (OPTIONAL columns: a 4-byte length, then one
 * bit-packed run of ceil(n/8) groups, header (groups << 1) | 1, levels LSB first) and the PLAIN values
 * of the present rows; with the column's null count and exact min/max as PLAIN bytes.
 */
function encodeValues(spec: TableColumn, column: Column, n: number): { body: Uint8Array; nulls: number; min: Uint8Array | null; max: Uint8Array | null } {
  const valid = column.valid;
  let nulls = 0;
  if (valid !== null) for (let r = 0; r < n; r++) if (valid[r] === 0) nulls++;
  if (nulls > 0 && !spec.nullable) throw new Error(`column ${spec.name} is declared non-nullable but ${nulls} of ${n} rows are null`);
  const present = (r: number) => valid === null || valid[r] !== 0;

  let levels: Uint8Array | null = null;
  if (spec.nullable) {
    const groups = Math.ceil(n / 8);
    const header = varintBytes(groups * 2 + 1);
    levels = new Uint8Array(4 + header.length + groups);
    const view = new DataView(levels.buffer);
    view.setUint32(0, header.length + groups, true);
    levels.set(header, 4);
    for (let r = 0; r < n; r++) if (present(r)) levels[4 + header.length + (r >> 3)] |= 1 << (r & 7);
  }
  const prefix = levels?.length ?? 0;
  const count = n - nulls;

  if (column.kind === 'str') {
    const encoded: Buffer[] = [];
    let size = 0;
    let min: Buffer | null = null;
    let max: Buffer | null = null;
    for (let r = 0; r < n; r++) {
      if (!present(r)) continue;
      const b = Buffer.from(column.dict[column.codes[r]!]!, 'utf8');
      encoded.push(b);
      size += 4 + b.length;
      if (min === null || Buffer.compare(b, min) < 0) min = b;
      if (max === null || Buffer.compare(b, max) > 0) max = b;
    }
    const body = new Uint8Array(prefix + size);
    if (levels) body.set(levels, 0);
    const view = new DataView(body.buffer);
    let at = prefix;
    for (const b of encoded) {
      view.setUint32(at, b.length, true);
      body.set(b, at + 4);
      at += 4 + b.length;
    }
    return { body, nulls, min, max };
  }

  const width = column.kind === 'i32' ? 4 : 8;
  const body = new Uint8Array(prefix + count * width);
  if (levels) body.set(levels, 0);
  const view = new DataView(body.buffer);
  let at = prefix;
  if (count === 0) return { body, nulls, min: null, max: null };
  const stat = (write: (v: DataView) => void) => {
    const b = new Uint8Array(width);
    write(new DataView(b.buffer));
    return b;
  };
  switch (column.kind) {
    case 'i32': {
      let lo = Infinity;
      let hi = -Infinity;
      for (let r = 0; r < n; r++) {
        if (!present(r)) continue;
        const v = column.data[r]!;
        view.setInt32(at, v, true);
        at += 4;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return { body, nulls, min: stat((v) => v.setInt32(0, lo, true)), max: stat((v) => v.setInt32(0, hi, true)) };
    }
    case 'f64': {
      let lo = Infinity;
      let hi = -Infinity;
      let seen = false;
      for (let r = 0; r < n; r++) {
        if (!present(r)) continue;
        const v = column.data[r]!;
        view.setFloat64(at, v, true);
        at += 8;
        if (v !== v) continue; // NaN takes no part in min/max
        seen = true;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!seen) return { body, nulls, min: null, max: null };
      // The spec's zero rule (+0 and -0 compare equal above): a zero minimum is written -0.0 and a
      // zero maximum +0.0.
      if (lo === 0) lo = -0;
      if (hi === 0) hi = 0;
      return { body, nulls, min: stat((v) => v.setFloat64(0, lo, true)), max: stat((v) => v.setFloat64(0, hi, true)) };
    }
    case 'i64':
    case 'ts-ms': {
      const data = column.data;
      let lo: bigint | null = null;
      let hi: bigint | null = null;
      for (let r = 0; r < n; r++) {
        if (!present(r)) continue;
        let v: bigint;
        if (data instanceof BigInt64Array) v = data[r]!;
        else {
          const x = data[r]!;
          if (!Number.isSafeInteger(x)) throw new Error(`column ${spec.name}: row ${r} holds ${x}, not an integer within ±(2^53-1); an int64 column kept as Float64Array must hold exact integers`);
          v = BigInt(x);
        }
        view.setBigInt64(at, v, true);
        at += 8;
        if (lo === null || v < lo) lo = v;
        if (hi === null || v > hi) hi = v;
      }
      return { body, nulls, min: stat((v) => v.setBigInt64(0, lo!, true)), max: stat((v) => v.setBigInt64(0, hi!, true)) };
    }
  }
}

/**
 * arrow-rs keeps at most 64 bytes of a string statistic (its default statistics truncate length):
 * the minimum is cut to the longest prefix ending on a character boundary, the maximum cut the same
 * way and then incremented from its last byte until it is valid UTF-8 again (an upper bound), and
 * such values are marked inexact. Done the same here so readers prune both kinds of file alike.
 */
export const STATISTICS_TRUNCATE_BYTES = 64;

function truncateMin(bytes: Uint8Array): { bytes: Uint8Array; exact: boolean } {
  if (bytes.length <= STATISTICS_TRUNCATE_BYTES) return { bytes, exact: true };
  return { bytes: bytes.subarray(0, utf8Boundary(bytes, STATISTICS_TRUNCATE_BYTES)), exact: false };
}

function truncateMax(bytes: Uint8Array): { bytes: Uint8Array; exact: boolean } {
  if (bytes.length <= STATISTICS_TRUNCATE_BYTES) return { bytes, exact: true };
  const data = Uint8Array.from(bytes.subarray(0, utf8Boundary(bytes, STATISTICS_TRUNCATE_BYTES)));
  for (let i = data.length - 1; i >= 0; i--) {
    const original = data[i]!;
    for (let b = original + 1; b <= 0xff; b++) {
      data[i] = b;
      if (isUtf8(data)) return { bytes: data, exact: false };
    }
    data[i] = original;
  }
  return { bytes, exact: true }; // nothing can be incremented: keep the whole value
}

/** The largest n ≤ limit such that bytes[0, n) ends on a UTF-8 character boundary (valid UTF-8 input). */
function utf8Boundary(bytes: Uint8Array, limit: number): number {
  let n = limit;
  while (n > 0 && (bytes[n]! & 0xc0) === 0x80) n--;
  return n;
}

function varintBytes(v: number): Uint8Array {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}
