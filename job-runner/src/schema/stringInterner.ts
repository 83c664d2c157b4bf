// Dictionary encoding of a string column, keyed by the value's raw bytes.
//
// Eventsim-like logs repeat a few thousand names, agents and locations millions of times. The
// interner hashes the raw JSON bytes of a value (escapes and all) and compares them with the bytes
// it stored, so a value seen before costs a hash and a compare: no decoding, no JS string. A raw
// form seen for the first time is decoded once per batch; when it decodes to a string the
// dictionary already holds (`"a\/b"` and `"a/b"`), it becomes an alias of that code, so the
// dictionary stays free of duplicates and equal strings always get equal codes. Plain values (no
// escapes, well-formed UTF-8, the common case) need no Map for that: distinct plain bytes are
// distinct strings.
import { BAD_UTF8, ESCAPED, NON_ASCII, decodeJsonString } from './jsonString.js';

export class StringInterner {
  /** code → string, complete up to `materialized`; codes past it are only counted until materialize(). */
  private values: string[] = [];
  private materialized = 0;
  private count = 0;
  /** Values decoded on arrival (escaped, ill-formed, coerced), by code, until materialize(). */
  private eager = new Map<number, string>();
  /** Plain values not decoded yet: their codes, arena ranges and whether they are pure ASCII. */
  private lazyCode = new Int32Array(256);
  private lazyStart = new Int32Array(256);
  private lazyLen = new Int32Array(256);
  private lazyAscii = new Uint8Array(256);
  private lazyCount = 0;
  /** Strings that have no escape-free JSON form (they hold '"', '\\', controls or lone surrogates). */
  private escapedOnly = new Map<string, number>();
  // Open-addressing table of raw forms, laid out for two cache misses per lookup of a cold value: a
  // slot is the pair (hash, arena position + 1) and the arena holds each raw form as
  // [length:i32][code:i32][bytes, padded to 4], so one arena line has all a compare needs.
  private slots = new Int32Array(2 * 1024);
  private entries = 0;
  private arena = new Uint8Array(1 << 16);
  private arenaView = new DataView(this.arena.buffer);
  private arenaUsed = 0;
  /**
   * Candidates are found by a hash of the length and three sampled words (constant time, however
   * long the value); the byte compare that follows is what makes a match exact. Values that defeat
   * the sample (many of one length sharing those words) show up as collisions, and past a limit the
   * batch switches to hashing every byte, so the worst case stays linear.
   */
  private fullHash = false;
  private collisions = 0;
  /** A DataView of the last buffer seen (a parser feeds the same block for thousands of rows). */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Uint8Array | null = null;

  /** Code of the JSON string whose validated content (between the quotes) is buf[s, e). */
  intern(buf: Buffer, s: number, e: number, flags: number): number {
    const h = this.hash(this.viewFor(buf), s, e);
    const found = this.probe(buf, s, e, h);
    if (found >= 0) return found;
    if ((flags & (ESCAPED | BAD_UTF8)) === 0) {
      // Plain UTF-8: these bytes are the value's only escape-free form, so it is new. Its string is
      // made later, with the batch's others, from one decode of the arena (see materialize).
      const code = this.count++;
      const at = this.addEntry(h, buf, s, e, code);
      this.addLazy(code, at, e - s, (flags & NON_ASCII) === 0);
      return code;
    }
    const code = this.codeOf(decodeJsonString(buf, s, e, flags));
    this.addEntry(h, buf, s, e, code);
    return code;
  }

  /** Like intern, but never adds: the code of an equal string already in the dictionary, or -1. */
  find(buf: Buffer, s: number, e: number, flags: number): number {
    const found = this.probe(buf, s, e, this.hash(this.viewFor(buf), s, e));
    if (found >= 0 || (flags & (ESCAPED | BAD_UTF8)) === 0) return found >= 0 ? found : -1;
    const value = decodeJsonString(buf, s, e, flags);
    if (!hasPlainForm(value)) return this.escapedOnly.get(value) ?? -1;
    const plain = Buffer.from(value, 'utf8');
    const again = this.probe(plain, 0, plain.length, this.hash(this.viewFor(plain), 0, plain.length));
    return again >= 0 ? again : -1;
  }

