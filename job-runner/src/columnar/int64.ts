// int64 without a BigInt per value. The batch holds int64 columns as Float64Array (exact integers up to
// 2^53 - 1: ids, ms timestamps) or BigInt64Array (full range: songplay_id). Arrow and Parquet want
// little-endian 64-bit words, so we write and read the two 32-bit halves through Int32/Uint32 views:
// creating 10M BigInts costs seconds; this costs milliseconds.

const TWO_32 = 4294967296;
/** hi word bound under which hi * 2^32 + lo is a safe integer: |x| < 2^53. */
const SAFE_HI = 0x200000;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Arrow IPC and Parquet are little-endian and so are the typed-array views used here.
  throw new Error('sparkify-lake needs a little-endian platform');
}

/**
 * Exact integers of a Float64Array as int64 words (a BigInt64Array over fresh memory). Null rows are
 * written as 0 whatever they hold. A present value that is not a safe integer is a bug upstream, so
 * it throws rather than silently writing a rounded id.
 */
export function float64ToInt64(src: Float64Array, valid: Uint8Array | null, length: number, what: string): BigInt64Array {
  const words = new Int32Array(length * 2);
  for (let i = 0; i < length; i++) {
    const x = src[i];
    if (!Number.isSafeInteger(x)) {
      if (valid !== null && valid[i] === 0) continue;
      throw new Error(`${what}: row ${i} holds ${x}, not an integer within ±(2^53-1); an int64 column kept as Float64Array must hold exact integers`);
    }
    const hi = Math.floor(x / TWO_32);
    words[2 * i] = x - hi * TWO_32; // in [0, 2^32): the Int32Array store wraps it to the same bits
    words[2 * i + 1] = hi;
  }
  return new BigInt64Array(words.buffer, 0, length);
}

/**
 * int64 words back to exact doubles, or null when some value is beyond ±(2^53-1) (the caller then
 * keeps the BigInt64Array). Rows marked null are decoded as well: they hold whatever the writer put.
 */
export function int64ToFloat64(src: BigInt64Array, length: number): Float64Array | null {
  const words = new Int32Array(src.buffer, src.byteOffset, length * 2);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const hi = words[2 * i + 1];
    if (hi >= SAFE_HI || hi < -SAFE_HI) return null;
    out[i] = hi * TWO_32 + (words[2 * i] >>> 0);
  }
  return out;
}

/** Any int64 representation as a BigInt64Array (a copy for Float64Array input, the same array otherwise). */
export function asBigInt64(data: Float64Array | BigInt64Array, valid: Uint8Array | null, length: number, what: string): BigInt64Array {
  return data instanceof BigInt64Array ? data : float64ToInt64(data, valid, length, what);
}

