// Concatenation of batches with the same schema, e.g. every staged segment of one build unit.
// String columns whose batches carry different dictionaries get one merged dictionary and remapped
// codes (one Map lookup per distinct value per input dictionary, one array read per row).
import type { Column, ColumnBatch, ColumnKind } from './batch.js';
import { DictionaryMerger } from './dictionary.js';
import { asBigInt64 } from './int64.js';
import { schemaOf } from './values.js';

export function concatBatches(batches: readonly ColumnBatch[]): ColumnBatch {
  if (batches.length === 0) throw new Error('concatBatches: no batches (the schema would be unknown)');
  if (batches.length === 1) return batches[0];
  const first = batches[0];
  const want = schemaOf(first);
  batches.forEach((b, i) => {
    const got = schemaOf(b);
    const same = got.length === want.length && got.every((c, k) => c.name === want[k].name && c.kind === want[k].kind);
    if (!same) throw new Error(`concatBatches: batch ${i} has columns [${describe(got)}], batch 0 has [${describe(want)}]`);
  });
  const length = batches.reduce((sum, b) => sum + b.length, 0);
  return {
    length,
    columns: want.map(({ name, kind }, k) => ({ name, column: concatColumns(kind, batches.map((b) => ({ column: b.columns[k].column, length: b.length })), length, name) })),
  };
}

function describe(schema: readonly { name: string; kind: ColumnKind }[]): string {
  return schema.map((c) => `${c.name}:${c.kind}`).join(', ');
}

interface Part {
  column: Column;
  length: number;
}

function concatColumns(kind: ColumnKind, parts: Part[], length: number, name: string): Column {
  const valid = concatValid(parts, length);
  switch (kind) {
    case 'i32':
      return { kind, data: concatTyped(parts.map((p) => (p.column as Column & { kind: 'i32' }).data.subarray(0, p.length)), new Int32Array(length)), valid };
    case 'f64':
      return { kind, data: concatTyped(parts.map((p) => (p.column as Column & { kind: 'f64' }).data.subarray(0, p.length)), new Float64Array(length)), valid };
    case 'ts-ms':
      return { kind, data: concatTyped(parts.map((p) => (p.column as Column & { kind: 'ts-ms' }).data.subarray(0, p.length)), new Float64Array(length)), valid };
    case 'i64': {
      const cols = parts.map((p) => p.column as Column & { kind: 'i64' });
      if (cols.every((c) => c.data instanceof Float64Array)) {
        return { kind, data: concatTyped(parts.map((p, i) => (cols[i].data as Float64Array).subarray(0, p.length)), new Float64Array(length)), valid };
      }
      // Mixed representations: widen everything to 64-bit words (no BigInt per value).
      const words = parts.map((p, i) => asBigInt64(cols[i].data, cols[i].valid, p.length, `column ${name}`).subarray(0, p.length));
      return { kind, data: concatTyped(words, new BigInt64Array(length)), valid };
    }
    case 'str':
      return concatStrings(parts, length, valid);
  }
}

function concatTyped<T extends Int32Array | Float64Array | BigInt64Array>(parts: T[], out: T): T {
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

function concatValid(parts: Part[], length: number): Uint8Array | null {
  if (parts.every((p) => p.column.valid === null)) return null;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    if (p.column.valid === null) out.fill(1, at, at + p.length);
    else out.set(p.column.valid.subarray(0, p.length), at);
    at += p.length;
  }
  return out;
}

function concatStrings(parts: Part[], length: number, valid: Uint8Array | null): Column {
  const cols = parts.map((p) => p.column as Column & { kind: 'str' });
  const codes = new Int32Array(length);
  // Slices of one parse batch share their dictionary array: then codes are copied as they are.
  if (cols.every((c) => c.dict === cols[0].dict)) {
    let at = 0;
    parts.forEach((p, i) => {
      codes.set(cols[i].codes.subarray(0, p.length), at);
      at += p.length;
    });
    return { kind: 'str', codes, dict: cols[0].dict, valid };
  }
  const merger = new DictionaryMerger();
  let at = 0;
  parts.forEach((p, i) => {
    const remap = merger.remap(cols[i].dict);
    const src = cols[i].codes;
    // A null row's code may be anything, even outside the dictionary: `?? 0` keeps it harmless.
    for (let r = 0; r < p.length; r++) codes[at + r] = remap[src[r]] ?? 0;
    at += p.length;
  });
  return { kind: 'str', codes, dict: merger.dict, valid };
}
