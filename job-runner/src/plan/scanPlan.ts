// Scan planning: the run's input objects → balanced scan shards (pure).
//
// Cost model: a split costs its bytes plus `perObjectCost` (request latency and per-file overhead
// dominate for tiny song files), gzip bytes weighted by GZIP_EXPANSION (a .gz object is parsed at its
// decompressed size and cannot be split). Uncompressed line files are cut into byte ranges when
// larger than `splitBytes`, or than a quarter of the mean shard when that is smaller, so that no
// single file dictates the slowest shard; the reader owns line boundaries (a range owns the lines
// that start inside it).
import type { InputObject, InputSplit, RunSpec, ScanPlan, ScanTask } from '../run/types.js';
import { packBalanced } from './packing.js';

/** JSON lines typically gzip 5-10x; parsing cost follows the decompressed size. */
export const GZIP_EXPANSION = 6;
/** Never cut ranges smaller than this: each range costs a request and a partial-line skip. */
export const MIN_SPLIT_BYTES = 8 << 20;

export function objectCost(size: number, compressed: boolean, perObjectCost: number): number {
  return size * (compressed ? GZIP_EXPANSION : 1) + perObjectCost;
}

/** How many scan shards the plan aims for, before packing (which never makes empty shards). */
export function scanShardCount(spec: RunSpec, totalCost: number): number {
  const { targetShardBytes, maxShards, shards, minShards } = spec.sharding;
  let n = shards ?? Math.ceil(totalCost / targetShardBytes);
  n = Math.max(n, minShards ?? 1, 1);
  return Math.min(n, maxShards);
}

export function planScan(spec: RunSpec, inputs: InputObject[]): ScanPlan {
  const { perObjectCost, splitBytes } = spec.sharding;
  let totalCost = 0;
  let inputBytes = 0;
  for (const o of inputs) {
    totalCost += objectCost(o.size, o.compressed, perObjectCost);
    inputBytes += o.size;
  }
  const wanted = scanShardCount(spec, totalCost);
  const mean = totalCost / wanted;
  const rangeLimit = Math.min(splitBytes, Math.max(MIN_SPLIT_BYTES, Math.floor(mean / 4)));

  const splits = splitInputs(inputs, splitBytes, rangeLimit);
  const costs = new Float64Array(splits.length);
  for (let i = 0; i < splits.length; i++) {
    const s = splits[i]!;
    costs[i] = objectCost(s.end - s.start, s.compressed, perObjectCost);
  }
  const packing = packBalanced(costs, wanted);
  const tasks: ScanTask[] = packing.bins.map((members, index) => ({
    runId: spec.runId,
    stage: 'scan',
    index,
    // Members are in input order, which is (ordinal, start): the shard reads objects sequentially.
    splits: members.map((m) => splits[m]!),
    cost: packing.loads[index]!,
  }));
  return {
    runId: spec.runId,
    stage: 'scan',
    shards: tasks.length,
    inputObjects: inputs.length,
    inputBytes,
    skew: packing.skew,
    tasks,
  };
}

/**
 * Whole objects, and byte ranges of big uncompressed ones, in (ordinal, start) order. A file is cut
 * when larger than `splitBytes` or `rangeLimit`; ranges are near-equal so none is a runt.
 */
export function splitInputs(inputs: readonly InputObject[], splitBytes: number, rangeLimit: number): InputSplit[] {
  let sorted = inputs;
  for (let i = 1; i < inputs.length; i++) {
    if (inputs[i]!.ordinal < inputs[i - 1]!.ordinal) {
      sorted = [...inputs].sort((a, b) => a.ordinal - b.ordinal);
      break;
    }
  }
  const out: InputSplit[] = [];
  const limit = Math.min(splitBytes, rangeLimit);
  for (const o of sorted) {
    if (o.compressed || o.size <= limit) {
      out.push(splitOf(o, 0, o.size));
      continue;
    }
    const pieces = Math.ceil(o.size / limit);
    for (let i = 0; i < pieces; i++) out.push(splitOf(o, Math.floor((i * o.size) / pieces), Math.floor(((i + 1) * o.size) / pieces)));
  }
  return out;
}

function splitOf(o: InputObject, start: number, end: number): InputSplit {
  return { kind: o.kind, key: o.key, ordinal: o.ordinal, compressed: o.compressed, start, end, size: o.size };
}
