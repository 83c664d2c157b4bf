// Staged segments: Arrow IPC streams that must round-trip every column kind exactly, be readable by
// an independent Arrow reader (apache-arrow's own, not our decoder), and decode from a byte range of a
// staged object, including one fetched from S3 with a ranged GET.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Type, tableFromIPC, type Dictionary, type Timestamp } from 'apache-arrow';
import type { ColumnBatch } from '../../../job-runner/src/columnar/batch.js';
import { concatSegments, decodeSegment, encodeSegment } from '../../../job-runner/src/columnar/segment.js';
import { batchToRows } from '../../../job-runner/src/columnar/values.js';
import { startTestS3 } from '../../helpers/s3.js';
import { HOSTILE_STRINGS, batch, f64, i32, i64, i64big, randomBatch, str, tsMs } from './fixtures.js';

function roundTrip(b: ColumnBatch): ColumnBatch {
  return decodeSegment(encodeSegment(b));
}

function assertSameBatch(got: ColumnBatch, want: ColumnBatch): void {
  assert.equal(got.length, want.length);
  assert.deepEqual(got.columns.map((c) => [c.name, c.column.kind]), want.columns.map((c) => [c.name, c.column.kind]));
  assert.deepEqual(batchToRows(got), batchToRows(want));
}

describe('encodeSegment/decodeSegment round trip', () => {
  const cases: { name: string; batch: ColumnBatch }[] = [
    { name: 'every kind, no nulls', batch: batch({ s: str(['a', 'b', 'a']), i: i32([1, -2, 2147483647]), d: f64([1.5, -0, 1e308]), t: tsMs([0, 1541030400123, 253402300799999]), id: i64([0, -(2 ** 53 - 1), 2 ** 53 - 1]) }) },
    { name: 'every kind, nulls everywhere', batch: batch({ s: str([null, 'x', null]), i: i32([null, 1, null]), d: f64([null, 2, null]), t: tsMs([1, null, 3]), id: i64([null, null, 7]), big: i64big([null, 1n, null]) }) },
    { name: 'all-null string column with an empty dictionary', batch: batch({ s: str([null, null]) }) },
    { name: 'non-finite doubles', batch: batch({ d: f64([NaN, Infinity, -Infinity, -0, Number.MIN_VALUE]) }) },
    { name: 'int64 extremes as BigInt64Array', batch: batch({ big: i64big([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n]) }) },
    { name: 'negative timestamps (before 1970)', batch: batch({ t: tsMs([-1, -86400000 * 365, -(2 ** 52)]) }) },
    { name: 'unicode and hostile strings', batch: batch({ s: str(HOSTILE_STRINGS) }) },
    { name: 'empty batch of every kind', batch: batch({ s: str([]), i: i32([]), d: f64([]), t: tsMs([]), id: i64([]), big: i64big([]) }) },
    { name: 'batch without columns', batch: { length: 0, columns: [] } },
    { name: 'random 5000 rows', batch: randomBatch(5000, 7) },
  ];
  for (const c of cases) {
    test(c.name, () => assertSameBatch(roundTrip(c.batch), c.batch));
  }

  test('int64 keeps its representation: Float64Array stays Float64Array, BigInt64Array stays BigInt64Array', () => {
    const got = roundTrip(batch({ small: i64([1, 2]), wide: i64big([1n, 2n]) }));
    assert.ok((got.columns[0].column as { data: unknown }).data instanceof Float64Array);
    assert.ok((got.columns[1].column as { data: unknown }).data instanceof BigInt64Array);
  });

  test('a huge dictionary (200k distinct values) round-trips', () => {
    const values = Array.from({ length: 200_000 }, (_, i) => `song-${i}-é`);
    const b = batch({ s: str(values) });
    const got = roundTrip(b);
    const col = got.columns[0].column as { codes: Int32Array; dict: string[] };
    assert.equal(col.dict.length, 200_000);
    assert.equal(col.dict[col.codes[123_456]], 'song-123456-é');
  });

  test('unreferenced dictionary entries are not staged', () => {
    const big = Array.from({ length: 10_000 }, (_, i) => `v${i}`);
    const sparse: ColumnBatch = { length: 2, columns: [{ name: 's', column: { kind: 'str', codes: Int32Array.of(9_999, 3), dict: big, valid: null } }] };
    const bytes = encodeSegment(sparse);
    assert.ok(bytes.byteLength < 2000, `segment of 2 rows is ${bytes.byteLength} bytes`);
    assert.deepEqual(batchToRows(decodeSegment(bytes)), [{ s: 'v9999' }, { s: 'v3' }]);
  });

  test('columns sharing one typed array (apache-arrow joins overlapping chunks) stay intact', () => {
    const codes = Int32Array.of(0, 1, 1, 0);
    const data = Float64Array.of(1, 2, 3, 4);
    const b: ColumnBatch = {
      length: 4,
      columns: [
        { name: 'a', column: { kind: 'str', codes, dict: ['x', 'y'], valid: null } },
        { name: 'b', column: { kind: 'str', codes, dict: ['p', 'q'], valid: null } },
        { name: 'c', column: { kind: 'f64', data, valid: null } },
        { name: 'd', column: { kind: 'f64', data: data.subarray(1), valid: null } },
      ],
    };
    const sliced: ColumnBatch = { ...b, length: 3 };
    assertSameBatch(roundTrip(sliced), sliced);
  });

  test('codes under null rows may be anything, even outside the dictionary', () => {
    const b: ColumnBatch = { length: 2, columns: [{ name: 's', column: { kind: 'str', codes: Int32Array.of(0, 99), dict: ['a'], valid: Uint8Array.of(1, 0) } }] };
    assert.deepEqual(batchToRows(roundTrip(b)), [{ s: 'a' }, { s: null }]);
  });
});

