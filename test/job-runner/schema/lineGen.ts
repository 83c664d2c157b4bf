// Seeded generators of hostile JSON lines for the differential tests: valid records with every kind
// of value in every field, then byte-level mutations that break them at every kind of position.

export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** JSON texts of numbers, including ones JSON.parse turns into surprises (1e400, 2^53+1, -0). */
const NUMBERS = [
  '0', '-0', '1', '39', '-7', '182.85669', '1540991795796.0', '1543537327796', '1e3', '1E+3', '2.5e-3', '0.1e1', '-0.0',
  '9007199254740991', '9007199254740993', '-9007199254740992', '12345678901234567890', '1e400', '-1e400', '1e-400',
  '123456789012345.678', '0.30000000000000004', '253402300799999', '253402300800000', '4.0', '1.5', '2147483648',
  '0.000001', '100000000000000000000000', '5e-324', '1.7976931348623157e308',
];

/** Contents of strings that a numeric field may receive. */
const NUMERIC_STRINGS = [
  '39', ' 39 ', '\\t39\\n', '\\f39\\r', '\\u000b39', '39.0', '39.5', '-0', '1e2', '1E-2', '+5', '.5', '5.', '0x10', '1_000',
  'Infinity', 'NaN', ' ', '-', '01', '1543537327796', '1543537327796.0', '\\u0033\\u0039', '39\\u00a0', '\\u00a039', '1e400',
  '9007199254740993', '２', '3 9', '', '39\\u000b', '39\\u000c', '-0.0e+0 ',
];

const WORDS = ['Jayden', 'Bell', 'free', 'paid', 'M', 'F', 'NextSong', 'Home', 'Logged In', 'PUT', 'Dallas-Fort Worth-Arlington, TX', 'Zoé', '日本語', '🎵 Song', 'Mozilla\\/5.0 (X11)', ''];

const ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u0041', '\\u00e9', '\\ud83c\\udfb5', '\\ud800', '\\udc00x', '\\u0000', '\\uFFFF', '\\u2028'];

/** A JSON string literal (without quotes), with escapes and non-ASCII now and then. */
function stringBody(r: Rng): string {
  const x = r();
  if (x < 0.5) return pick(r, WORDS);
  if (x < 0.75) return pick(r, WORDS) + pick(r, ESCAPES) + pick(r, WORDS);
  if (x < 0.9) return pick(r, NUMERIC_STRINGS);
  let s = '';
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += r() < 0.5 ? pick(r, ESCAPES) : pick(r, WORDS);
  return s;
}

function nested(r: Rng, depth: number): string {
  if (depth <= 0 || r() < 0.3) return r() < 0.5 ? pick(r, NUMBERS) : `"${stringBody(r)}"`;
  if (r() < 0.5) return `[${Array.from({ length: Math.floor(r() * 3) }, () => nested(r, depth - 1)).join(',')}]`;
  return `{${Array.from({ length: Math.floor(r() * 3) }, () => `"${stringBody(r)}":${nested(r, depth - 1)}`).join(',')}}`;
}

/** Any JSON value, biased towards the kind `prefer` (the field's schema kind). */
export function value(r: Rng, prefer: 'int' | 'double' | 'string' | 'ts'): string {
  const x = r();
  if (prefer === 'ts') {
    if (x < 0.55) return String(1541000000000 + Math.floor(r() * 1e9));
    if (x < 0.65) return `"${1541000000000 + Math.floor(r() * 1e9)}"`;
  }
  if (x < 0.45) {
    if (prefer === 'string') return `"${stringBody(r)}"`;
    if (prefer === 'double') return pick(r, NUMBERS);
    return r() < 0.7 ? String(Math.floor(r() * 2000)) : pick(r, NUMBERS);
  }
  if (x < 0.6) return `"${pick(r, NUMERIC_STRINGS)}"`;
  if (x < 0.7) return pick(r, NUMBERS);
  if (x < 0.8) return `"${stringBody(r)}"`;
  if (x < 0.86) return 'null';
  if (x < 0.9) return r() < 0.5 ? 'true' : 'false';
  if (x < 0.93) return '""';
  return nested(r, 3);
}

