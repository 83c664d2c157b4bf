// A validating JSON scanner over raw bytes that records where each known field's value is.
//
// It accepts exactly what JSON.parse accepts (RFC 8259: strings with escapes, numbers, literals,
// nested values at any depth, whitespace) but builds nothing: for each field of the KeyTable it
// records the value's type and byte range (and the number's value), for unknown keys their byte
// range. Duplicate keys overwrite the slot, so the last one wins as in JSON.parse. Strings are not
// decoded here; see stringInterner.ts. Per record it allocates nothing.
//
// Two framings: in line mode a '\n' ends the input (it is never JSON whitespace inside a line, and a
// raw '\n' inside a string is invalid anyway), so the scanner finds the end of a valid line itself
// and never reads past it; in document mode '\n' is whitespace and the input ends at `e`.
import { BAD_UTF8, ESCAPED, HEX_VALUE, NON_ASCII, SIMPLE_ESCAPE, decodeJsonString, utf8SequenceLength } from './jsonString.js';
import { scanJsonNumber } from './jsonNumber.js';
import type { KeyTable } from './keyTable.js';

// Value types of a slot.
export const ABSENT = 0;
export const STRING = 1;
export const NUMBER = 2;
export const TRUE = 3;
export const FALSE = 4;
export const NULL = 5;
export const OBJECT = 6;
export const ARRAY = 7;

// Results of a scan.
export const OK = 0;
export const INVALID = 1;
export const NOT_OBJECT = 2;

// Byte classes inside a string: 0 ordinary, 1 quote, 2 backslash, 3 control (invalid raw), 4 non-ASCII.
const STR_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR_CLASS[c] = 3;
STR_CLASS[0x22] = 1;
STR_CLASS[0x5c] = 2;
for (let c = 0x80; c < 0x100; c++) STR_CLASS[c] = 4;

const WS_LINE = new Uint8Array(256);
WS_LINE[0x20] = WS_LINE[0x09] = WS_LINE[0x0d] = 1;
const WS_DOC = WS_LINE.slice();
WS_DOC[0x0a] = 1;

// Containers on the nesting stack.
const IN_OBJECT = 1;
const IN_ARRAY = 2;

export class JsonScanner {
  readonly keys: KeyTable;
  /**
   * Per field: (record stamp << 8) | (string flags << 3) | value type, in one store per field.
   * A field whose stamp is not the current record's did not appear in it (see typeOf).
   */
  private readonly meta: Int32Array;
  /** Per field: string content range (without quotes), or the value's text range. */
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Per field: the value of a NUMBER. */
  readonly num: Float64Array;
  private stamp = 0;

  /** Keys not in the table, in order of appearance (duplicates included). */
  unknownCount = 0;
  unknownStart = new Int32Array(16);
  unknownEnd = new Int32Array(16);
  unknownFlags = new Uint8Array(16);
  /** The record held an ill-formed UTF-8 sequence somewhere in a string or key. */
  badUtf8 = false;
  /** After OK / NOT_OBJECT: where the value and its trailing whitespace end ('\n' or `e`). */
  pos = 0;
  /** The value of the last number scanned with `want` (see scanNumber). */
  numValue = 0;

  private readonly ws: Uint8Array;
  private readonly lineMode: boolean;
  private strFlags = 0;
  private stack = new Uint8Array(64);
  /** Key order learned from previous records: the field that followed field f, and the first one. */
  private readonly next: Int16Array;
  private firstKey = -1;
  /** The buffer being scanned as a DataView (for 32-bit reads), and that buffer. */
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private dvBuf: Buffer | null = null;

  constructor(keys: KeyTable, framing: 'line' | 'document') {
    this.keys = keys;
    const n = keys.names.length;
    this.meta = new Int32Array(n);
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
    this.num = new Float64Array(n);
    this.next = new Int16Array(n).fill(-1);
    this.lineMode = framing === 'line';
    this.ws = this.lineMode ? WS_LINE : WS_DOC;
  }