describe('segments are plain Arrow IPC streams', () => {
  test('apache-arrow reads one with the documented types and values', () => {
    const b = batch({ s: str(['é', null]), t: tsMs([1541030400123, 0]), id: i64([2 ** 53 - 1, -5]), big: i64big([2n ** 63n - 1n, 1n]), i: i32([1, 2]), d: f64([0.5, 1]) });
    const table = tableFromIPC(encodeSegment(b));
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, f.type]));
    assert.equal(types.s.typeId, Type.Dictionary);
    assert.equal((types.s as Dictionary).indices.bitWidth, 32);
    assert.equal((types.s as Dictionary).dictionary.typeId, Type.Utf8);
    assert.equal(types.t.typeId, Type.Timestamp);
    assert.equal((types.t as Timestamp).timezone, 'UTC');
    assert.equal(String(types.t), 'Timestamp<MILLISECOND, UTC>');
    assert.equal(String(types.id), 'Int64');
    assert.equal(String(types.i), 'Int32');
    assert.equal(String(types.d), 'Float64');
    assert.deepEqual(table.getChild('s')!.toArray(), ['é', null]);
    assert.deepEqual([...table.getChild('id')!], [2n ** 53n - 1n, -5n]);
    assert.deepEqual([...table.getChild('big')!], [2n ** 63n - 1n, 1n]);
    assert.deepEqual([...table.getChild('t')!], [1541030400123, 0]);
  });

  test('every segment is a multiple of 8 bytes and ends with the end-of-stream marker', () => {
    for (const n of [0, 1, 3, 1000]) {
      const bytes = encodeSegment(randomBatch(n, n));
      assert.equal(bytes.byteLength % 8, 0);
      assert.deepEqual([...bytes.subarray(bytes.byteLength - 8)], [255, 255, 255, 255, 0, 0, 0, 0]);
    }
  });
});

