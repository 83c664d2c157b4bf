// A Snappy compressor (the raw block format of google/snappy's format_description.txt, which is what
// Parquet's SNAPPY codec means), for the pages of small files written in JS (smallFile.ts). Greedy:
// a hash of the next 4 bytes finds the last position they were seen at; a match of 4 or more bytes
// within 64 KiB becomes a copy, everything else literals. On the few hundred bytes of a small file's
// page it mostly emits literals; it only has to be valid, and independent decoders (arrow-rs in
// parquet-wasm, DuckDB) check that in the tests.
//
//   preamble   varint of the uncompressed length
//   literal    tag 0b00: (len-1) << 2 below 60, else 60..63 and len-1 in 1..4 bytes
//   copy, 1-byte offset  tag 0b01: len 4..11, offset < 2048 (3 high bits in the tag)
//   copy, 2-byte offset  tag 0b10: (len-1) << 2, len 1..64, then the offset (LE, < 65536)

const MAX_OFFSET = 65535;
const MIN_MATCH = 4;

const TABLE_BITS = 14;
const table = new Int32Array(1 << TABLE_BITS);
let tableBase = 1;

/** Worst case output size (literals only), as in the reference implementation. */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  const out = new Uint8Array(maxCompressedLength(n));
  let o = 0;
  for (let v = n; ; ) {
    if (v < 0x80) {
      out[o++] = v;
      break;
    }
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  const literal = (from: number, to: number) => {
    let len = to - from;
    if (len === 0) return;
    const m = len - 1;
    if (m < 60) out[o++] = m << 2;
    else if (m < 0x100) {
      out[o++] = 60 << 2;
      out[o++] = m;
    } else if (m < 0x10000) {
      out[o++] = 61 << 2;
      out[o++] = m & 0xff;
      out[o++] = m >>> 8;
    } else if (m < 0x1000000) {
      out[o++] = 62 << 2;
      out[o++] = m & 0xff;
      out[o++] = (m >>> 8) & 0xff;
      out[o++] = m >>> 16;
    } else {
      out[o++] = 63 << 2;
      out[o++] = m & 0xff;
      out[o++] = (m >>> 8) & 0xff;
      out[o++] = (m >>> 16) & 0xff;
      out[o++] = m >>> 24;
    }
    out.set(input.subarray(from, to), o);
    o += len;
    len = 0;
  };
  const copy2 = (offset: number, len: number) => {
    out[o++] = ((len - 1) << 2) | 2;
    out[o++] = offset & 0xff;
    out[o++] = offset >>> 8;
  };
  const copy = (offset: number, len: number) => {
    // Cut long matches into copies of 64 (never leaving a tail under 4, which copy1 cannot hold).
    while (len >= 68) {
      copy2(offset, 64);
      len -= 64;
    }
    if (len > 64) {
      copy2(offset, 60);
      len -= 60;
    }
    if (len < 12 && offset < 2048) {
      out[o++] = ((offset >>> 8) << 5) | ((len - 4) << 2) | 1;
      out[o++] = offset & 0xff;
    } else copy2(offset, len);
  };

  if (n < MIN_MATCH + 1) {
    literal(0, n);
    return out.subarray(0, o);
  }
  let bits = 8;
  while (bits < TABLE_BITS && 1 << bits < n) bits++;
  // One table for every call: an entry is a position plus this call's base, so entries of earlier
  // calls (below the base) read as empty without clearing the table each time.
  if (tableBase + n + 1 > 0x7fffffff - MAX_OFFSET) {
    table.fill(0);
    tableBase = 1;
  }
  const base = tableBase;
  tableBase += n + 1;
  const shift = 32 - bits;
  const word = (i: number) => input[i] | (input[i + 1] << 8) | (input[i + 2] << 16) | (input[i + 3] << 24);
  let pending = 0; // start of the bytes not emitted yet
  let i = 0;
  while (i + MIN_MATCH <= n) {
    const w = word(i);
    const h = Math.imul(w, 0x1e35a7bd) >>> shift;
    const candidate = table[h]! - base;
    table[h] = i + base;
    if (candidate >= 0 && i - candidate <= MAX_OFFSET && word(candidate) === w) {
      let len = MIN_MATCH;
      while (i + len < n && input[candidate + len] === input[i + len]) len++;
      literal(pending, i);
      copy(i - candidate, len);
      i += len;
      pending = i;
    } else i++;
  }
  literal(pending, n);
  return out.subarray(0, o);
}
