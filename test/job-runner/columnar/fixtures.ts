// Batches for the columnar and Parquet tests: every column kind, with and without nulls, seeded so
// a failure reproduces.
import type { Column, ColumnBatch } from '../../../job-runner/src/columnar/batch.js';

/** mulberry32: small, fast, good enough to shuffle test data deterministically. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const str = (values: (string | null)[]): Column => {
  const dict: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === null) return;
    let c = index.get(v);
    if (c === undefined) {
      c = dict.length;
      dict.push(v);
      index.set(v, c);
    }
    codes[i] = c;
  });
  return { kind: 'str', codes, dict, valid: validOf(values) };
};

export const i32 = (values: (number | null)[]): Column => ({ kind: 'i32', data: Int32Array.from(values, (v) => v ?? 0), valid: validOf(values) });
export const f64 = (values: (number | null)[]): Column => ({ kind: 'f64', data: Float64Array.from(values, (v) => v ?? 0), valid: validOf(values) });
export const tsMs = (values: (number | null)[]): Column => ({ kind: 'ts-ms', data: Float64Array.from(values, (v) => v ?? 0), valid: validOf(values) });
export const i64 = (values: (number | null)[]): Column => ({ kind: 'i64', data: Float64Array.from(values, (v) => v ?? 0), valid: validOf(values) });
export const i64big = (values: (bigint | null)[]): Column => ({ kind: 'i64', data: BigInt64Array.from(values, (v) => v ?? 0n), valid: validOf(values) });

function validOf(values: unknown[]): Uint8Array | null {
  return values.includes(null) ? Uint8Array.from(values, (v) => (v === null ? 0 : 1)) : null;
}

export function batch(columns: Record<string, Column>): ColumnBatch {
  const entries = Object.entries(columns);
  const length = entries.length === 0 ? 0 : entries[0][1].kind === 'str' ? (entries[0][1] as { codes: Int32Array }).codes.length : (entries[0][1] as { data: { length: number } }).data.length;
  return { length, columns: entries.map(([name, column]) => ({ name, column })) };
}

/** Strings that break naive code: escapes, quotes, every UTF-8 length, surrogate pairs, BMP private use. */
export const HOSTILE_STRINGS = ['', ' ', 'a', 'é', '日本語', '😀', '\uE000', '\uFFFD', 'a\u0000b', '"quoted"', "it's", 'back\\slash', 'new\nline', 'tab\t', 'x'.repeat(1000)];

/** A batch of `n` random rows over every kind, nulls in every nullable column. */
export function randomBatch(n: number, seed: number, opts: { nulls?: boolean; dictSize?: number } = {}): ColumnBatch {
  const rnd = seeded(seed);
  const nulls = opts.nulls ?? true;
  const dictSize = opts.dictSize ?? 50;
  const maybe = <T>(v: T): T | null => (nulls && rnd() < 0.1 ? null : v);
  const words = Array.from({ length: dictSize }, (_, i) => HOSTILE_STRINGS[i % HOSTILE_STRINGS.length] + i);
  const rows = Array.from({ length: n }, () => rnd());
  return batch({
    s: str(rows.map(() => maybe(words[Math.floor(rnd() * dictSize)]))),
    i: i32(rows.map(() => maybe(Math.floor(rnd() * 2 ** 32) - 2 ** 31))),
    d: f64(rows.map(() => maybe((rnd() - 0.5) * 1e6))),
    t: tsMs(rows.map(() => maybe(Math.floor(rnd() * 253402300799999)))),
    id: i64(rows.map(() => maybe(Math.floor((rnd() - 0.5) * 2 ** 53)))),
    big: i64big(rows.map(() => maybe(BigInt.asIntN(64, (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)))))),
  });
}