  /** The type of field f in the last scanned record (ABSENT when the key did not appear). */
  typeOf(f: number): number {
    const m = this.meta[f];
    return m >>> 8 === this.stamp ? m & 7 : ABSENT;
  }

  /** ESCAPED / NON_ASCII / BAD_UTF8 of field f's string. */
  flagsOf(f: number): number {
    return (this.meta[f] >> 3) & 7;
  }

  /**
   * Scans one record starting at `s`: OK (a JSON object, fields recorded), NOT_OBJECT (valid JSON,
   * not an object) or INVALID. In line mode the record ends at the first '\n' at or after `s`.
   */
  scan(buf: Buffer, s: number, e: number): number {
    if (buf !== this.dvBuf) this.bind(buf);
    if (e > buf.length) e = buf.length;
    if (++this.stamp === 1 << 23) {
      this.meta.fill(0);
      this.stamp = 1;
    }
    this.badUtf8 = false;
    this.unknownCount = 0;
    const ws = this.ws;
    let i = s;
    while (i < e && ws[buf[i]] === 1) i++;
    if (i >= e || buf[i] !== 0x7b) {
      const j = this.skipValue(buf, i, e);
      if (j < 0) return INVALID;
      return this.finish(buf, j, e) ? NOT_OBJECT : INVALID;
    }
    i++;
    while (i < e && ws[buf[i]] === 1) i++;
    if (i < e && buf[i] === 0x7d) return this.finish(buf, i + 1, e) ? OK : INVALID;
    const keys = this.keys;
    const words = keys.words;
    const wordStart = keys.wordStart;
    const wordCount = keys.wordCount;
    const lastMask = keys.lastMask;
    const keyLength = keys.lengths;
    const meta = this.meta;
    const start = this.start;
    const end = this.end;
    const num = this.num;
    const dv = this.dv;
    const next = this.next;
    const stampBits = this.stamp << 8;
    let predicted = this.firstKey;
    let prev = -2; // the previous key's field: -2 before the first key, -1 after an unknown one
    for (;;) {
      if (i >= e || buf[i] !== 0x22) return INVALID;
      const ks = i + 1;
      let f = predicted;
      // Records of one source usually list their keys in the same order: try the key that followed
      // the previous one last time, comparing its `key":` text a 32-bit word at a time. The closing
      // quote is part of the match, so a match identifies that exact, escape-free key.
      if (f >= 0) {
        let w = wordStart[f];
        const last = ks + 4 * (wordCount[f] - 1);
        if (last + 4 <= e) {
          let j = ks;
          while (j < last && dv.getInt32(j, true) === words[w]) {
            j += 4;
            w++;
          }
          if (j !== last || (dv.getInt32(j, true) & lastMask[f]) !== words[w]) f = -1;
        } else f = -1;
      }
      if (f >= 0) i = ks + keyLength[f] + 2;
      else {
        const ke = this.scanString(buf, ks, e);
        if (ke < 0) return INVALID;
        const kf = this.strFlags;
        if (kf === 0) f = keys.lookup(buf, ks, ke);
        else {
          if ((kf & BAD_UTF8) !== 0) this.badUtf8 = true;
          f = (kf & ESCAPED) !== 0 ? keys.lookupName(decodeJsonString(buf, ks, ke, kf)) : -1;
        }
        if (f < 0) this.addUnknown(ks, ke, kf);
        // Learn the order (only on a miss: a hit already agrees with what was learned).
        if (prev === -2) this.firstKey = f;
        else if (prev >= 0) next[prev] = f;
        i = ke + 1;
        while (i < e && ws[buf[i]] === 1) i++;
        if (i >= e || buf[i] !== 0x3a) return INVALID;
        i++;
      }
      prev = f;
      if (i >= e) return INVALID;
      let c = buf[i];
      // Whitespace and controls are all <= 0x20, every value starts above it.
      if (c <= 0x20) {
        while (i < e && ws[buf[i]] === 1) i++;
        if (i >= e) return INVALID;
        c = buf[i];
      }
      let t: number;
      let vs = i;
      let ve: number;
      let vf = 0;
      if (c === 0x22) {
        vs = i + 1;
        ve = this.scanString(buf, vs, e);
        if (ve < 0) return INVALID;
        vf = this.strFlags;
        if ((vf & BAD_UTF8) !== 0) this.badUtf8 = true;
        t = STRING;
        i = ve + 1;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        ve = this.scanNumber(buf, i, e, f >= 0);
        if (ve < 0) return INVALID;
        t = NUMBER;
        i = ve;
      } else if (c === 0x7b || c === 0x5b) {
        ve = this.skipValue(buf, i, e);
        if (ve < 0) return INVALID;
        t = c === 0x7b ? OBJECT : ARRAY;
        i = ve;
      } else {
        ve = this.skipLiteral(buf, i, e);
        if (ve < 0) return INVALID;
        t = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
        i = ve;
      }
      if (f >= 0) {
        meta[f] = stampBits | (vf << 3) | t;
        start[f] = vs;
        end[f] = ve;
        if (t === NUMBER) num[f] = this.numValue;
        predicted = next[f];
      } else predicted = -1;
      if (i >= e) return INVALID;
      let d = buf[i];
      if (d <= 0x20) {
        while (i < e && ws[buf[i]] === 1) i++;
        if (i >= e) return INVALID;
        d = buf[i];
      }
      if (d === 0x2c) {
        i++;
        if (i < e && buf[i] <= 0x20) while (i < e && ws[buf[i]] === 1) i++;
        continue;
      }
      if (d === 0x7d) return this.finish(buf, i + 1, e) ? OK : INVALID;
      return INVALID;
    }
  }

