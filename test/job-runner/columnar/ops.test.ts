// Batch operations the build stage relies on: concatenation with dictionary merging, gathers,
// slices, multi-key sorts (checked against a plain comparator sort as the reference) and builders.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ColumnBatch } from '../../../job-runner/src/columnar/batch.js';
import { BatchBuilder } from '../../../job-runner/src/columnar/builder.js';
import { concatBatches } from '../../../job-runner/src/columnar/concat.js';
import { compareCodePoints, compactDictionary, dictionaryRanks } from '../../../job-runner/src/columnar/dictionary.js';
import { decodeSegment, encodeSegment } from '../../../job-runner/src/columnar/segment.js';
import { firstOfGroups, groupStarts, sortIndices, type SortKey } from '../../../job-runner/src/columnar/sort.js';
import { selectColumns, sliceBatch, takeRows } from '../../../job-runner/src/columnar/take.js';
import { batchToRows, type CellValue } from '../../../job-runner/src/columnar/values.js';
import { batch, f64, i32, i64, i64big, randomBatch, seeded, str, tsMs } from './fixtures.js';

describe('concatBatches', () => {
  test('different dictionaries are merged and codes remapped', () => {
    const a = batch({ s: str(['x', 'y', null]), n: i32([1, 2, 3]) });
    const b = batch({ s: str(['y', 'z']), n: i32([4, null]) });
    const got = concatBatches([a, b]);
    assert.deepEqual(batchToRows(got), [...batchToRows(a), ...batchToRows(b)]);
    assert.deepEqual((got.columns[0].column as { dict: string[] }).dict, ['x', 'y', 'z']);
  });

  test('slices sharing one dictionary keep it without remapping', () => {
    const whole = batch({ s: str(['a', 'b', 'c', 'a']) });
    const got = concatBatches([sliceBatch(whole, 2, 4), sliceBatch(whole, 0, 2)]);
    assert.equal((got.columns[0].column as { dict: string[] }).dict, (whole.columns[0].column as { dict: string[] }).dict);
    assert.deepEqual(batchToRows(got), [{ s: 'c' }, { s: 'a' }, { s: 'a' }, { s: 'b' }]);
  });

  test('Float64 and BigInt64 int64 mix into BigInt64 without losing a value', () => {
    const got = concatBatches([batch({ id: i64([2 ** 53 - 1, null]) }), batch({ id: i64big([2n ** 63n - 1n]) })]);
    assert.deepEqual(batchToRows(got), [{ id: 2n ** 53n - 1n }, { id: null }, { id: 2n ** 63n - 1n }]);
  });

  test('random batches concatenate to the rows of each, in order', () => {
    const parts = [randomBatch(300, 1), randomBatch(0, 2), randomBatch(1000, 3)];
    assert.deepEqual(batchToRows(concatBatches(parts)), parts.flatMap(batchToRows));
  });

  test('different schemas are an error naming both', () => {
    assert.throws(() => concatBatches([batch({ a: i32([1]) }), batch({ a: f64([1]) })]), /batch 1 has columns \[a:f64\], batch 0 has \[a:i32\]/);
    assert.throws(() => concatBatches([]), /no batches/);
  });
});

describe('takeRows, sliceBatch, selectColumns', () => {
  test('takeRows gathers every kind, repeats allowed', () => {
    const b = randomBatch(50, 9);
    const idx = Int32Array.of(49, 0, 0, 17);
    const rows = batchToRows(b);
    assert.deepEqual(batchToRows(takeRows(b, idx)), [...idx].map((i) => rows[i]));
  });

  test('takeRows refuses an index outside the batch', () => {
    assert.throws(() => takeRows(batch({ a: i32([1]) }), Int32Array.of(1)), /index 1 at position 0 is outside the batch of 1 rows/);
  });

  test('sliceBatch is a view; selectColumns names what is missing', () => {
    const b = batch({ a: i32([1, 2, 3]), s: str(['x', 'y', 'z']) });
    const s = sliceBatch(b, 1, 3);
    assert.deepEqual(batchToRows(s), [{ a: 2, s: 'y' }, { a: 3, s: 'z' }]);
    assert.equal((s.columns[0].column as { data: Int32Array }).data.buffer, (b.columns[0].column as { data: Int32Array }).data.buffer);
    assert.throws(() => sliceBatch(b, 2, 4), /outside the batch/);
    assert.deepEqual(selectColumns(b, ['s']).columns.map((c) => c.name), ['s']);
    assert.throws(() => selectColumns(b, ['s', 'nope']), /no column nope/);
  });
});

