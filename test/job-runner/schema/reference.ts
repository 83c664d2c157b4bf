// The rules of docs/schema-on-read.md written the obvious way: decode the line, JSON.parse it, read
// the fields. It is the oracle of the differential tests: the byte-level parsers must agree with it
// on every decision and every value.

export const MAX_TS = 253402300799999;
const MAX_INT = Number.MAX_SAFE_INTEGER;
const MAX_INT32 = 0x7fffffff;
const NUMERIC = /^[\t\n\f\r ]*-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[\t\n\f\r ]*$/;

export const EVENT_KEYS = ['artist', 'auth', 'firstName', 'gender', 'itemInSession', 'lastName', 'length', 'level', 'location', 'method', 'page', 'registration', 'sessionId', 'song', 'status', 'ts', 'userAgent', 'userId'];
export const SONG_KEYS = ['song_id', 'title', 'duration', 'year', 'artist_id', 'artist_name', 'artist_location', 'artist_latitude', 'artist_longitude', 'num_songs'];

export type Value = number | string | null;
export type RefResult =
  | { kind: 'blank' }
  | { kind: 'reject'; reason: string }
  | { kind: 'accept'; row: Record<string, Value>; drift: string[]; unknown: string[] };

// ignoreBOM: a BOM is a character like any other (JSON.parse rejects it), not something to drop.
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });
const strict = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });

