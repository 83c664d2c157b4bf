// songplay_id: FNV-1a 64 over the UTF-8 text `<userId>|<sessionId>|<itemInSession>|<ts>` (base-10
// integers, null as empty), top bit cleared (docs/schema-on-read.md). The 64-bit state is kept as two
// unsigned 32-bit halves, so hashing a row creates no BigInt and no string:
//
//   h = (h ^ byte) * P  (mod 2^64),  P = 2^40 + 435
//     = (h ^ byte) * 435 + ((h ^ byte) << 40)
//   lo' = (lo * 435) mod 2^32
//   hi' = (hi * 435 + carry(lo * 435) + (lo << 8)) mod 2^32
// lo * 435 < 2^41 and hi * 435 < 2^41 are exact in a double.

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PIPE = 0x7c;
const MINUS = 0x2d;

/** Hash state: [hi, lo] as unsigned 32-bit numbers. Reused across rows to avoid allocation. */
export class Fnv1a64 {
  hi = OFFSET_HI;
  lo = OFFSET_LO;
  private readonly digits = new Uint8Array(24);

  reset(): void {
    this.hi = OFFSET_HI;
    this.lo = OFFSET_LO;
  }

  byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0;
    const loMul = lo * 435;
    const carry = Math.floor(loMul / 4294967296);
    this.lo = loMul >>> 0;
    this.hi = (this.hi * 435 + carry + ((lo << 8) >>> 0)) >>> 0;
  }

  /** The base-10 text of an exact integer (|x| < 2^53), as JavaScript's String(x) writes it. */
  integer(x: number): void {
    if (x < 0) {
      this.byte(MINUS);
      x = -x;
    }
    let n = 0;
    do {
      const q = Math.floor(x / 10);
      this.digits[n++] = 0x30 + (x - q * 10);
      x = q;
    } while (x > 0);
    while (n > 0) this.byte(this.digits[--n]!);
  }
}

/**
 * Writes songplay ids of the given rows into `words` (Int32 pairs: [lo, hi] per row, the layout of a
 * little-endian BigInt64Array). Null fields (valid byte 0) hash as the empty string.
 */
export function songplayIds(
  rows: Int32Array,
  userId: Float64Array,
  userValid: Uint8Array | null,
  sessionId: Float64Array,
  sessionValid: Uint8Array | null,
  item: Float64Array,
  itemValid: Uint8Array | null,
  ts: Float64Array,
  tsValid: Uint8Array | null,
  words: Int32Array,
): void {
  const h = new Fnv1a64();
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    h.reset();
    if (userValid === null || userValid[r] !== 0) h.integer(userId[r]!);
    h.byte(PIPE);
    if (sessionValid === null || sessionValid[r] !== 0) h.integer(sessionId[r]!);
    h.byte(PIPE);
    if (itemValid === null || itemValid[r] !== 0) h.integer(item[r]!);
    h.byte(PIPE);
    if (tsValid === null || tsValid[r] !== 0) h.integer(ts[r]!);
    words[2 * k] = h.lo | 0;
    words[2 * k + 1] = (h.hi & 0x7fffffff) | 0;
  }
}