describe('dictionaries', () => {
  test('code point order is UTF-8 byte order, not UTF-16 order', () => {
    // U+E000 sorts before U+1F600 in UTF-8/code points, after it in UTF-16 code units.
    assert.ok(compareCodePoints('\uE000', '😀') < 0);
    assert.ok('\uE000' > '😀');
    const words = ['b', '😀', '\uE000', 'a', '', 'ab', 'é', '\uFFFF'];
    const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...words].sort(compareCodePoints), byBytes);
  });

  test('dense ranks give equal strings equal ranks', () => {
    const { ranks, distinct } = dictionaryRanks(['b', 'a', 'b', 'c']);
    assert.deepEqual([...ranks], [1, 0, 1, 2]);
    assert.equal(distinct, 3);
  });

  test('compaction keeps referenced entries in order and returns the input when all are used', () => {
    const codes = Int32Array.of(3, 1, 3);
    const got = compactDictionary(codes, null, ['a', 'b', 'c', 'd'], 3);
    assert.deepEqual(got.dict, ['b', 'd']);
    assert.deepEqual([...got.codes], [1, 0, 1]);
    const dict = ['a', 'b'];
    const same = compactDictionary(Int32Array.of(0, 1), null, dict, 2);
    assert.equal(same.dict, dict);
    // Few rows over a big dictionary take the sparse path.
    const big = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    const sparse = compactDictionary(Int32Array.of(999, 5, 999), Uint8Array.of(1, 1, 0), big, 3);
    assert.deepEqual(sparse.dict, ['v5', 'v999']);
    assert.deepEqual([...sparse.codes], [1, 0, 0]);
  });
});

/** The reference: Array.prototype.sort (stable) with a comparator written from the SortKey semantics. */
function referenceOrder(b: ColumnBatch, keys: readonly SortKey[]): number[] {
  const rows = batchToRows(b);
  const cmpValue = (x: CellValue, y: CellValue): number => {
    if (typeof x === 'string' && typeof y === 'string') return compareCodePoints(x, y);
    if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
    const a = x as number;
    const c = y as number;
    if (Number.isNaN(a) || Number.isNaN(c)) return Number.isNaN(a) === Number.isNaN(c) ? 0 : Number.isNaN(a) ? 1 : -1;
    return a < c ? -1 : a > c ? 1 : 0;
  };
  return rows
    .map((_, i) => i)
    .sort((p, q) => {
      for (const k of keys) {
        const x = rows[p][k.column];
        const y = rows[q][k.column];
        if (x === null || y === null) {
          if (x === y) continue;
          const nullFirst = (k.nulls ?? 'last') === 'first';
          return (x === null) === nullFirst ? -1 : 1;
        }
        const c = cmpValue(x, y);
        if (c !== 0) return k.descending ? -c : c;
      }
      return 0;
    });
}

