// Sorting rows by several typed keys, and finding where equal-key groups start: the build stage's
// dedup ("smallest (source, offset) wins per song_id") and its output order are a sort then a scan.
//
// The sort is an LSD radix sort of row indices: every key is turned into unsigned 32-bit words whose
// order is the key's order, then rows are bucketed by 8- or 16-bit digits from the least significant
// word of the last key to the most significant word of the first. Each pass is stable, so ties keep
// the input order. That is O(rows × passes) with no comparator calls; passes whose digit is the same
// for every row are skipped after the histogram, so small ranges cost little.
//
//   key kind        words (least significant first)
//   i32             x ^ 0x80000000
//   str             dense rank of the value in code point (UTF-8 byte) order
//   f64, ts-ms,     IEEE-754 bits made order-preserving (flip all bits of negatives, the sign bit
//   i64 (Float64)   of positives): lo word, hi word; -0 is sorted as +0
//   i64 (BigInt64)  lo word, hi word ^ 0x80000000
//   any, with nulls one extra word after the value words: 0/1 placing nulls first or last
import type { Column, ColumnBatch } from './batch.js';
import { columnOf } from './batch.js';
import { dictionaryRanks } from './dictionary.js';

export interface SortKey {
  column: string;
  descending?: boolean;
  /** Where null rows go; default 'last' (DuckDB's default for ascending order). */
  nulls?: 'first' | 'last';
}

/** Fills `out[i]` with one key word of row `rows[i]`. */
type WordFill = (out: Uint32Array, rows: Int32Array) => void;

/**
 * Row indices of `batch` ordered by `keys`; ties keep their order in `rows` (default 0..length-1),
 * so the sort is stable. `rows` may be a subset of the batch: the cost is in the rows sorted, not in
 * the batch's length.
 */