const WS = [' ', '\t', '\r', '  '];
const ws = (r: Rng): string => (r() < 0.85 ? '' : pick(r, WS));

export interface FieldSpec {
  name: string;
  kind: 'int' | 'double' | 'string' | 'ts';
}

/** A record: a random subset of the known fields in random order, unknown and duplicate keys, whitespace. */
export function record(r: Rng, fields: readonly FieldSpec[], extraValue?: (name: string) => string | null): string {
  const parts: string[] = [];
  for (const f of fields) {
    if (r() < 0.08) continue; // absent
    const special = extraValue?.(f.name);
    parts.push(`"${r() < 0.02 ? escapeKey(f.name) : f.name}"${ws(r)}:${ws(r)}${special ?? value(r, f.kind)}`);
  }
  if (r() < 0.3) for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) parts.push(`"${pick(r, ['x', 'extra', '__proto__', 'Ts', 'userid', 'é', 'a\\u0062c', ''])}":${value(r, 'string')}`);
  if (r() < 0.1) parts.push(`"${pick(r, fields).name}":${value(r, pick(r, fields).kind)}`); // duplicate: last wins
  if (r() < 0.05) parts.push(`"deep":${'['.repeat(3000)}1${']'.repeat(3000)}`);
  if (r() < 0.5) shuffle(r, parts);
  return `${ws(r)}{${ws(r)}${parts.join(`${ws(r)},${ws(r)}`)}${ws(r)}}${ws(r)}`;
}

function escapeKey(name: string): string {
  const i = Math.floor(name.length / 2);
  return name.slice(0, i) + `\\u${name.charCodeAt(i).toString(16).padStart(4, '0')}` + name.slice(i + 1);
}

function shuffle<T>(r: Rng, xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}

/** Bytes that break or bend JSON when inserted anywhere (never '\n': it ends the line). */
const INSERTS = [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x5c, 0x30, 0x2d, 0x2e, 0x65, 0x20, 0x09, 0x0d, 0x0c, 0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff, 0x74, 0x6e, 0x75];
const INVALID_UTF8 = [[0xff], [0xc3], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80, 0x80], [0xc3, 0x28]];

/** A mutated copy: delete, insert, duplicate, truncate, swap, or splice ill-formed UTF-8 into a string. */
export function mutate(r: Rng, line: Buffer): Buffer {
  const bytes = [...line];
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n && bytes.length > 0; k++) {
    const at = Math.floor(r() * bytes.length);
    const x = r();
    if (x < 0.25) bytes.splice(at, 1);
    else if (x < 0.5) bytes.splice(at, 0, pick(r, INSERTS));
    else if (x < 0.6) bytes.splice(at, 0, bytes[at]);
    else if (x < 0.7) bytes.length = at;
    else if (x < 0.8 && at + 1 < bytes.length) [bytes[at], bytes[at + 1]] = [bytes[at + 1], bytes[at]];
    else {
      // Inside a string when possible: right after a quote.
      const q = bytes.indexOf(0x22, at);
      bytes.splice(q >= 0 ? q + 1 : at, 0, ...pick(r, INVALID_UTF8));
    }
  }
  return Buffer.from(bytes);
}

/** Valid JSON that is not an object, and blank or near-blank lines. */
export function oddLine(r: Rng): string {
  return pick(r, ['[]', '[1,2]', '"x"', '42', '-0.5e3', 'true', 'null', ' [ {} ] ', '"{}"', '', '   ', '\t', '\r', ' \r', '\ufeff{"ts":1}', '{}', '{"ts":1}{"ts":2}', '{"ts":1},', '{"ts":1', '{"ts":1]', '{"ts"}', '{"ts":01}', '{"ts":1.}', '{"ts":.5}', '{"ts":+1}', "{'ts':1}", '{"ts":1,}', '{,"ts":1}', '{"ts":tru}', '{"ts":nul}', '{"ts":"\\x41"}', '{"ts":"\\u12"}', '{"a":"\t"}', '{"a":1}\f', '\f{"a":1}', '{"a":[1,]}', '{"a":[,1]}', '{"a":{"b"}}', '{"a":{"b":}}', '{"a":[1 2]}']);
}
