// Build planning: scan receipts → balanced build units packed into shards (pure).
//
//   plays (year, month) × buckets ──▶ songplays units (each also writes the time rows of its plays)
//   users × buckets               ──▶ users units
//   song partitions (year, artist_id) ──▶ one songs unit each (tiny; packing spreads them)
//   all songs                     ──▶ one artists unit
//
// A partition whose staged bytes fit in `unitLimit` stays one unit with all its buckets (fewer,
// bigger files); a bigger one is cut into bucket groups balanced by bytes, so one month holding every
// event still spreads over many shards. Songs are broadcast: every shard with a songplays, songs or
// artists unit reads all staged song segments and deduplicates them the same way.
import type { BuildPlan, BuildTask, BuildUnit, PartitionValues, RunSpec, ScanReceipt, StagedPart, StagedSegment, TableName } from '../run/types.js';
import { TABLES } from '../run/types.js';
import { packBalanced, type Packing } from './packing.js';

/** Partitions smaller than this are never cut by bucket, whatever the shard count. */
export const MIN_UNIT_BYTES = 4 << 20;

const TABLE_ORDER: Record<TableName, number> = { songplays: 0, time: 1, users: 2, songs: 3, artists: 4 };

export function partitionKey(p: PartitionValues): string {
  return JSON.stringify(Object.entries(p));
}

interface Keyed {
  partition: PartitionValues;
  buckets: Map<number, number>;
  segments: Map<number, StagedSegment[]>;
}

export function planBuild(spec: RunSpec, receipts: ScanReceipt[]): BuildPlan {
  const ordered = [...receipts].sort((a, b) => a.index - b.index);
  const plays = new Map<string, Keyed>();
  const users: Keyed = { partition: {}, buckets: new Map(), segments: new Map() };
  const songSegments: StagedSegment[] = [];
  const songPartitions = new Map<string, { partition: PartitionValues; bytes: number }>();
  let songBytes = 0;
  for (const r of ordered) {
    for (const part of r.staged) {
      if (part.dataset === 'plays') {
        const key = partitionKey(part.partition);
        let entry = plays.get(key);
        if (!entry) plays.set(key, (entry = { partition: part.partition, buckets: new Map(), segments: new Map() }));
        addPart(entry, part);
      } else if (part.dataset === 'users') {
        addPart(users, part);
      } else {
        songBytes += part.bytes;
        songSegments.push(...part.segments);
      }
    }
    for (const sp of r.songPartitions) {
      const key = partitionKey(sp.partition);
      const entry = songPartitions.get(key);
      if (entry) entry.bytes += sp.bytes;
      else songPartitions.set(key, { partition: sp.partition, bytes: sp.bytes });
    }
  }

  const fileCost = spec.sharding.perObjectCost;
  let total = 0;
  for (const p of plays.values()) for (const b of p.buckets.values()) total += b;
  for (const b of users.buckets.values()) total += b;
  for (const sp of songPartitions.values()) total += sp.bytes;
  total += songBytes;
  const wanted = buildShardCount(spec, total);
  const unitLimit = Math.max(MIN_UNIT_BYTES, Math.min(spec.sharding.targetShardBytes, total / wanted / 2));

  const units: BuildUnit[] = [];
  for (const p of sortedByPartition([...plays.values()])) units.push(...bucketUnits('songplays', p, unitLimit));
  if (users.buckets.size > 0) units.push(...bucketUnits('users', users, unitLimit));
  const songUnits = [...songPartitions.values()].sort((a, b) => comparePartitions(a.partition, b.partition));
  for (const sp of songUnits) units.push({ table: 'songs', partition: sp.partition, buckets: [], bytes: sp.bytes });
  if (songPartitions.size > 0) units.push({ table: 'artists', partition: {}, buckets: [], bytes: songBytes });

  const costs = new Float64Array(units.length);
  for (let i = 0; i < units.length; i++) costs[i] = units[i]!.bytes + fileCost;
  const packing = packWithFewestStragglers(costs, wanted, spec.sharding.maxShards);
  const tasks: BuildTask[] = packing.bins.map((members, index) => {
    const taskUnits = members.map((m) => units[m]!);
    const task: BuildTask = { runId: spec.runId, stage: 'build', index, units: taskUnits, cost: packing.loads[index]! };
    if (songSegments.length > 0 && taskUnits.some((u) => u.table !== 'users')) task.songSegments = songSegments;
    return task;
  });

  const partitions = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<TableName, number>;
  partitions.songplays = plays.size;
  partitions.time = plays.size;
  partitions.users = users.buckets.size > 0 ? 1 : 0;
  partitions.songs = songPartitions.size;
  partitions.artists = songPartitions.size > 0 ? 1 : 0;

  return {
    runId: spec.runId,
    stage: 'build',
    shards: tasks.length,
    inputObjects: ordered.reduce((n, r) => n + r.splits, 0),
    inputBytes: total,
    skew: packing.skew,
    tasks,
    partitions,
  };
}

