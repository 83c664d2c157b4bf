// Dictionary-encoded string columns: UTF-8 layout for Arrow, compaction, merging and ordering.
// A distinct value is encoded or decoded once per dictionary, never once per row.

/** Arrow's utf8 layout (offsets + bytes) for a list of strings. */
export function encodeUtf8Strings(strings: readonly string[]): { offsets: Int32Array; bytes: Uint8Array } {
  const offsets = new Int32Array(strings.length + 1);
  let total = 0;
  for (let i = 0; i < strings.length; i++) {
    total += Buffer.byteLength(strings[i], 'utf8');
    // Arrow's utf8 type has 32-bit offsets; large_utf8 would be needed past this.
    if (total > 0x7fffffff) throw new Error(`dictionary of ${strings.length} strings exceeds 2 GiB of UTF-8; split the batch`);
    offsets[i + 1] = total;
  }
  const bytes = Buffer.allocUnsafe(total);
  for (let i = 0; i < strings.length; i++) bytes.write(strings[i], offsets[i], 'utf8');
  return { offsets, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, total) };
}

/** The strings of an Arrow utf8 layout; `offsets` has count + 1 entries. */
export function decodeUtf8Strings(offsets: Int32Array, bytes: Uint8Array, count: number): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = buf.toString('utf8', offsets[i], offsets[i + 1]);
  return out;
}

/** Throws when a present row's code is outside its dictionary: writers would fail far from the cause. */
export function checkCodes(codes: Int32Array, valid: Uint8Array | null, dictLength: number, length: number, what: string): void {
  for (let i = 0; i < length; i++) {
    const c = codes[i];
    if (c >= 0 && c < dictLength) continue;
    if (valid !== null && valid[i] === 0) continue;
    throw new Error(`${what}: row ${i} has dictionary code ${c} but the dictionary has ${dictLength} entries`);
  }
}

/**
 * Drops dictionary entries no present row references, keeping the survivors in their original order.
 * Codes of null rows become 0 when codes are rewritten. Returns the inputs themselves when every entry is referenced, so the
 * common case costs one pass and no allocation. Why it matters: a slice of a parse batch (one
 * bucket, one partition) would otherwise carry the whole batch's dictionary into every segment.
 */
export function compactDictionary(
  codes: Int32Array,
  valid: Uint8Array | null,
  dict: readonly string[],
  length: number,
): { codes: Int32Array; dict: readonly string[] } {
  if (dict.length === 0) return { codes, dict };
  // Few rows over a big dictionary: a Map keeps the cost proportional to the rows, not the dictionary.
  if (length * 4 < dict.length) return compactSparse(codes, valid, dict, length);
  const remap = new Int32Array(dict.length);
  let used = 0;
  for (let i = 0; i < length; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const c = codes[i];
    if (remap[c] === 0) {
      remap[c] = 1;
      used++;
    }
  }
  // Codes under null rows are arbitrary by contract (readers never look at them), so a fully used
  // dictionary needs no rewrite even when nulls hold stray codes.
  if (used === dict.length) return { codes, dict };
  const out: string[] = new Array<string>(used);
  let next = 0;
  for (let c = 0; c < dict.length; c++) {
    if (remap[c] !== 0) {
      out[next] = dict[c];
      remap[c] = next++;
    }
  }
  const newCodes = new Int32Array(length);
  for (let i = 0; i < length; i++) newCodes[i] = valid !== null && valid[i] === 0 ? 0 : remap[codes[i]];
  return { codes: newCodes, dict: out };
}

function compactSparse(codes: Int32Array, valid: Uint8Array | null, dict: readonly string[], length: number): { codes: Int32Array; dict: readonly string[] } {
  const seen = new Map<number, number>();
  for (let i = 0; i < length; i++) {
    if (valid !== null && valid[i] === 0) continue;
    seen.set(codes[i], 0);
  }
  const used = [...seen.keys()].sort((a, b) => a - b);
  const out = new Array<string>(used.length);
  for (let k = 0; k < used.length; k++) {
    out[k] = dict[used[k]];
    seen.set(used[k], k);
  }
  const newCodes = new Int32Array(length);
  for (let i = 0; i < length; i++) newCodes[i] = valid !== null && valid[i] === 0 ? 0 : seen.get(codes[i])!;
  return { codes: newCodes, dict: out };
}

/**
 * Builds one dictionary out of several: each distinct string gets one code, in first-seen order.
 * `remap(dict)` returns old code → new code for one input dictionary (memoised per array, because
 * batches cut from the same parse batch share one dictionary array).
 */
export class DictionaryMerger {
  readonly dict: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly remaps = new Map<readonly string[], Int32Array>();

  /** The code of one string, adding it when new. */
  intern(value: string): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.dict.length;
      this.dict.push(value);
      this.index.set(value, code);
    }
    return code;
  }

  remap(dict: readonly string[]): Int32Array {
    let table = this.remaps.get(dict);
    if (table === undefined) {
      table = new Int32Array(dict.length);
      for (let c = 0; c < dict.length; c++) table[c] = this.intern(dict[c]);
      this.remaps.set(dict, table);
    }
    return table;
  }
}

/**
 * Compares strings by Unicode code point, which is UTF-8 byte order: the order of S3 listings,
 * DuckDB's VARCHAR and Spark's StringType. JavaScript's `<` compares UTF-16 code units, which puts
 * U+E000..U+FFFF after supplementary characters; the fix-up below moves surrogates above them.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

function fixup(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/**
 * Dense ranks of dictionary entries in code point order: equal strings get equal ranks, so rank
 * equality is value equality even for dictionaries holding duplicates.
 */
export function dictionaryRanks(dict: readonly string[]): { ranks: Int32Array; distinct: number } {
  const order = new Int32Array(dict.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((x, y) => compareCodePoints(dict[x], dict[y]));
  const ranks = new Int32Array(dict.length);
  let rank = -1;
  for (let k = 0; k < order.length; k++) {
    if (k === 0 || dict[order[k]] !== dict[order[k - 1]]) rank++;
    ranks[order[k]] = rank;
  }
  return { ranks, distinct: rank + 1 };
}