function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** Decodes and parses one record's bytes; null result means a reject was decided. */
function parseObject(bytes: Buffer): { obj: Record<string, unknown>; badUtf8: boolean } | { reason: string } {
  let badUtf8 = false;
  try {
    strict.decode(bytes);
  } catch {
    badUtf8 = true;
  }
  let v: unknown;
  try {
    v = JSON.parse(lenient.decode(bytes));
  } catch {
    return { reason: 'invalid-json' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { reason: 'not-an-object' };
  return { obj: v as Record<string, unknown>, badUtf8 };
}

function typeName(x: unknown): string {
  if (typeof x === 'boolean') return 'boolean';
  if (Array.isArray(x)) return 'array';
  return typeof x; // 'object', 'number', 'string'
}

class Coercer {
  drift: string[] = [];
  constructor(private readonly obj: Record<string, unknown>) {}

  get(name: string): unknown {
    return Object.hasOwn(this.obj, name) ? this.obj[name] : undefined;
  }

  int(name: string, limit = MAX_INT): number | null {
    const x = this.get(name);
    if (x === undefined || x === null) return null;
    if (typeof x === 'number') {
      if (Number.isInteger(x) && Math.abs(x) <= limit) return x === 0 ? 0 : x;
      this.drift.push(`${name}:number->null`);
      return null;
    }
    if (typeof x === 'string') {
      if (x === '') {
        this.drift.push(`${name}:empty->null`);
        return null;
      }
      const n = NUMERIC.test(x) ? Number(x) : NaN;
      if (Number.isInteger(n) && Math.abs(n) <= limit) {
        this.drift.push(`${name}:string->int64`);
        return n === 0 ? 0 : n;
      }
      this.drift.push(`${name}:string->null`);
      return null;
    }
    this.drift.push(`${name}:${typeName(x)}->null`);
    return null;
  }

  double(name: string): number | null {
    const x = this.get(name);
    if (x === undefined || x === null) return null;
    if (typeof x === 'number') {
      if (Number.isFinite(x)) return x;
      this.drift.push(`${name}:number->null`);
      return null;
    }
    if (typeof x === 'string') {
      if (x === '') {
        this.drift.push(`${name}:empty->null`);
        return null;
      }
      const n = NUMERIC.test(x) ? Number(x) : NaN;
      if (Number.isFinite(n)) {
        this.drift.push(`${name}:string->double`);
        return n;
      }
      this.drift.push(`${name}:string->null`);
      return null;
    }
    this.drift.push(`${name}:${typeName(x)}->null`);
    return null;
  }

  str(name: string): string | null {
    const x = this.get(name);
    if (x === undefined || x === null) return null;
    if (typeof x === 'string') return x;
    if (typeof x === 'number' || typeof x === 'boolean') {
      this.drift.push(`${name}:${typeName(x)}->string`);
      return String(x);
    }
    this.drift.push(`${name}:${typeName(x)}->null`);
    return null;
  }
}

function finish(c: Coercer, obj: Record<string, unknown>, known: string[], badUtf8: boolean, row: Record<string, Value>): RefResult {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  const drift = [...c.drift];
  if (badUtf8) drift.push('utf8:invalid->replaced');
  return { kind: 'accept', row, drift, unknown };
}

/** One event line (without its '\n'; one trailing '\r' is removed here and does not count as length). */
export function referenceEvent(line: Buffer, maxLineBytes = 16 * 1024 * 1024): RefResult {
  if (isBlank(line)) return { kind: 'blank' };
  const bytes = line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
  if (bytes.length > maxLineBytes) return { kind: 'reject', reason: 'line-too-long' };
  const parsed = parseObject(bytes);
  if ('reason' in parsed) return { kind: 'reject', reason: parsed.reason };
  const { obj, badUtf8 } = parsed;
  const c = new Coercer(obj);
  const rawTs = c.get('ts');
  if (rawTs === undefined || rawTs === null || rawTs === '') return { kind: 'reject', reason: 'missing-ts' };
  const ts = c.int('ts');
  if (ts === null || ts < 0 || ts > MAX_TS) return { kind: 'reject', reason: 'invalid-ts' };
  const userId = c.int('userId');
  if (userId === null && c.get('page') === 'NextSong') return { kind: 'reject', reason: 'missing-user-id' };
  const row: Record<string, Value> = {
    ts,
    user_id: userId,
    first_name: c.str('firstName'),
    last_name: c.str('lastName'),
    gender: c.str('gender'),
    level: c.str('level'),
    page: c.str('page'),
    song: c.str('song'),
    artist: c.str('artist'),
    length: c.double('length'),
    session_id: c.int('sessionId'),
    item_in_session: c.int('itemInSession'),
    location: c.str('location'),
    user_agent: c.str('userAgent'),
  };
  c.str('auth');
  c.str('method');
  c.int('registration');
  c.int('status');
  return finish(c, obj, EVENT_KEYS, badUtf8, row);
}

/** One song record (a line, or a whole pretty-printed document). */
export function referenceSong(record: Buffer, maxLineBytes = 16 * 1024 * 1024): RefResult {
  if (isBlank(record)) return { kind: 'blank' };
  const bytes = record[record.length - 1] === 0x0d ? record.subarray(0, record.length - 1) : record;
  if (bytes.length > maxLineBytes) return { kind: 'reject', reason: 'line-too-long' };
  const parsed = parseObject(bytes);
  if ('reason' in parsed) return { kind: 'reject', reason: parsed.reason };
  const { obj, badUtf8 } = parsed;
  const c = new Coercer(obj);
  const id = c.get('song_id');
  if (!(typeof id === 'number' || (typeof id === 'string' && id !== ''))) return { kind: 'reject', reason: 'missing-song_id' };
  const row: Record<string, Value> = {
    song_id: c.str('song_id'),
    title: c.str('title'),
    artist_id: c.str('artist_id'),
    artist_name: c.str('artist_name'),
    artist_location: c.str('artist_location'),
    duration: c.double('duration'),
    artist_latitude: c.double('artist_latitude'),
    artist_longitude: c.double('artist_longitude'),
    year: c.int('year', MAX_INT32),
  };
  c.int('num_songs');
  if (typeof row.artist_id === 'string' && hiveFolderNameBytes('artist_id', row.artist_id) > 255) return { kind: 'reject', reason: 'partition-value-too-long' };
  return finish(c, obj, SONG_KEYS, badUtf8, row);
}

/**
 * `<column>=<value>` as Spark's escapePathName (plus NUL) writes it, in UTF-8 bytes; written
 * independently of the engine's partitionPath.ts: a regex over the code points and TextEncoder.
 */
export function hiveFolderNameBytes(column: string, value: string): number {
  // eslint-disable-next-line no-control-regex
  const escaped = value === '' ? '__HIVE_DEFAULT_PARTITION__' : value.replace(/["#%'*/:=?\\{[\]^\u0000-\u001f\u007f]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
  return new TextEncoder().encode(`${column}=${escaped}`).length;
}
