// Schema-on-read coercions of one scanned field (docs/schema-on-read.md, "Coercion").
//
// Each function reads field f of the last record the scanner saw, returns the coerced value (NaN
// for null, -1 for a null string code) and notes the drift. Numeric strings are parsed straight from
// the bytes; only a string written with escapes is decoded first (`"\u0033\u0039"` is "39").
import { BAD_UTF8, ESCAPED, NON_ASCII, decodeJsonString } from './jsonString.js';
import { ABSENT, ARRAY, FALSE, NULL, NUMBER, OBJECT, STRING, TRUE, type JsonScanner } from './jsonScanner.js';
import {
  FROM_ARRAY,
  FROM_BOOLEAN,
  FROM_EMPTY,
  FROM_NUMBER,
  FROM_OBJECT,
  FROM_STRING,
  TO_DOUBLE,
  TO_INT64,
  TO_NULL,
  TO_STRING,
  type DriftCounter,
} from './drift.js';
import type { StringInterner } from './stringInterner.js';

const MAX_INT = Number.MAX_SAFE_INTEGER; // ±(2^53 − 1)

// "ASCII whitespace" around a numeric string: TAB, LF, FF, CR, SPACE (the WHATWG set, which is also
// RE2's \s, so DuckDB's regexp functions agree). Raw in a JSON string only SPACE can occur (the
// others are control characters, so they arrive escaped and take the decoding path).
/** The numeric-string grammar, for strings that had to be decoded first. */
export const NUMERIC_STRING = /^[\t\n\f\r ]*-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[\t\n\f\r ]*$/;

/** The range of an int32 column (`year`): a larger integer is null, like any value out of range. */
export const MAX_INT32 = 0x7fffffff;

/** Integer field: an integral value within ±limit (default 2^53−1), else NaN (null). -0 becomes 0. */
export function coerceInt(sc: JsonScanner, buf: Buffer, f: number, drift: DriftCounter, limit = MAX_INT): number {
  const t = sc.typeOf(f);
  if (t === NUMBER) {
    const v = sc.num[f];
    if (Number.isInteger(v) && v <= limit && v >= -limit) return v === 0 ? 0 : v;
    drift.note(f, FROM_NUMBER, TO_NULL);
    return NaN;
  }
  if (t === STRING) {
    if (sc.start[f] === sc.end[f]) {
      drift.note(f, FROM_EMPTY, TO_NULL);
      return NaN;
    }
    const v = numericString(sc, buf, f);
    if (Number.isInteger(v) && v <= limit && v >= -limit) {
      drift.note(f, FROM_STRING, TO_INT64);
      return v === 0 ? 0 : v;
    }
    drift.note(f, FROM_STRING, TO_NULL);
    return NaN;
  }
  return notAValue(t, f, drift);
}

/** Double field: a finite number, else NaN (null). */
export function coerceDouble(sc: JsonScanner, buf: Buffer, f: number, drift: DriftCounter): number {
  const t = sc.typeOf(f);
  if (t === NUMBER) {
    const v = sc.num[f];
    if (Number.isFinite(v)) return v;
    drift.note(f, FROM_NUMBER, TO_NULL);
    return NaN;
  }
  if (t === STRING) {
    if (sc.start[f] === sc.end[f]) {
      drift.note(f, FROM_EMPTY, TO_NULL);
      return NaN;
    }
    const v = numericString(sc, buf, f);
    if (Number.isFinite(v)) {
      drift.note(f, FROM_STRING, TO_DOUBLE);
      return v;
    }
    drift.note(f, FROM_STRING, TO_NULL);
    return NaN;
  }
  return notAValue(t, f, drift);
}

/**
 * String field: the dictionary code of the value, or -1 (null). A number or boolean becomes its JSON
 * text: JSON.stringify of the parsed value (String() for ±Infinity, which JSON cannot spell). With
 * no interner only the drift is noted (a known field that has no column).
 */
export function coerceString(sc: JsonScanner, buf: Buffer, f: number, dict: StringInterner | null, drift: DriftCounter): number {
  const t = sc.typeOf(f);
  if (t === STRING) return dict === null ? 0 : dict.intern(buf, sc.start[f], sc.end[f], sc.flagsOf(f));
  if (t === NUMBER) {
    drift.note(f, FROM_NUMBER, TO_STRING);
    return dict === null ? 0 : dict.internString(String(sc.num[f]));
  }
  if (t === TRUE || t === FALSE) {
    drift.note(f, FROM_BOOLEAN, TO_STRING);
    return dict === null ? 0 : dict.internString(t === TRUE ? 'true' : 'false');
  }
  notAValue(t, f, drift);
  return -1;
}

/** Null for absent/null (no drift), booleans, objects and arrays (drift). */
function notAValue(t: number, f: number, drift: DriftCounter): number {
  if (t === TRUE || t === FALSE) drift.note(f, FROM_BOOLEAN, TO_NULL);
  else if (t === OBJECT) drift.note(f, FROM_OBJECT, TO_NULL);
  else if (t === ARRAY) drift.note(f, FROM_ARRAY, TO_NULL);
  else if (t !== ABSENT && t !== NULL) throw new Error(`unexpected value type ${t}`);
  return NaN;
}

/** The number a string field holds under the numeric-string grammar, or NaN. */
export function numericString(sc: JsonScanner, buf: Buffer, f: number): number {
  const flags = sc.flagsOf(f);
  let s = sc.start[f];
  let e = sc.end[f];
  if (flags === 0) {
    while (s < e && buf[s] === 0x20) s++;
    while (e > s && buf[e - 1] === 0x20) e--;
    if (s === e) return NaN;
    return sc.scanNumber(buf, s, e, true) === e ? sc.numValue : NaN;
  }
  // Non-ASCII characters can never match the grammar; escapes can (`"\u0031"`).
  if ((flags & (NON_ASCII | BAD_UTF8)) !== 0 || (flags & ESCAPED) === 0) return NaN;
  const text = decodeJsonString(buf, s, e, flags);
  return NUMERIC_STRING.test(text) ? Number(text) : NaN;
}

/** Whether field f holds exactly the JSON string `expected` (ASCII), after decoding escapes. */
export function stringEquals(sc: JsonScanner, buf: Buffer, f: number, expected: Buffer): boolean {
  if (sc.typeOf(f) !== STRING) return false;
  const s = sc.start[f];
  const e = sc.end[f];
  const flags = sc.flagsOf(f);
  if (flags === 0) {
    if (e - s !== expected.length) return false;
    for (let j = 0; j < expected.length; j++) if (buf[s + j] !== expected[j]) return false;
    return true;
  }
  return (flags & ESCAPED) !== 0 && decodeJsonString(buf, s, e, flags) === expected.toString('latin1');
}
