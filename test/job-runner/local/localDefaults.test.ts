// The local runner's input-dependent defaults (pure): scan shards in multiples of the parallelism,
// about 1 GiB of cost each; buckets enough that one month of plays still cuts into target-size units.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_SCAN_SHARD_BYTES, localBuckets, localScanShards } from '../../../job-runner/src/local/runLocal.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

const shardCases: { name: string; parallel: number; cost: number; want: number }[] = [
  { name: 'a tiny input still gives every lane a shard', parallel: 2, cost: 1000, want: 2 },
  { name: 'up to parallel × 1 GiB: one shard per lane', parallel: 2, cost: 2 * GiB, want: 2 },
  { name: '1 GB of logs + 100k song files (2.6 GB of cost) on 2 cores: 2 rounds', parallel: 2, cost: 2.6e9, want: 4 },
  { name: '5 GB on 2 cores: 3 rounds', parallel: 2, cost: 5.4e9, want: 6 },
  { name: 'always a multiple of the parallelism', parallel: 3, cost: 3 * LOCAL_SCAN_SHARD_BYTES + 1, want: 6 },
];
for (const c of shardCases) test(`localScanShards: ${c.name}`, () => assert.equal(localScanShards(c.parallel, c.cost), c.want));

const bucketCases: { name: string; parallel: number; logCost: number; want: number }[] = [
  { name: 'small input: at least 8', parallel: 2, logCost: 200e6, want: 8 },
  { name: '1 GB of logs at a 256 MiB target: 8 (a month cut in 8 is ≤ 128 MB of input per unit)', parallel: 2, logCost: 1e9, want: 8 },
  { name: '5 GB of logs: 32, so one month holding everything still cuts into ~target units', parallel: 2, logCost: 5e9, want: 32 },
  { name: 'never more than the default for the shard cap (32 for 200 shards)', parallel: 2, logCost: 100e9, want: 32 },
  { name: 'twice the parallelism on a big machine', parallel: 16, logCost: 1e9, want: 32 },
];
for (const c of bucketCases) test(`localBuckets: ${c.name}`, () => assert.equal(localBuckets(c.parallel, c.logCost, 256 * MiB, 200), c.want));
