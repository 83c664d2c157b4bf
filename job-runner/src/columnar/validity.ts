// Conversions between the batch's validity form (one byte per row, null when every row is present)
// and Arrow's (one bit per row, LSB first, with a null count). Kept apart because the segment codec,
// the Parquet writer and the batch operations all need them and must agree on "no nulls ⇒ null".

/** Number of absent rows in a byte-per-row validity array (0 when `valid` is null). */
export function countNulls(valid: Uint8Array | null, length: number): number {
  if (valid === null) return 0;
  let nulls = 0;
  for (let i = 0; i < length; i++) if (valid[i] === 0) nulls++;
  return nulls;
}

/**
 * Packs byte-per-row validity into an Arrow bitmap. Returns a null bitmap when no row is null, so
 * writers can omit the buffer (Arrow's convention for "all valid").
 */
export function packValidity(valid: Uint8Array | null, length: number): { bitmap: Uint8Array | null; nullCount: number } {
  if (valid === null) return { bitmap: null, nullCount: 0 };
  const bitmap = new Uint8Array((length + 7) >>> 3);
  let nullCount = 0;
  const whole = length & ~7;
  let i = 0;
  // Eight rows per output byte without a branch per row: the common case is long runs of 1s.
  for (; i < whole; i += 8) {
    const b =
      (valid[i] !== 0 ? 1 : 0) |
      (valid[i + 1] !== 0 ? 2 : 0) |
      (valid[i + 2] !== 0 ? 4 : 0) |
      (valid[i + 3] !== 0 ? 8 : 0) |
      (valid[i + 4] !== 0 ? 16 : 0) |
      (valid[i + 5] !== 0 ? 32 : 0) |
      (valid[i + 6] !== 0 ? 64 : 0) |
      (valid[i + 7] !== 0 ? 128 : 0);
    bitmap[i >>> 3] = b;
    if (b !== 255) nullCount += 8 - popcount8(b);
  }
  for (; i < length; i++) {
    if (valid[i] !== 0) bitmap[i >>> 3] |= 1 << (i & 7);
    else nullCount++;
  }
  return nullCount === 0 ? { bitmap: null, nullCount: 0 } : { bitmap, nullCount };
}

/** Unpacks `length` bits starting at bit `offset` into one byte per row; null when every row is valid. */
export function unpackValidity(bitmap: Uint8Array | null | undefined, offset: number, length: number, nullCount: number): Uint8Array | null {
  if (!bitmap || bitmap.length === 0 || nullCount === 0) return null;
  const valid = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const bit = offset + i;
    valid[i] = (bitmap[bit >>> 3] >>> (bit & 7)) & 1;
  }
  return valid;
}

function popcount8(b: number): number {
  b = b - ((b >>> 1) & 0x55);
  b = (b & 0x33) + ((b >>> 2) & 0x33);
  return (b + (b >>> 4)) & 0x0f;
}
