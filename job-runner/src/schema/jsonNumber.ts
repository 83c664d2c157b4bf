// JSON numbers at the byte level: grammar check and the exact double JSON.parse would give.
//
// Eventsim-like lines hold several numbers per record (ts, registration, sessionId, length …), so the
// conversion must be cheap and exact: integer digits accumulate in a small integer, and the double
// is formed with one correctly rounded multiplication or division whenever that is exact (Clinger's
// fast path), else by Number() on the text, which rounds like JSON.parse.

// Exact powers of ten: m * 10^k and m / 10^k are correctly rounded when m < 2^53 and k <= 22.
const POW10 = new Float64Array(23);
for (let k = 0, p = 1; k < 23; k++, p *= 10) POW10[k] = p;

/**
 * Validates a number at i (grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?) and returns the index after
 * it, or -1. With `out`, sets out.numValue to the same double JSON.parse gives: exactly via Clinger's
 * fast path when the digits form an integer below 2^53 and the power of ten is at most 22, else
 * through Number() (whose grammar contains JSON's).
 */
export function scanJsonNumber(buf: Buffer, i: number, e: number, out: { numValue: number } | null): number {
  const s = i;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    if (++i >= e) return -1;
  }
  let c = buf[i];
  // Digits go into a small integer `acc`, eight at a time into the double `mant`: integer math per
  // digit instead of a dependent floating multiply-add.
  let mant = 0;
  let acc = 0;
  let pending = 0;
  if (c === 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) {
    while (i < e && (c = buf[i]) >= 0x30 && c <= 0x39) {
      acc = acc * 10 + (c - 0x30);
      if (++pending === 8) {
        mant = mant * 1e8 + acc;
        acc = 0;
        pending = 0;
      }
      i++;
    }
  } else return -1;
  let exp = 0;
  if (i < e && buf[i] === 0x2e) {
    const f0 = ++i;
    while (i < e && (c = buf[i]) >= 0x30 && c <= 0x39) {
      acc = acc * 10 + (c - 0x30);
      if (++pending === 8) {
        mant = mant * 1e8 + acc;
        acc = 0;
        pending = 0;
      }
      i++;
    }
    if (i === f0) return -1;
    exp = f0 - i;
  }
  if (i < e && (buf[i] | 0x20) === 0x65) {
    if (++i >= e) return -1;
    let esign = 1;
    if (buf[i] === 0x2b || buf[i] === 0x2d) {
      if (buf[i] === 0x2d) esign = -1;
      if (++i >= e) return -1;
    }
    const e0 = i;
    let ev = 0;
    while (i < e && (c = buf[i]) >= 0x30 && c <= 0x39) {
      if (ev < 100000) ev = ev * 10 + (c - 0x30);
      i++;
    }
    if (i === e0) return -1;
    exp += esign * ev;
  }
  if (out !== null) {
    mant = mant * POW10[pending] + acc;
    let v: number;
    // Every partial sum is below the final one, so mant <= 2^53 - 1 means it is exact.
    if (mant <= 9007199254740991 && exp >= -22 && exp <= 22) v = exp >= 0 ? mant * POW10[exp] : mant / POW10[-exp];
    else v = Number(buf.toString('latin1', neg ? s + 1 : s, i));
    out.numValue = neg ? -v : v;
  }
  return i;
}