describe('decoding byte ranges of a staged object', () => {
  const parts = [randomBatch(100, 1), randomBatch(0, 2), randomBatch(2500, 3), batch({ s: str(['only']) })];

  test('each segment decodes alone from its range, also when the view is misaligned', () => {
    const { body, ranges } = concatSegments(parts.map(encodeSegment));
    // Shift the whole object by 3 bytes inside a bigger buffer: views are then misaligned.
    const shifted = new Uint8Array(body.byteLength + 3);
    shifted.set(body, 3);
    for (const [i, r] of ranges.entries()) {
      assertSameBatch(decodeSegment(body.subarray(r.offset, r.offset + r.length), parts[i].length), parts[i]);
      assertSameBatch(decodeSegment(shifted.subarray(3 + r.offset, 3 + r.offset + r.length)), parts[i]);
    }
  });

  const bad: { name: string; cut: (body: Uint8Array, r: { offset: number; length: number }) => Uint8Array; error: RegExp }[] = [
    { name: 'a truncated segment', cut: (b, r) => b.subarray(r.offset, r.offset + r.length - 8), error: /end-of-stream marker/ },
    { name: 'a range starting late', cut: (b, r) => b.subarray(r.offset + 8, r.offset + r.length), error: /not an Arrow IPC stream|no schema/ },
    { name: 'two segments as one', cut: (b, r) => b.subarray(r.offset, r.offset + r.length + 64), error: /end-of-stream marker|rows where the receipt says/ },
    { name: 'an empty range', cut: (b, r) => b.subarray(r.offset, r.offset), error: /too short/ },
  ];
  for (const c of bad) {
    test(`${c.name} is an error naming the range, not a short batch`, () => {
      const { body, ranges } = concatSegments(parts.map(encodeSegment));
      assert.throws(() => decodeSegment(c.cut(body, ranges[0]), parts[0].length), c.error);
    });
  }

  test('a row count that does not match the receipt is an error', () => {
    assert.throws(() => decodeSegment(encodeSegment(parts[0]), 99), /100 rows where the receipt says 99/);
  });

  test('ranged GETs from S3 (s3rver) decode each segment', async () => {
    const s3 = await startTestS3();
    try {
      await s3.createBucket('stage');
      const { body, ranges } = concatSegments(parts.map(encodeSegment));
      await s3.client.send(new PutObjectCommand({ Bucket: 'stage', Key: 'run/staged/scan-00000.arrows', Body: body }));
      for (const [i, r] of ranges.entries()) {
        if (r.length === 0) continue;
        const got = await s3.client.send(new GetObjectCommand({ Bucket: 'stage', Key: 'run/staged/scan-00000.arrows', Range: `bytes=${r.offset}-${r.offset + r.length - 1}` }));
        const bytes = await got.Body!.transformToByteArray();
        assert.equal(bytes.byteLength, r.length);
        assertSameBatch(decodeSegment(bytes, parts[i].length), parts[i]);
      }
    } finally {
      await s3.stop();
    }
  });
});

describe('bad batches are refused with the column and row', () => {
  const cases: { name: string; batch: ColumnBatch; error: RegExp }[] = [
    { name: 'a fractional int64', batch: batch({ id: i64([1, 2.5]) }), error: /column id: row 1 holds 2.5/ },
    { name: 'an int64 beyond 2^53 in a Float64Array', batch: batch({ id: i64([2 ** 53]) }), error: /column id: row 0/ },
    { name: 'a NaN timestamp', batch: batch({ t: tsMs([NaN]) }), error: /column t: row 0 holds NaN/ },
    { name: 'a code outside the dictionary', batch: { length: 1, columns: [{ name: 's', column: { kind: 'str', codes: Int32Array.of(4), dict: ['a'], valid: null } }] }, error: /column s: row 0 has dictionary code 4/ },
    { name: 'a column shorter than the batch', batch: { length: 3, columns: [{ name: 'i', column: i32([1]) }] }, error: /column i: 1 values for 3 rows/ },
    { name: 'a duplicate column name', batch: { length: 1, columns: [{ name: 'i', column: i32([1]) }, { name: 'i', column: i32([2]) }] }, error: /column i appears twice/ },
  ];
  for (const c of cases) test(c.name, () => assert.throws(() => encodeSegment(c.batch), c.error));

  test('a null int64 row may hold garbage', () => {
    const b: ColumnBatch = { length: 2, columns: [{ name: 'id', column: { kind: 'i64', data: Float64Array.of(NaN, 3), valid: Uint8Array.of(0, 1) } }] };
    assert.deepEqual(batchToRows(roundTrip(b)), [{ id: null }, { id: 3 }]);
  });
});
