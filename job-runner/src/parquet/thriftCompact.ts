// A Thrift compact-protocol writer, just enough for Parquet's footer and page headers (the
// FileMetaData, PageHeader and friends of parquet.thrift). Writes into one growable byte array; no
// objects per field, because a songs lake writes ~10k small files and each has a ~400-byte footer.
//
// Compact protocol, as used here: a field header is one byte (id delta << 4 | type) when the id is
// 1..15 above the previous field of the same struct, else the type byte and the zigzag id; integers
// are zigzag varints; binary is a varint length and the bytes; a list header is (size << 4 | element
// type) below 15 elements; booleans live in the field header's type; a struct ends with a 0 byte.

export const T_BOOL_TRUE = 1;
export const T_BOOL_FALSE = 2;
export const T_I32 = 5;
export const T_I64 = 6;
export const T_BINARY = 8;
export const T_LIST = 9;
export const T_STRUCT = 12;

export class CompactWriter {
  buf = new Uint8Array(1024);
  pos = 0;
  private lastId = 0;
  private readonly stack: number[] = [];

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative integer below 2^53. */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Zigzag varint of an integer within ±2^52 (sizes, offsets, counts, enum values). */
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  field(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastId = id;
  }

  i32(id: number, v: number): void {
    this.field(id, T_I32);
    this.zigzag(v);
  }

  i64(id: number, v: number): void {
    this.field(id, T_I64);
    this.zigzag(v);
  }

  bool(id: number, v: boolean): void {
    this.field(id, v ? T_BOOL_TRUE : T_BOOL_FALSE);
  }

  binary(id: number, bytes: Uint8Array): void {
    this.field(id, T_BINARY);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  string(id: number, text: string): void {
    this.binary(id, Buffer.from(text, 'utf8'));
  }

  /** A list field's header; the caller writes `size` elements (structs: structBegin/End each). */
  list(id: number, elemType: number, size: number): void {
    this.field(id, T_LIST);
    if (size < 15) this.byte((size << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.varint(size);
    }
  }

  /** A struct as a field (`id`), or as a list element (no id). */
  structBegin(id?: number): void {
    if (id !== undefined) this.field(id, T_STRUCT);
    this.stack.push(this.lastId);
    this.lastId = 0;
  }

  structEnd(): void {
    this.byte(0);
    this.lastId = this.stack.pop() ?? 0;
  }

  /** The bytes written so far (a view; copy before writing more). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.lastId = 0;
    this.stack.length = 0;
  }
}
