// The engine's defaults and the validation of a run's parameters, as one pure function. Whoever
// starts a run (the CLI or the operator) calls makeRunSpec and writes the result as run.json; every
// shard then reads the same numbers, so nothing below depends on a process's own defaults.
import { assertRunId } from '../run/layout.js';
import type { MemoryOptions, QualityOptions, ReadOptions, RunSpec, ShardingOptions } from '../run/types.js';

const MiB = 2 ** 20;

export const DEFAULT_SHARDING: ShardingOptions = {
  targetShardBytes: 256 * MiB,
  maxShards: 200,
  // A GET costs ~10-30 ms of latency on S3; at ~100 MB/s per stream that is worth a few MB of
  // transfer. 256 KiB is deliberately lower: requests overlap (the reader keeps several in flight),
  // yet 15k song files of 250 bytes still count as ~4 GB of work instead of 4 MB.
  perObjectCost: 256 * 1024,
  splitBytes: 64 * MiB,
};

export const DEFAULT_QUALITY: QualityOptions = { maxRejectRatio: 0.01 };

export const DEFAULT_READ: ReadOptions = { maxLineBytes: 16 * MiB, maxRejectSampleBytes: 64 * 1024 };

export const DEFAULT_MEMORY: MemoryOptions = { stagingBytes: 256 * MiB, batchRows: 65_536 };

export interface RunSpecInput {
  runId: string;
  songs: string;
  logs: string;
  output: string;
  origin: string;
  sharding?: Partial<ShardingOptions>;
  quality?: Partial<QualityOptions>;
  read?: Partial<ReadOptions>;
  /** Fills `createdAt`; the current time when omitted. */
  now?: Date;
  /** Hash buckets of keyed staged data; by default sized from maxShards (see bucketsFor). */
  buckets?: number;
  memory?: Partial<MemoryOptions>;
}

/**
 * Buckets bound how finely the build stage can split one partition (one month of plays, the users):
 * a partition can be spread over at most `buckets` build shards. More buckets cost more, smaller
 * staged segments. An eighth of maxShards (a power of two in [8, 256]) lets a month holding every
 * event still use a large share of the shards.
 */
export function bucketsFor(maxShards: number): number {
  const want = Math.min(256, Math.max(8, Math.ceil(maxShards / 8)));
  return 2 ** Math.ceil(Math.log2(want));
}

export function makeRunSpec(input: RunSpecInput): RunSpec {
  assertRunId(input.runId);
  for (const field of ['songs', 'logs', 'output'] as const) {
    if (typeof input[field] !== 'string' || input[field].trim() === '') throw new Error(`run spec: ${field} must be a URI (s3://bucket/prefix or a folder)`);
  }
  const sharding: ShardingOptions = { ...DEFAULT_SHARDING, ...definedOnly(input.sharding) };
  positive('sharding.targetShardBytes', sharding.targetShardBytes);
  positiveInteger('sharding.maxShards', sharding.maxShards);
  nonNegative('sharding.perObjectCost', sharding.perObjectCost);
  positive('sharding.splitBytes', sharding.splitBytes);
  if (sharding.shards !== undefined) positiveInteger('sharding.shards', sharding.shards);
  if (sharding.minShards !== undefined) positiveInteger('sharding.minShards', sharding.minShards);

  const quality: QualityOptions = { ...DEFAULT_QUALITY, ...definedOnly(input.quality) };
  if (!(quality.maxRejectRatio >= 0 && quality.maxRejectRatio <= 1)) throw new Error(`run spec: quality.maxRejectRatio must be in [0, 1], got ${quality.maxRejectRatio}`);

  const read: ReadOptions = { ...DEFAULT_READ, ...definedOnly(input.read) };
  positiveInteger('read.maxLineBytes', read.maxLineBytes);
  positiveInteger('read.maxRejectSampleBytes', read.maxRejectSampleBytes);

  const memory: MemoryOptions = { ...DEFAULT_MEMORY, ...definedOnly(input.memory) };
  positiveInteger('memory.stagingBytes', memory.stagingBytes);
  positiveInteger('memory.batchRows', memory.batchRows);

  const buckets = input.buckets ?? bucketsFor(sharding.maxShards);
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 4096 || (buckets & (buckets - 1)) !== 0) {
    throw new Error(`run spec: buckets must be a power of two in [1, 4096], got ${buckets}`);
  }

  return {
    runId: input.runId,
    songs: input.songs,
    logs: input.logs,
    output: input.output,
    sharding,
    quality,
    read,
    buckets,
    memory,
    createdAt: (input.now ?? new Date()).toISOString(),
    origin: input.origin,
  };
}

/** The memory options of a spec, with defaults for run.json files written before they existed. */
export function memoryOf(spec: RunSpec): MemoryOptions {
  return { ...DEFAULT_MEMORY, ...definedOnly(spec.memory) };
}

function definedOnly<T extends object>(o: Partial<T> | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (!o) return out;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function positive(name: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new Error(`run spec: ${name} must be a positive number, got ${v}`);
}

function nonNegative(name: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new Error(`run spec: ${name} must be a non-negative number, got ${v}`);
}

function positiveInteger(name: string, v: number): void {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`run spec: ${name} must be a positive integer, got ${v}`);
}
