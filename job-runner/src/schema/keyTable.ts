// Identifies a record's known keys straight from the line's bytes, without decoding the key.
//
// A key is looked up by (length, first byte, last byte) in a small collision-free table whose
// multipliers are searched once at construction, then confirmed by comparing its bytes: one table
// load and a short compare per key, no string, no Map. Keys written with escapes (`"\u0074s"` is
// `ts` to JSON.parse) are rare and go through `lookupName` on the decoded text.

export class KeyTable {
  readonly names: readonly string[];
  private readonly byName = new Map<string, number>();
  /** The keys' UTF-8 bytes, back to back; key f is bytes[offsets[f], offsets[f] + lengths[f]). */
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /**
   * Each key's text as it usually appears in a record, `key":`, as little-endian 32-bit words
   * (zero-padded): key f is words[wordStart[f], wordStart[f] + wordCount[f]), and the last word is
   * compared under lastMask[f]. Lets the scanner confirm a predicted key a word at a time.
   */
  readonly words: Int32Array;
  readonly wordStart: Int32Array;
  readonly wordCount: Int32Array;
  readonly lastMask: Int32Array;
  private readonly slots: Int16Array;
  private readonly mask: number;
  private readonly mulLen: number;
  private readonly mulFirst: number;
  private readonly maxLen: number;

  constructor(names: readonly string[]) {
    if (names.length === 0 || names.length > 255) throw new Error(`a key table holds 1..255 keys, got ${names.length}`);
    this.names = names;
    const encoded = names.map((n) => Buffer.from(n, 'utf8'));
    this.bytes = new Uint8Array(encoded.reduce((a, b) => a + b.length, 0));
    this.offsets = new Int32Array(names.length);
    this.lengths = new Int32Array(names.length);
    let at = 0;
    encoded.forEach((b, f) => {
      if (b.length === 0) throw new Error('a key table cannot hold the empty key');
      if (this.byName.has(names[f])) throw new Error(`duplicate key ${JSON.stringify(names[f])}`);
      this.byName.set(names[f], f);
      this.bytes.set(b, at);
      this.offsets[f] = at;
      this.lengths[f] = b.length;
      at += b.length;
    });
    this.maxLen = Math.max(...this.lengths);
    this.wordStart = new Int32Array(names.length);
    this.wordCount = new Int32Array(names.length);
    this.lastMask = new Int32Array(names.length);
    const patterns = encoded.map((b) => Buffer.concat([b, Buffer.from('":')]));
    const totalWords = patterns.reduce((a, p) => a + Math.ceil(p.length / 4), 0);
    this.words = new Int32Array(totalWords);
    let w = 0;
    patterns.forEach((p, f) => {
      const padded = Buffer.alloc(Math.ceil(p.length / 4) * 4);
      p.copy(padded);
      this.wordStart[f] = w;
      this.wordCount[f] = padded.length / 4;
      for (let k = 0; k < padded.length; k += 4) this.words[w++] = padded.readInt32LE(k);
      const rest = p.length % 4;
      this.lastMask[f] = rest === 0 ? -1 : (1 << (rest * 8)) - 1;
    });
    // Search the smallest table and multipliers under which no two keys share a slot.
    for (let size = 32; ; size *= 2) {
      const found = searchMultipliers(encoded, size);
      if (found) {
        [this.mulLen, this.mulFirst] = found;
        this.mask = size - 1;
        this.slots = new Int16Array(size);
        encoded.forEach((b, f) => {
          this.slots[slotOf(b.length, b[0], b[b.length - 1], found[0], found[1], size - 1)] = f + 1;
        });
        return;
      }
      if (size > 1 << 16) throw new Error(`no collision-free key table for ${names.join(', ')}`);
    }
  }

  /** Field index of the key whose UTF-8 bytes are buf[s, e), or -1 when it is not a known key. */
  lookup(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    if (len === 0 || len > this.maxLen) return -1;
    const f = this.slots[((len * this.mulLen + buf[s] * this.mulFirst) ^ buf[e - 1]) & this.mask] - 1;
    if (f < 0 || this.lengths[f] !== len) return -1;
    const kb = this.bytes;
    const o = this.offsets[f] - s;
    for (let j = s; j < e; j++) if (kb[o + j] !== buf[j]) return -1;
    return f;
  }

  /** Field index of a decoded key name, or -1. */
  lookupName(name: string): number {
    return this.byName.get(name) ?? -1;
  }
}

function slotOf(len: number, first: number, last: number, mulLen: number, mulFirst: number, mask: number): number {
  return ((len * mulLen + first * mulFirst) ^ last) & mask;
}

function searchMultipliers(keys: Buffer[], size: number): [number, number] | null {
  const used = new Uint8Array(size);
  for (let mulLen = 1; mulLen < 64; mulLen++) {
    for (let mulFirst = 1; mulFirst < 64; mulFirst++) {
      used.fill(0);
      let ok = true;
      for (const b of keys) {
        const slot = slotOf(b.length, b[0], b[b.length - 1], mulLen, mulFirst, size - 1);
        if (used[slot]) {
          ok = false;
          break;
        }
        used[slot] = 1;
      }
      if (ok) return [mulLen, mulFirst];
    }
  }
  return null;
}
