// Removes key/value entries from a Parquet file's footer. Why: arrow-rs (inside parquet-wasm) stores
// the Arrow schema it was given under `ARROW:schema`, and we hand it dictionary-encoded strings (10x
// cheaper than materialising every value). pyarrow and polars restore types from that entry, so our
// string columns would come back as dictionary/categorical instead of plain strings. Without it every
// reader types columns from the Parquet schema alone, as for files written by Spark.
//
// The footer is a Thrift compact-protocol FileMetaData struct followed by its 4-byte length and
// "PAR1". It is the last thing in the file and nothing points into it, so rewriting it moves no
// other byte. We re-emit the top-level fields as they are (raw bytes), except key_value_metadata
// (field 5), whose surviving entries are re-encoded; field headers are re-encoded because compact
// protocol stores field ids as deltas from the previous field.

const MAGIC = 0x31524150; // "PAR1" little-endian
const KEY_VALUE_METADATA = 5;

// Thrift compact types
const T_BOOL_TRUE = 1;
const T_BOOL_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error('Parquet footer ends early');
    return this.buf[this.pos++];
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      // Lengths and counts fit in 53 bits; larger varints (i64 values) are skipped, not interpreted.
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 70) throw new Error('Parquet footer: varint too long');
    }
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  skip(type: number): void {
    switch (type) {
      case T_BOOL_TRUE:
      case T_BOOL_FALSE:
        return; // a struct field's value lives in its header; list elements call skipListBool
      case T_BYTE:
        this.pos += 1;
        return;
      case T_I16:
      case T_I32:
      case T_I64:
        this.varint();
        return;
      case T_DOUBLE:
        this.pos += 8;
        return;
      case T_BINARY: {
        const length = this.varint(); // not `pos += varint()`: that adds to the pos read before the varint
        this.pos += length;
        return;
      }
      case T_LIST:
      case T_SET: {
        const { size, elemType } = this.listHeader();
        for (let i = 0; i < size; i++) {
          if (elemType === T_BOOL_TRUE || elemType === T_BOOL_FALSE) this.pos += 1;
          else this.skip(elemType);
        }
        return;
      }
      case T_MAP: {
        const size = this.varint();
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipElement(kv >> 4);
          this.skipElement(kv & 15);
        }
        return;
      }
      case T_STRUCT:
        for (;;) {
          const field = this.fieldHeader(0);
          if (field === null) return;
          this.skip(field.type);
        }
      default:
        throw new Error(`Parquet footer: unknown Thrift type ${type} at byte ${this.pos}`);
    }
  }

  private skipElement(type: number): void {
    if (type === T_BOOL_TRUE || type === T_BOOL_FALSE) this.pos += 1;
    else this.skip(type);
  }

  listHeader(): { size: number; elemType: number } {
    const b = this.byte();
    const short = b >> 4;
    return { size: short === 15 ? this.varint() : short, elemType: b & 15 };
  }

  /** Null at STOP. Nested structs restart ids at 0, so callers pass the previous id of their own level. */
  fieldHeader(lastId: number): { id: number; type: number } | null {
    const b = this.byte();
    if (b === 0) return null;
    const delta = b >> 4;
    const type = b & 15;
    return { id: delta === 0 ? this.zigzag() : lastId + delta, type };
  }
}

interface RawField {
  id: number;
  type: number;
  /** The value's bytes (empty for booleans, whose value is the header's type). */
  value: Uint8Array;
}

function readTopLevel(buf: Uint8Array, start: number, end: number): RawField[] {
  const r = new Reader(buf, start, end);
  const fields: RawField[] = [];
  let lastId = 0;
  for (;;) {
    const header = r.fieldHeader(lastId);
    if (header === null) break;
    const from = r.pos;
    r.skip(header.type);
    fields.push({ id: header.id, type: header.type, value: buf.subarray(from, r.pos) });
    lastId = header.id;
  }
  if (r.pos !== end) throw new Error(`Parquet footer: ${end - r.pos} stray bytes after FileMetaData`);
  return fields;
}