describe('sortIndices', () => {
  const small = randomBatch(500, 11, { dictSize: 7 });
  const large = randomBatch(70_000, 12, { dictSize: 300 }); // ≥ 65536 rows: 16-bit digits
  const cases: { name: string; batch: ColumnBatch; keys: SortKey[] }[] = [
    { name: 'one string key (few values: stability matters)', batch: small, keys: [{ column: 's' }] },
    { name: 'string desc, nulls first, then int32', batch: small, keys: [{ column: 's', descending: true, nulls: 'first' }, { column: 'i' }] },
    { name: 'double with negatives', batch: small, keys: [{ column: 'd' }] },
    { name: 'timestamp descending', batch: small, keys: [{ column: 't', descending: true }] },
    { name: 'int64 as doubles, negatives', batch: small, keys: [{ column: 'id' }] },
    { name: 'int64 as BigInt64, full range, descending', batch: small, keys: [{ column: 'big', descending: true }] },
    { name: 'three keys on 70k rows', batch: large, keys: [{ column: 's' }, { column: 't', nulls: 'first' }, { column: 'big' }] },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual([...sortIndices(c.batch, c.keys)], referenceOrder(c.batch, c.keys)));
  }

  test('special doubles: -0 with +0 (stable), NaN last, infinities', () => {
    const b = batch({ d: f64([NaN, 0, -Infinity, -0, 1, Infinity, -1, 0]) });
    assert.deepEqual([...sortIndices(b, [{ column: 'd' }])], [2, 6, 1, 3, 7, 4, 5, 0]);
  });

  test('sorting a subset of rows keeps their relative order on ties', () => {
    const b = batch({ k: i32([2, 1, 2, 1, 0]) });
    assert.deepEqual([...sortIndices(b, [{ column: 'k' }], Int32Array.of(4, 3, 2, 1))], [4, 3, 1, 2]);
  });

  test('dedup: smallest (source, offset) per key via sort, groupStarts and firstOfGroups', () => {
    const b = batch({ song: str(['S2', 'S1', 'S2', null, 'S1', null]), source: i32([1, 3, 0, 2, 3, 1]), offset: i64([5, 9, 7, 0, 2, 4]) });
    const order = sortIndices(b, [{ column: 'song' }, { column: 'source' }, { column: 'offset' }]);
    const starts = groupStarts(b, order, ['song']);
    assert.deepEqual(batchToRows(takeRows(b, firstOfGroups(order, starts))), [
      { song: 'S1', source: 3, offset: 2 },
      { song: 'S2', source: 0, offset: 7 },
      { song: null, source: 1, offset: 4 },
    ]);
  });

  test('groupStarts treats duplicate dictionary entries, NaN and BigInt words by value', () => {
    const b: ColumnBatch = {
      length: 4,
      columns: [
        { name: 's', column: { kind: 'str', codes: Int32Array.of(0, 1, 2, 2), dict: ['a', 'a', 'b'], valid: null } },
        { name: 'd', column: f64([NaN, NaN, 1, 1]) },
        { name: 'b', column: i64big([1n, 1n, 2n ** 40n, 2n ** 40n]) },
      ],
    };
    assert.deepEqual([...groupStarts(b, Int32Array.of(0, 1, 2, 3), ['s', 'd', 'b'])], [0, 2]);
  });

  test('an unknown sort column is an error', () => {
    assert.throws(() => sortIndices(small, [{ column: 'nope' }]), /column nope not in batch/);
  });
});