export function buildShardCount(spec: RunSpec, totalBytes: number): number {
  const { targetShardBytes, maxShards, minShards } = spec.sharding;
  const n = Math.max(Math.ceil(totalBytes / targetShardBytes), minShards ?? 1, 1);
  return Math.min(n, maxShards);
}

/**
 * Bucket granularity can leave units too coarse for `wanted` shards (32 equal units into 21 shards
 * means half the shards do twice the work). A count near total / biggest unit (within maxShards)
 * can lower the slowest shard: try it and keep it only when the maximum load drops by over 1%.
 */
function packWithFewestStragglers(costs: Float64Array, wanted: number, maxShards: number): Packing {
  let best = packBalanced(costs, wanted);
  let total = 0;
  let biggest = 0;
  for (const c of costs) {
    total += c;
    if (c > biggest) biggest = c;
  }
  // Only coarse, big units make stragglers worth more shards (each shard has a fixed start-up cost).
  if (costs.length === 0 || biggest < MIN_UNIT_BYTES || biggest <= total / best.bins.length / 2) return best;
  const candidates = new Set([Math.floor(total / biggest), Math.ceil(total / biggest)].map((n) => Math.min(maxShards, costs.length, n)));
  for (const n of candidates) {
    if (n <= best.bins.length) continue;
    const p = packBalanced(costs, n);
    if (Math.max(...p.loads) < Math.max(...best.loads) * 0.99) best = p;
  }
  return best;
}

/** One unit per partition when it fits, else bucket groups balanced by bytes. */
function bucketUnits(table: TableName, keyed: Keyed, unitLimit: number): BuildUnit[] {
  const buckets = [...keyed.buckets.keys()].sort((a, b) => a - b);
  const bytes = buckets.map((b) => keyed.buckets.get(b)!);
  const sum = bytes.reduce((a, b) => a + b, 0);
  const pieces = Math.min(buckets.length, Math.ceil(sum / unitLimit));
  const segmentsOf = (group: number[]) => group.flatMap((b) => keyed.segments.get(b)!);
  if (pieces <= 1) return [{ table, partition: keyed.partition, buckets, bytes: sum, segments: segmentsOf(buckets) }];
  const packing = packBalanced(Float64Array.from(bytes), pieces);
  const groups = packing.bins
    .map((members) => members.map((m) => buckets[m]!))
    .sort((a, b) => a[0]! - b[0]!);
  return groups.map((group, index) => ({
    table,
    partition: keyed.partition,
    buckets: group,
    bytes: group.reduce((n, b) => n + keyed.buckets.get(b)!, 0),
    piece: { index, of: groups.length },
    segments: segmentsOf(group),
  }));
}

function addPart(keyed: Keyed, part: StagedPart): void {
  keyed.buckets.set(part.bucket, (keyed.buckets.get(part.bucket) ?? 0) + part.bytes);
  const list = keyed.segments.get(part.bucket);
  if (list) list.push(...part.segments);
  else keyed.segments.set(part.bucket, [...part.segments]);
}

function sortedByPartition(list: Keyed[]): Keyed[] {
  return list.sort((a, b) => comparePartitions(a.partition, b.partition));
}

/** Numeric values compare as numbers (2018 < 10000), others by code point; deterministic either way. */
export function comparePartitions(a: PartitionValues, b: PartitionValues): number {
  const ka = Object.keys(a);
  for (const k of ka) {
    const x = a[k] ?? '';
    const y = b[k] ?? '';
    if (x === y) continue;
    const nx = /^-?\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^-?\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Units in a task run in this order: big keyed tables first, broadcast-derived ones last. */
export function compareUnits(a: BuildUnit, b: BuildUnit): number {
  return TABLE_ORDER[a.table] - TABLE_ORDER[b.table] || comparePartitions(a.partition, b.partition) || (a.buckets[0] ?? 0) - (b.buckets[0] ?? 0);
}