  /** A DataView over the buffer being scanned, for 32-bit reads (made once per buffer, not per record). */
  private bind(buf: Buffer): void {
    this.dvBuf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  /** Only whitespace may follow the value, up to the end of the line (or document). */
  private finish(buf: Buffer, i: number, e: number): boolean {
    const ws = this.ws;
    while (i < e && ws[buf[i]] === 1) i++;
    this.pos = i;
    return i === e || (this.lineMode && buf[i] === 0x0a);
  }

  private addUnknown(s: number, e: number, flags: number): void {
    const n = this.unknownCount;
    if (n === this.unknownStart.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(n * 2);
        b.set(a);
        return b;
      };
      this.unknownStart = grow(this.unknownStart);
      this.unknownEnd = grow(this.unknownEnd);
      this.unknownFlags = grow(this.unknownFlags);
    }
    this.unknownStart[n] = s;
    this.unknownEnd[n] = e;
    this.unknownFlags[n] = flags;
    this.unknownCount = n + 1;
  }

  /** From the first content byte to the closing quote's index, or -1. Sets strFlags. */
  private scanString(buf: Buffer, i: number, e: number): number {
    const dv = this.dv; // bound by scan(), which also keeps e <= the buffer's length
    const wordEnd = e - 4;
    let flags = 0;
    for (;;) {
      // Four bytes at a time while none is special (SWAR: a byte is special when it is '"', '\\',
      // below 0x20 or above 0x7F); 2.5x faster than a byte loop in V8.
      while (i <= wordEnd) {
        const x = dv.getInt32(i, true);
        const q = x ^ 0x22222222;
        const b = x ^ 0x5c5c5c5c;
        const t = ((((q - 0x01010101) | 0) & ~q) | (((b - 0x01010101) | 0) & ~b) | (((x - 0x20202020) | 0) & ~x) | x) & 0x80808080;
        if (t !== 0) {
          // Borrows only run upwards from a special byte, so the lowest flagged byte is the first
          // special one: go straight to it.
          i += (31 - Math.clz32(t & -t)) >> 3;
          break;
        }
        i += 4;
      }
      while (i < e && STR_CLASS[buf[i]] === 0) i++;
      if (i >= e) return -1;
      const k = STR_CLASS[buf[i]];
      if (k === 1) {
        this.strFlags = flags;
        return i;
      }
      if (k === 2) {
        flags |= ESCAPED;
        if (i + 1 >= e) return -1;
        const d = buf[i + 1];
        if (d === 0x75) {
          if (i + 5 >= e) return -1;
          if ((HEX_VALUE[buf[i + 2]] | HEX_VALUE[buf[i + 3]] | HEX_VALUE[buf[i + 4]] | HEX_VALUE[buf[i + 5]]) < 0) return -1;
          i += 6;
        } else if (SIMPLE_ESCAPE[d] >= 0) i += 2;
        else return -1;
      } else if (k === 3) return -1;
      else {
        flags |= NON_ASCII;
        const n = utf8SequenceLength(buf, i, e);
        if (n === 0) {
          flags |= BAD_UTF8;
          i++;
        } else i += n;
      }
    }
  }