describe('BatchBuilder', () => {
  test('typed appenders build every kind, validity appears on the first null', () => {
    const b = new BatchBuilder(
      [
        { name: 's', kind: 'str' },
        { name: 'i', kind: 'i32' },
        { name: 'd', kind: 'f64' },
        { name: 't', kind: 'ts-ms' },
        { name: 'id', kind: 'i64' },
        { name: 'big', kind: 'i64', int64: 'bigint' },
      ],
      2,
    );
    const rows = 100;
    for (let r = 0; r < rows; r++) {
      b.str('s').push(r % 7 === 0 ? null : `v${r % 3}`);
      b.i32('i').push(r);
      b.f64('d').push(r === 50 ? null : r / 2);
      b.tsMs('t').push(1541030400000 + r);
      b.i64('id').push(0 - r); // not -r: -0 is not an int64
      if (r === 3) b.i64Words('big').pushNull();
      else b.i64Words('big').pushBigInt(-(2n ** 63n) + BigInt(r));
    }
    const got = b.finish();
    assert.equal(got.length, rows);
    const want = Array.from({ length: rows }, (_, r) => ({
      s: r % 7 === 0 ? null : `v${r % 3}`,
      i: r,
      d: r === 50 ? null : r / 2,
      t: 1541030400000 + r,
      id: 0 - r,
      big: r === 3 ? null : -(2n ** 63n) + BigInt(r),
    }));
    assert.deepEqual(batchToRows(got), want);
    assert.equal(got.columns[1].column.valid, null);
    assert.deepEqual((got.columns[0].column as { dict: string[] }).dict, ['v1', 'v2', 'v0']);
    // The builder's output is a valid batch for the codecs.
    assert.deepEqual(batchToRows(decodeSegment(encodeSegment(got))), want);
  });

  test('pushRows copies rows from another batch, interning only the strings used', () => {
    const src = batch({ s: str(Array.from({ length: 1000 }, (_, i) => `w${i}`)), n: i64([...Array(1000).keys()]), extra: i32(Array(1000).fill(0)) });
    const b = new BatchBuilder([
      { name: 'n', kind: 'i64' },
      { name: 's', kind: 'str' },
    ]);
    b.pushRows(src, [999, 2, 999]);
    b.pushRow(src, 5);
    const got = b.finish();
    assert.deepEqual(batchToRows(got), [
      { n: 999, s: 'w999' },
      { n: 2, s: 'w2' },
      { n: 999, s: 'w999' },
      { n: 5, s: 'w5' },
    ]);
    assert.deepEqual((got.columns[1].column as { dict: string[] }).dict, ['w999', 'w2', 'w5']);
  });

  test('int64 words from both representations', () => {
    const b = new BatchBuilder([{ name: 'id', kind: 'i64', int64: 'bigint' }]);
    b.pushRows(batch({ id: i64([-(2 ** 53 - 1), 7, null]) }), [0, 1, 2]);
    b.pushRows(batch({ id: i64big([2n ** 63n - 1n]) }), [0]);
    b.i64Words('id').pushWords(-1, -1);
    assert.deepEqual(batchToRows(b.finish()), [{ id: -(2n ** 53n - 1n) }, { id: 7n }, { id: null }, { id: 2n ** 63n - 1n }, { id: -1n }]);
  });

  const misuse: { name: string; run: () => void; error: RegExp }[] = [
    { name: 'uneven columns', run: () => { const b = new BatchBuilder([{ name: 'a', kind: 'i32' }, { name: 'b', kind: 'i32' }]); b.i32('a').push(1); b.finish(); }, error: /different lengths \(a=1, b=0\)/ },
    { name: 'wrong appender', run: () => new BatchBuilder([{ name: 'a', kind: 'i32' }]).str('a'), error: /column a is not str/ },
    { name: 'unknown column', run: () => new BatchBuilder([{ name: 'a', kind: 'i32' }]).i32('b'), error: /no column b/ },
    { name: 'kind mismatch on copy', run: () => new BatchBuilder([{ name: 'a', kind: 'i32' }]).pushRow(batch({ a: f64([1]) }), 0), error: /cannot append a f64 value to a i32 column/ },
    { name: 'duplicate column', run: () => new BatchBuilder([{ name: 'a', kind: 'i32' }, { name: 'a', kind: 'f64' }]), error: /appears twice/ },
  ];
  for (const m of misuse) test(m.name, () => assert.throws(m.run, m.error));
});

test('seeded fixtures are deterministic', () => {
  assert.equal(seeded(1)(), seeded(1)());
  assert.deepEqual(batchToRows(randomBatch(20, 5)), batchToRows(randomBatch(20, 5)));
  void tsMs;
});