class Writer {
  private readonly parts: number[] = [];
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  byte(b: number): void {
    this.parts.push(b);
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
  bytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
    this.size += b.length;
  }
  private flush(): void {
    if (this.parts.length === 0) return;
    const b = Uint8Array.from(this.parts);
    this.parts.length = 0;
    this.chunks.push(b);
    this.size += b.length;
  }
  fieldHeader(id: number, type: number, lastId: number): void {
    const delta = id - lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.varint(id >= 0 ? id * 2 : -id * 2 - 1);
    }
  }
  listHeader(size: number, elemType: number): void {
    if (size < 15) this.byte((size << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.varint(size);
    }
  }
  result(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** Entries of a key_value_metadata list, each with its raw struct bytes and decoded key. */
function readKeyValues(value: Uint8Array): { key: string; raw: Uint8Array }[] {
  const r = new Reader(value, 0, value.length);
  const { size, elemType } = r.listHeader();
  if (elemType !== T_STRUCT) throw new Error('Parquet footer: key_value_metadata is not a list of structs');
  const out: { key: string; raw: Uint8Array }[] = [];
  for (let i = 0; i < size; i++) {
    const from = r.pos;
    let key = '';
    let lastId = 0;
    for (;;) {
      const f = r.fieldHeader(lastId);
      if (f === null) break;
      if (f.id === 1 && f.type === T_BINARY) {
        const len = r.varint();
        key = Buffer.from(value.buffer, value.byteOffset + r.pos, len).toString('utf8');
        r.pos += len;
      } else r.skip(f.type);
      lastId = f.id;
    }
    out.push({ key, raw: value.subarray(from, r.pos) });
  }
  return out;
}

/**
 * The footer's byte range [start, end) in `bytes`, which is a whole Parquet file or its tail (the
 * last chunks of a stream): it must end with the footer length and "PAR1" and contain the footer.
 */
export function footerRange(bytes: Uint8Array, wholeFile: boolean): { start: number; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || view.getUint32(bytes.byteLength - 4, true) !== MAGIC || (wholeFile && view.getUint32(0, true) !== MAGIC)) {
    throw new Error('not a Parquet file (PAR1 magic missing)');
  }
  const length = view.getUint32(bytes.byteLength - 8, true);
  const end = bytes.byteLength - 8;
  const start = end - length;
  if (start < (wholeFile ? 4 : 0)) throw new Error(`Parquet footer of ${length} bytes is not inside the ${bytes.byteLength} bytes given`);
  return { start, end };
}

/** Key/value metadata keys of a Parquet file's footer (for tests and inspection). */
export function footerKeys(file: Uint8Array): string[] {
  const { start, end } = footerRange(file, true);
  const kv = readTopLevel(file, start, end).find((f) => f.id === KEY_VALUE_METADATA);
  return kv ? readKeyValues(kv.value).map((e) => e.key) : [];
}

/**
 * `bytes` (a whole file, or a tail holding the whole footer) with the footer's key/value entries named
 * in `drop` removed (the field itself when none remain). Returns `bytes` itself when nothing matches.
 */
export function dropFooterKeys(bytes: Uint8Array, drop: ReadonlySet<string>, wholeFile = true): Uint8Array {
  const { start, end } = footerRange(bytes, wholeFile);
  const fields = readTopLevel(bytes, start, end);
  const kvField = fields.find((f) => f.id === KEY_VALUE_METADATA);
  if (!kvField) return bytes;
  const entries = readKeyValues(kvField.value);
  const kept = entries.filter((e) => !drop.has(e.key));
  if (kept.length === entries.length) return bytes;

  const w = new Writer();
  let lastId = 0;
  for (const f of fields) {
    if (f.id === KEY_VALUE_METADATA) {
      if (kept.length === 0) continue;
      w.fieldHeader(f.id, T_LIST, lastId);
      w.listHeader(kept.length, T_STRUCT);
      for (const e of kept) w.bytes(e.raw);
    } else {
      w.fieldHeader(f.id, f.type, lastId);
      w.bytes(f.value);
    }
    lastId = f.id;
  }
  w.byte(0); // STOP
  const footer = w.result();
  const out = new Uint8Array(start + footer.length + 8);
  out.set(bytes.subarray(0, start), 0);
  out.set(footer, start);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(start + footer.length, footer.length, true);
  view.setUint32(start + footer.length + 4, MAGIC, true);
  return out;
}