  /** Validates a number at i and returns the index after it, or -1; with `want`, sets numValue (see jsonNumber.ts). */
  scanNumber(buf: Buffer, i: number, e: number, want: boolean): number {
    return scanJsonNumber(buf, i, e, want ? this : null);
  }

  private skipLiteral(buf: Buffer, i: number, e: number): number {
    const c = buf[i];
    if (c === 0x74) return i + 3 < e && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65 ? i + 4 : -1;
    if (c === 0x6e) return i + 3 < e && buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c ? i + 4 : -1;
    if (c === 0x66) {
      return i + 4 < e && buf[i + 1] === 0x61 && buf[i + 2] === 0x6c && buf[i + 3] === 0x73 && buf[i + 4] === 0x65 ? i + 5 : -1;
    }
    return -1;
  }

  /**
   * Validates any JSON value at i (after whitespace) and returns the index after it, or -1. Nesting
   * uses an explicit stack, so a deeply nested value cannot overflow the call stack (V8's JSON.parse
   * accepts any depth too).
   */
  private skipValue(buf: Buffer, i: number, e: number): number {
    const ws = this.ws;
    let depth = 0;
    // state 0: expect a value; 1: after a value; 2: expect a key (after '{' or ',')
    let state = 0;
    for (;;) {
      while (i < e && ws[buf[i]] === 1) i++;
      if (i >= e) return -1;
      const c = buf[i];
      if (state === 0) {
        if (c === 0x22) {
          const q = this.scanString(buf, i + 1, e);
          if (q < 0) return -1;
          if ((this.strFlags & BAD_UTF8) !== 0) this.badUtf8 = true;
          i = q + 1;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          i = this.scanNumber(buf, i, e, false);
          if (i < 0) return -1;
        } else if (c === 0x7b || c === 0x5b) {
          if (depth === this.stack.length) {
            const bigger = new Uint8Array(depth * 2);
            bigger.set(this.stack);
            this.stack = bigger;
          }
          this.stack[depth++] = c === 0x7b ? IN_OBJECT : IN_ARRAY;
          i++;
          while (i < e && ws[buf[i]] === 1) i++;
          if (i < e && buf[i] === (c === 0x7b ? 0x7d : 0x5d)) {
            depth--;
            i++;
            state = 1;
          } else state = c === 0x7b ? 2 : 0;
          if (state !== 1) continue;
        } else {
          i = this.skipLiteral(buf, i, e);
          if (i < 0) return -1;
        }
        if (depth === 0) return i;
        state = 1;
      } else if (state === 2) {
        if (c !== 0x22) return -1;
        const q = this.scanString(buf, i + 1, e);
        if (q < 0) return -1;
        if ((this.strFlags & BAD_UTF8) !== 0) this.badUtf8 = true;
        i = q + 1;
        while (i < e && ws[buf[i]] === 1) i++;
        if (i >= e || buf[i] !== 0x3a) return -1;
        i++;
        state = 0;
      } else {
        if (depth === 0) return i;
        const top = this.stack[depth - 1];
        if (c === 0x2c) {
          i++;
          state = top === IN_OBJECT ? 2 : 0;
        } else if (c === (top === IN_OBJECT ? 0x7d : 0x5d)) {
          i++;
          depth--;
          if (depth === 0) return i;
        } else return -1;
      }
    }
  }
}
