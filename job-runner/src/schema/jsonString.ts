// JSON string content at the byte level: UTF-8 well-formedness and decoding with escapes.
//
// The rules (docs/schema-on-read.md) define a record's value as what JSON.parse returns for the line
// decoded as UTF-8 with invalid sequences replaced by U+FFFD. Decoding is the expensive part, so the
// scanner only classifies a string's bytes (flags below) and the interner decodes each distinct
// value once per batch with `decodeJsonString`.

/** The string holds at least one backslash escape. */
export const ESCAPED = 1;
/** The string holds bytes >= 0x80. */
export const NON_ASCII = 2;
/** The string holds an ill-formed UTF-8 sequence (decoded as U+FFFD). */
export const BAD_UTF8 = 4;

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (Unicode Table 3-7), or 0 when the bytes
 * there are ill-formed. Only the decision matters: how an ill-formed sequence is replaced is left to
 * the WHATWG decoder (Buffer#toString), which the differential tests check against TextDecoder.
 */
export function utf8SequenceLength(buf: Uint8Array, i: number, e: number): number {
  const c0 = buf[i];
  if (c0 < 0xc2) return 0; // ASCII never gets here; 0x80..0xC1 are continuation or overlong leads
  if (c0 < 0xe0) return i + 1 < e && (buf[i + 1] & 0xc0) === 0x80 ? 2 : 0;
  if (c0 < 0xf0) {
    if (i + 2 >= e) return 0;
    const c1 = buf[i + 1];
    // E0 needs A0..BF (no overlongs), ED needs 80..9F (no surrogates).
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && (buf[i + 2] & 0xc0) === 0x80 ? 3 : 0;
  }
  if (c0 < 0xf5) {
    if (i + 3 >= e) return 0;
    const c1 = buf[i + 1];
    // F0 needs 90..BF (no overlongs), F4 needs 80..8F (nothing above U+10FFFF).
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    return c1 >= lo && c1 <= hi && (buf[i + 2] & 0xc0) === 0x80 && (buf[i + 3] & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

const HEX_VALUE = new Int8Array(256).fill(-1);
for (let d = 0; d < 10; d++) HEX_VALUE[0x30 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX_VALUE[0x41 + d] = 10 + d;
  HEX_VALUE[0x61 + d] = 10 + d;
}
/** Non-negative for a hex digit byte, -1 otherwise. */
export { HEX_VALUE };

/** The character a one-letter escape stands for (`\n` → 10), or -1 when the letter is not an escape. */
export const SIMPLE_ESCAPE = new Int16Array(256).fill(-1);
SIMPLE_ESCAPE[0x22] = 0x22; // \"
SIMPLE_ESCAPE[0x5c] = 0x5c; // \\
SIMPLE_ESCAPE[0x2f] = 0x2f; // \/
SIMPLE_ESCAPE[0x62] = 0x08; // \b
SIMPLE_ESCAPE[0x66] = 0x0c; // \f
SIMPLE_ESCAPE[0x6e] = 0x0a; // \n
SIMPLE_ESCAPE[0x72] = 0x0d; // \r
SIMPLE_ESCAPE[0x74] = 0x09; // \t

/**
 * Decodes the content of a JSON string that the scanner already validated (bytes between the quotes).
 * `flags` are the scanner's: without ESCAPED the bytes are plain UTF-8. Escapes are turned into UTF-16
 * code units one by one, so `\ud83d\ude00` pairs up and a lone `\ud800` stays lone, as in JSON.parse.
 */
export function decodeJsonString(buf: Buffer, s: number, e: number, flags: number): string {
  if ((flags & ESCAPED) === 0) return flags === 0 ? buf.toString('latin1', s, e) : buf.toString('utf8', s, e);
  let out = '';
  let run = s; // start of the pending run of unescaped bytes
  let i = s;
  while (i < e) {
    if (buf[i] !== 0x5c) {
      i++;
      continue;
    }
    // A run always ends at an ASCII backslash, so decoding runs separately replaces ill-formed
    // sequences exactly as decoding the whole string would.
    if (run < i) out += buf.toString('utf8', run, i);
    const d = buf[i + 1];
    if (d === 0x75) {
      out += String.fromCharCode(
        (HEX_VALUE[buf[i + 2]] << 12) | (HEX_VALUE[buf[i + 3]] << 8) | (HEX_VALUE[buf[i + 4]] << 4) | HEX_VALUE[buf[i + 5]],
      );
      i += 6;
    } else {
      out += String.fromCharCode(SIMPLE_ESCAPE[d]);
      i += 2;
    }
    run = i;
  }
  if (run < e) out += buf.toString('utf8', run, e);
  return out;
}
