// The run spec's defaults and validation, and the quantity parser shared by the CLI and the resource.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRunSpec, parseQuantity, type RunSpecInput } from '../../../job-runner/src/index.js';
import { bucketsFor } from '../../../job-runner/src/plan/runSpec.js';

const base: RunSpecInput = { runId: 'r1', songs: 's3://raw/song_data/', logs: 's3://raw/log_data/', output: 's3://lake/', origin: 'cli', now: new Date(Date.UTC(2026, 10, 29)) };

test('makeRunSpec fills the defaults', () => {
  const spec = makeRunSpec(base);
  assert.deepEqual(spec.sharding, { targetShardBytes: 256 * 2 ** 20, maxShards: 200, perObjectCost: 256 * 1024, splitBytes: 64 * 2 ** 20 });
  assert.deepEqual(spec.quality, { maxRejectRatio: 0.01 });
  assert.deepEqual(spec.read, { maxLineBytes: 16 * 2 ** 20, maxRejectSampleBytes: 64 * 1024 });
  assert.equal(spec.buckets, 32);
  assert.equal(spec.createdAt, '2026-11-29T00:00:00.000Z');
  assert.deepEqual(makeRunSpec({ ...base, sharding: { maxShards: 10, shards: undefined } }).sharding.maxShards, 10);
});

const invalid: { name: string; input: Partial<RunSpecInput>; want: RegExp }[] = [
  { name: 'a run id with capitals', input: { runId: 'Run1' }, want: /invalid run id/ },
  { name: 'an empty output', input: { output: ' ' }, want: /output must be a URI/ },
  { name: 'zero shards', input: { sharding: { maxShards: 0 } }, want: /sharding.maxShards must be a positive integer, got 0/ },
  { name: 'a reject ratio above 1', input: { quality: { maxRejectRatio: 2 } }, want: /maxRejectRatio must be in \[0, 1\]/ },
  { name: 'buckets not a power of two', input: { buckets: 12 }, want: /buckets must be a power of two/ },
  { name: 'a negative per-object cost', input: { sharding: { perObjectCost: -1 } }, want: /perObjectCost must be a non-negative number/ },
];
for (const c of invalid) {
  test(`makeRunSpec refuses ${c.name}`, () => assert.throws(() => makeRunSpec({ ...base, ...c.input }), c.want));
}

test('buckets grow with maxShards within [8, 256]', () => {
  assert.deepEqual([1, 64, 200, 1000, 5000].map(bucketsFor), [8, 8, 32, 128, 256]);
});

const quantities: [string | number, number][] = [
  ['256Mi', 256 * 2 ** 20],
  ['1Gi', 2 ** 30],
  ['500M', 500e6],
  ['64k', 64e3],
  ['1.5Ki', 1536],
  ['1e9', 1e9],
  [' 42 ', 42],
  [1234, 1234],
];
for (const [input, want] of quantities) test(`parseQuantity(${JSON.stringify(input)}) = ${want}`, () => assert.equal(parseQuantity(input), want));
for (const bad of ['', 'MiB', '-1Mi', '1Zi', '1 GB']) {
  test(`parseQuantity refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseQuantity(bad, '--target-shard-bytes'), /invalid --target-shard-bytes .*want a number of bytes/));
}