  /** Code of a string made by coercion (a number's or boolean's JSON text). */
  internString(value: string): number {
    return this.codeOf(value);
  }

  /** The dictionary so far (code → string). The interner keeps adding to the same array. */
  strings(): string[] {
    this.materialize();
    return this.values;
  }

  /** Hands the dictionary over and starts a new one (a new batch), keeping the allocated capacity. */
  takeDict(): string[] {
    const dict = this.strings();
    this.fullHash = false;
    this.collisions = 0;
    this.values = [];
    this.materialized = 0;
    this.count = 0;
    if (this.escapedOnly.size > 0) this.escapedOnly = new Map();
    if (this.entries > 0) this.slots.fill(0);
    this.entries = 0;
    this.arenaUsed = 0;
    return dict;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Decodes the pending plain values: one latin1 decode of the arena, then a substring per ASCII
   * value (cheap in V8, no call into C++ per value), and a UTF-8 decode per non-ASCII one.
   */
  private materialize(): void {
    if (this.materialized === this.count) return;
    const values = this.values;
    for (let code = this.materialized; code < this.count; code++) values.push('');
    for (const [code, value] of this.eager) values[code] = value;
    this.eager.clear();
    const bytes = Buffer.from(this.arena.buffer, this.arena.byteOffset, this.arenaUsed);
    let text: string | null = null;
    for (let k = 0; k < this.lazyCount; k++) {
      const at = this.lazyStart[k];
      const end = at + this.lazyLen[k];
      if (this.lazyAscii[k] === 1) {
        text ??= bytes.toString('latin1');
        values[this.lazyCode[k]] = text.substring(at, end);
      } else values[this.lazyCode[k]] = bytes.toString('utf8', at, end);
    }
    this.lazyCount = 0;
    this.materialized = this.count;
  }

  private addLazy(code: number, at: number, len: number, ascii: boolean): void {
    const k = this.lazyCount;
    if (k === this.lazyCode.length) {
      this.lazyCode = grow(this.lazyCode);
      this.lazyStart = grow(this.lazyStart);
      this.lazyLen = grow(this.lazyLen);
      const a = new Uint8Array(k * 2);
      a.set(this.lazyAscii);
      this.lazyAscii = a;
    }
    this.lazyCode[k] = code;
    this.lazyStart[k] = at;
    this.lazyLen[k] = len;
    this.lazyAscii[k] = ascii ? 1 : 0;
    this.lazyCount = k + 1;
  }

  /**
   * The code of a decoded value that arrived in another form (escaped, ill-formed UTF-8, coerced).
   * A value with an escape-free form is found by that form's bytes, which is what its plain
   * occurrences were stored under, and is stored under them too; others live in a small map.
   */
  private codeOf(value: string): number {
    if (!hasPlainForm(value)) {
      let code = this.escapedOnly.get(value);
      if (code === undefined) {
        code = this.count++;
        this.eager.set(code, value);
        this.escapedOnly.set(value, code);
      }
      return code;
    }
    const plain = Buffer.from(value, 'utf8');
    const h = this.hash(this.viewFor(plain), 0, plain.length);
    const found = this.probe(plain, 0, plain.length, h);
    if (found >= 0) return found;
    const code = this.count++;
    this.eager.set(code, value);
    this.addEntry(h, plain, 0, plain.length, code);
    return code;
  }

  private viewFor(buf: Uint8Array): DataView {
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }

  private hash(view: DataView, s: number, e: number): number {
    if (!this.fullHash && this.collisions > 64 + (this.entries >> 4)) this.useFullHash();
    return this.fullHash ? hashBytes(view, s, e) : sampledHash(view, s, e);
  }

  /** Rehashes every stored raw form by all its bytes (see fullHash). */
  private useFullHash(): void {
    this.fullHash = true;
    const av = this.arenaView;
    const slots = new Int32Array(this.slots.length);
    for (let at = 0; at < this.arenaUsed; ) {
      const len = av.getInt32(at, true);
      this.place(slots, hashBytes(av, at + 8, at + 8 + len), at);
      at += 8 + ((len + 3) & ~3);
    }
    this.slots = slots;
  }

  /** The code of an entry with these raw bytes, or -1. Call after viewFor(buf). */
  private probe(buf: Buffer, s: number, e: number, h: number): number {
    const len = e - s;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const arena = this.arena;
    const av = this.arenaView;
    const bv = this.view;
    let slot = h & mask;
    for (;;) {
      const k = slot << 1;
      const at = slots[k + 1] - 1;
      if (at < 0) return -1;
      if (slots[k] === h && av.getInt32(at, true) === len) {
        // Compare a word at a time, then the last bytes.
        const o = at + 8 - s;
        let j = s;
        while (j + 4 <= e && av.getInt32(o + j, true) === bv.getInt32(j, true)) j += 4;
        while (j < e && arena[o + j] === buf[j]) j++;
        if (j === e) return av.getInt32(at + 4, true);
        this.collisions++;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Stores a raw form; returns where its bytes are in the arena. */
  private addEntry(h: number, buf: Buffer, s: number, e: number, code: number): number {
    const len = e - s;
    const size = 8 + ((len + 3) & ~3);
    if (this.arenaUsed + size > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + size));
      bigger.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = bigger;
      this.arenaView = new DataView(bigger.buffer);
    }
    const arena = this.arena;
    const av = this.arenaView;
    const head = this.arenaUsed;
    av.setInt32(head, len, true);
    av.setInt32(head + 4, code, true);
    const at = head + 8;
    if (len < 256) {
      const bv = this.viewFor(buf);
      let j = 0;
      for (; j + 4 <= len; j += 4) av.setInt32(at + j, bv.getInt32(s + j, true), true);
      for (; j < len; j++) arena[at + j] = buf[s + j];
    } else buf.copy(arena, at, s, e);
    this.arenaUsed = head + size;
    this.entries++;
    // Keep the load factor under 1/2 so probe chains stay short.
    if (this.entries * 4 > this.slots.length) this.rehash(this.slots.length);
    this.place(this.slots, h, head);
    return at;
  }

  private place(slots: Int32Array, h: number, head: number): void {
    const mask = (slots.length >> 1) - 1;
    let slot = h & mask;
    while (slots[(slot << 1) + 1] !== 0) slot = (slot + 1) & mask;
    slots[slot << 1] = h;
    slots[(slot << 1) + 1] = head + 1;
  }

  /** A table of `count` slots holding every stored form. */
  private rehash(count: number): void {
    const old = this.slots;
    const slots = new Int32Array(2 * count);
    for (let k = 0; k < old.length; k += 2) if (old[k + 1] !== 0) this.place(slots, old[k], old[k + 1] - 1);
    this.slots = slots;
  }
}

// A string whose JSON form needs no escapes: its UTF-8 bytes are that form. Control characters are
// exactly what this looks for, hence the lint exception.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
function hasPlainForm(value: string): boolean {
  return !NEEDS_ESCAPE.test(value);
}

// The length and the first, middle and last 32-bit words (bytes when shorter than 4), mixed.
function sampledHash(view: DataView, s: number, e: number): number {
  const len = e - s;
  let h = Math.imul(len, 0x9e3779b1);
  if (len >= 4) {
    h = Math.imul(h ^ view.getInt32(s, true), 0xcc9e2d51);
    h = Math.imul(((h << 15) | (h >>> 17)) ^ view.getInt32(e - 4, true), 0x1b873593);
    if (len > 8) h = Math.imul(((h << 13) | (h >>> 19)) ^ view.getInt32(s + ((len - 4) >> 1), true), 0xcc9e2d51);
  } else for (let j = s; j < e; j++) h = Math.imul(h ^ view.getUint8(j), 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

// Murmur3-style hash of the bytes, a 32-bit word at a time, with the length mixed in and a final
// avalanche so the low bits that pick a slot depend on every byte.
function hashBytes(view: DataView, s: number, e: number): number {
  let h = 0x9747b28c ^ (e - s);
  let j = s;
  for (; j + 4 <= e; j += 4) {
    h = Math.imul(h ^ view.getInt32(j, true), 0xcc9e2d51);
    h = (h << 15) | (h >>> 17);
  }
  for (; j < e; j++) h = Math.imul(h ^ view.getUint8(j), 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  // 30 bits: a small integer (Smi) in V8, so the hash is never boxed into a heap number.
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