export function sortIndices(batch: ColumnBatch, keys: readonly SortKey[], rows?: Int32Array): Int32Array {
  let idx: Int32Array = rows ? rows.slice() : identity(batch.length);
  const n = idx.length;
  if (n < 2 || keys.length === 0) return idx;
  let tmp: Int32Array = new Int32Array(n);
  // The key word of each position travels with its row index, so passes read it sequentially.
  let words: Uint32Array = new Uint32Array(n);
  let tmpWords: Uint32Array = new Uint32Array(n);
  const bits = n < 65536 ? 8 : 16;
  const counts = new Int32Array(1 << bits);
  for (let k = keys.length - 1; k >= 0; k--) {
    for (const fill of keyWords(batch, keys[k], rows)) {
      fill(words, idx);
      for (let shift = 0; shift < 32; shift += bits) {
        if (radixPass(idx, tmp, words, tmpWords, shift, bits, counts)) {
          [idx, tmp] = [tmp, idx];
          [words, tmpWords] = [tmpWords, words];
        }
      }
    }
  }
  return idx;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * One stable counting pass on digit (word >>> shift) & mask, moving indices and words together.
 * Returns false (and moves nothing) when every position has the same digit.
 */
function radixPass(src: Int32Array, dst: Int32Array, words: Uint32Array, dstWords: Uint32Array, shift: number, bits: number, counts: Int32Array): boolean {
  const mask = (1 << bits) - 1;
  const n = src.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[(words[i] >>> shift) & mask]++;
  if (counts[(words[0] >>> shift) & mask] === n) return false;
  let sum = 0;
  for (let d = 0; d <= mask; d++) {
    const c = counts[d];
    counts[d] = sum;
    sum += c;
  }
  for (let i = 0; i < n; i++) {
    const w = words[i];
    const at = counts[(w >>> shift) & mask]++;
    dst[at] = src[i];
    dstWords[at] = w;
  }
  return true;
}

function keyWords(batch: ColumnBatch, key: SortKey, rows: Int32Array | undefined): WordFill[] {
  const column = columnOf(batch, key.column);
  const flip = key.descending === true;
  const valid = column.valid;
  const hasNulls = valid !== null && anyNull(valid, batch.length, rows);
  const value = valueWords(column);
  const words: WordFill[] = value.map((fill) => (out: Uint32Array, at: Int32Array) => {
    fill(out, at);
    const n = at.length;
    if (flip) for (let i = 0; i < n; i++) out[i] = ~out[i];
    // Null rows must not be ordered by the garbage under them: one constant word for all of them.
    if (hasNulls) for (let i = 0; i < n; i++) if (valid![at[i]] === 0) out[i] = 0;
  });
  if (hasNulls) {
    const nullsLast = (key.nulls ?? 'last') === 'last';
    words.push((out, at) => {
      for (let i = 0; i < at.length; i++) out[i] = (valid![at[i]] === 0) === nullsLast ? 1 : 0;
    });
  }
  return words;
}

function anyNull(valid: Uint8Array, length: number, rows: Int32Array | undefined): boolean {
  if (rows === undefined) return valid.subarray(0, length).includes(0);
  for (let i = 0; i < rows.length; i++) if (valid[rows[i]] === 0) return true;
  return false;
}

function valueWords(column: Column): WordFill[] {
  switch (column.kind) {
    case 'i32': {
      const data = column.data;
      return [(out, at) => {
        for (let i = 0; i < at.length; i++) out[i] = data[at[i]] ^ 0x80000000;
      }];
    }
    case 'str': {
      const { ranks } = dictionaryRanks(column.dict);
      const codes = column.codes;
      return [(out, at) => {
        for (let i = 0; i < at.length; i++) out[i] = ranks[codes[at[i]]] ?? 0;
      }];
    }
    case 'i64':
      if (column.data instanceof BigInt64Array) {
        const w = new Int32Array(column.data.buffer, column.data.byteOffset, column.data.length * 2);
        return [
          (out, at) => {
            for (let i = 0; i < at.length; i++) out[i] = w[2 * at[i]];
          },
          (out, at) => {
            for (let i = 0; i < at.length; i++) out[i] = w[2 * at[i] + 1] ^ 0x80000000;
          },
        ];
      }
      return doubleWords(column.data);
    case 'f64':
    case 'ts-ms':
      return doubleWords(column.data);
  }
}

function doubleWords(data: Float64Array): WordFill[] {
  const w = new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
  return [
    (out, at) => {
      for (let i = 0; i < at.length; i++) {
        const r = 2 * at[i];
        const hi = w[r + 1];
        const lo = w[r];
        out[i] = hi >= 0x80000000 ? (hi === 0x80000000 && lo === 0 ? 0 : ~lo) : lo;
      }
    },
    (out, at) => {
      for (let i = 0; i < at.length; i++) {
        const r = 2 * at[i];
        const hi = w[r + 1];
        const lo = w[r];
        out[i] = hi >= 0x80000000 ? (hi === 0x80000000 && lo === 0 ? 0x80000000 : ~hi) : hi | 0x80000000;
      }
    },
  ];
}

/**
 * Positions in `order` where a new group of equal keys starts (always 0 first when non-empty).
 * Nulls equal nulls, NaN equals NaN, -0 equals +0, strings compare by value (not by code).
 * Column at a time: each column marks the positions where it changes, in a loop of its own type.
 */
export function groupStarts(batch: ColumnBatch, order: Int32Array, columns: readonly string[]): Int32Array {
  const n = order.length;
  const changed = new Uint8Array(n);
  if (n > 0) changed[0] = 1;
  for (const name of columns) markChanges(columnOf(batch, name), order, changed);
  let count = 0;
  for (let p = 0; p < n; p++) count += changed[p];
  const starts = new Int32Array(count);
  for (let p = 0, g = 0; p < n; p++) if (changed[p] === 1) starts[g++] = p;
  return starts;
}

function markChanges(column: Column, order: Int32Array, changed: Uint8Array): void {
  const n = order.length;
  const valid = column.valid;
  if (valid !== null) {
    for (let p = 1; p < n; p++) if ((valid[order[p]] === 0) !== (valid[order[p - 1]] === 0)) changed[p] = 1;
  }
  // Below, a pair where either row is null is skipped: null/null is equal, null/value was marked above.
  const present = (p: number) => valid === null || (valid[order[p]] !== 0 && valid[order[p - 1]] !== 0);
  switch (column.kind) {
    case 'str': {
      const { codes, dict } = column;
      for (let p = 1; p < n; p++) {
        const a = codes[order[p - 1]];
        const b = codes[order[p]];
        if (a !== b && present(p) && dict[a] !== dict[b]) changed[p] = 1;
      }
      return;
    }
    case 'i32': {
      const data = column.data;
      for (let p = 1; p < n; p++) if (data[order[p - 1]] !== data[order[p]] && present(p)) changed[p] = 1;
      return;
    }
    case 'i64':
      if (column.data instanceof BigInt64Array) {
        const w = new Int32Array(column.data.buffer, column.data.byteOffset, column.data.length * 2);
        for (let p = 1; p < n; p++) {
          const a = 2 * order[p - 1];
          const b = 2 * order[p];
          if ((w[a] !== w[b] || w[a + 1] !== w[b + 1]) && present(p)) changed[p] = 1;
        }
        return;
      }
      return markDoubleChanges(column.data, order, changed, present);
    case 'f64':
    case 'ts-ms':
      return markDoubleChanges(column.data, order, changed, present);
  }
}

function markDoubleChanges(data: Float64Array, order: Int32Array, changed: Uint8Array, present: (p: number) => boolean): void {
  for (let p = 1; p < order.length; p++) {
    const x = data[order[p - 1]];
    const y = data[order[p]];
    if (x !== y && !(x !== x && y !== y) && present(p)) changed[p] = 1;
  }
}

/** The first row (in `order`) of each group: the winner when the sort put the preferred row first. */
export function firstOfGroups(order: Int32Array, starts: Int32Array): Int32Array {
  const out = new Int32Array(starts.length);
  for (let g = 0; g < starts.length; g++) out[g] = order[starts[g]];
  return out;
}
