// The run protocol's documents, as stored under `<output>/_lake/`. These types are the contract
// between the planner, the shard executors, the commit, the local runner and the operator: every
// one of them is JSON written once under a deterministic key (see layout.ts).
//
// Lifecycle of one run (DESIGN.md "S3 layout and the run protocol"):
//
//   RunSpec ──planScan──▶ ScanPlan + ScanTask[] ──scan shards──▶ ScanReceipt[]
//        ──planBuild──▶ BuildPlan + BuildTask[] ──build shards──▶ BuildReceipt[]
//        ──commit──▶ Manifest ──▶ current.json ──▶ _SUCCESS ──▶ cleanup
//
// Everything here is plain data: no Dates (ISO strings instead), no class instances.

export const TABLES = ['songs', 'artists', 'users', 'time', 'songplays'] as const;
export type TableName = (typeof TABLES)[number];

/** Hive partition values of one partition, in partition-column order, unescaped. */
export type PartitionValues = Record<string, string>;

export interface ShardingOptions {
  /** Target cost of one shard, in bytes (input bytes for scan, staged bytes for build). */
  targetShardBytes: number;
  /** Upper bound on the number of shards of a stage. */
  maxShards: number;
  /** Cost charged per input object on top of its bytes (models request latency). */
  perObjectCost: number;
  /** Uncompressed line files above this size are split at byte ranges on line boundaries. */
  splitBytes: number;
  /** Exact number of scan shards wanted (still capped by maxShards and by the number of splits). */
  shards?: number;
  /** Lower bound on the shards of a stage (e.g. the parallelism, so every worker gets work). */
  minShards?: number;
}

/** Memory bounds of one shard process. */
export interface MemoryOptions {
  /** A scan shard spills its staged rows to the staged object when their estimated size reaches this. */
  stagingBytes: number;
  /** Rows per parsed batch (the parser flushes a batch at this count). */
  batchRows: number;
}

export interface QualityOptions {
  /** Fail the run when rejected / read exceeds this share. */
  maxRejectRatio: number;
}

export interface ReadOptions {
  /** A line longer than this is rejected (reason `line-too-long`). Default 16 MiB. */
  maxLineBytes: number;
  /** Raw text of a rejected record is kept up to this many bytes in the quarantine. */
  maxRejectSampleBytes: number;
}

/** Written first, by whoever starts the run (the operator or `sparkify-lake run`). */
export interface RunSpec {
  runId: string;
  /** Input roots (URIs): `s3://bucket/prefix/` or a folder. */
  songs: string;
  logs: string;
  /** Output root (URI). Everything of the run lives under `<output>/_lake/runs/<runId>/`. */
  output: string;
  sharding: ShardingOptions;
  quality: QualityOptions;
  read: ReadOptions;
  /** Number of hash buckets for keyed staged data (plays, users). A power of two. */
  buckets: number;
  /** Memory bounds of a shard; defaults apply when absent (older run.json files). */
  memory?: MemoryOptions;
  createdAt: string;
  /** Who planned the run: `cli` or `operator/<namespace>/<name>`. */
  origin: string;
}

export type InputKind = 'song' | 'log';

/** One listed input object. `ordinal` is its position in the run's sorted input list. */
export interface InputObject {
  kind: InputKind;
  /** Which source root (`songs` or `logs` of the RunSpec) the key is relative to. */
  key: string;
  size: number;
  ordinal: number;
  /** gzip-compressed (by name: `.gz`), hence not splittable. */
  compressed: boolean;
}

/** A piece of work for one scan shard: a whole object or a byte range of one. */
export interface InputSplit {
  kind: InputKind;
  key: string;
  ordinal: number;
  compressed: boolean;
  /** Byte range of the stored object; the split owns the lines that start inside it. */
  start: number;
  end: number;
  /** Size of the whole object. */
  size: number;
}

export interface ScanTask {
  runId: string;
  stage: 'scan';
  index: number;
  splits: InputSplit[];
  /** Planner's cost of this shard (bytes + per-object overhead). */
  cost: number;
}

export interface PlanSummary {
  shards: number;
  inputObjects: number;
  inputBytes: number;
  /** Max shard cost / mean shard cost (1.0 is perfect balance). */
  skew: number;
}

export interface ScanPlan extends PlanSummary {
  runId: string;
  stage: 'scan';
  tasks: ScanTask[];
}

export interface RecordCounts {
  read: number;
  accepted: number;
  rejected: number;
  /** Rejected records by reason (e.g. `invalid-json`, `missing-song_id`, `line-too-long`). */
  rejectedByReason: Record<string, number>;
}

/** Schema drift seen by a shard: unknown fields and values that needed coercion, with counts. */
export interface DriftReport {
  unknownFields: Record<string, number>;
  /** `<field>:<from>-><to>` e.g. `userId:string->int64`, `length:empty->null`. */
  coercions: Record<string, number>;
}

/** A contiguous byte range of a staged object holding one self-contained columnar segment. */
export interface StagedSegment {
  key: string;
  offset: number;
  length: number;
  rows: number;
}

/** Staged data a scan shard produced for one build unit key (table group × partition × bucket). */
export interface StagedPart {
  /** `songs` (broadcast song lookup), `users` or `plays` (feeds songplays and time). */
  dataset: 'songs' | 'users' | 'plays';
  /** Partition values (e.g. {year:'2018', month:'11'} for plays; {} for unpartitioned). */
  partition: PartitionValues;
  bucket: number;
  segments: StagedSegment[];
  bytes: number;
  rows: number;
}

export interface ScanReceipt {
  runId: string;
  stage: 'scan';
  index: number;
  splits: number;
  records: RecordCounts;
  drift: DriftReport;
  staged: StagedPart[];
  /** Song partitions (year, artist_id) seen by this shard with their staged bytes: build planning input. */
  songPartitions: { partition: PartitionValues; rows: number; bytes: number }[];
  /** Quarantine object of this shard, when it rejected anything. */
  rejects: { key: string; count: number } | null;
  seconds: number;
}

/** One output unit of the build stage. */
export interface BuildUnit {
  table: TableName;
  partition: PartitionValues;
  /** Buckets of the staged dataset this unit consumes (empty for broadcast-derived tables). */
  buckets: number[];
  /** Estimated staged bytes (planner cost). */
  bytes: number;
  /**
   * Set when a partition too big for one unit is split by bucket: this unit is piece `index` of `of`.
   * The piece with index 0 counts the partition in receipts, so partition counts add up over shards.
   */
  piece?: { index: number; of: number };
  /** The staged segments this unit reads (plays or users of its partition and buckets), in receipt order. */
  segments?: StagedSegment[];
}

export interface BuildTask {
  runId: string;
  stage: 'build';
  index: number;
  units: BuildUnit[];
  cost: number;
  /** Every staged song segment of the run (the broadcast lookup), when a unit needs songs. */
  songSegments?: StagedSegment[];
}

export interface BuildPlan extends PlanSummary {
  runId: string;
  stage: 'build';
  tasks: BuildTask[];
  /** Partitions per table the build will produce at most (songs partitions may vanish after dedup). */
  partitions: Record<TableName, number>;
}

export interface OutputFile {
  table: TableName;
  /** Key relative to the output root, e.g. `songplays/year=2018/month=11/part-<runId>-00003.parquet`. */
  key: string;
  partition: PartitionValues;
  rows: number;
  bytes: number;
}

export interface BuildReceipt {
  runId: string;
  stage: 'build';
  index: number;
  files: OutputFile[];
  /** Partitions this shard was responsible for (landed when the receipt exists), per table. */
  partitions: Record<TableName, number>;
  seconds: number;
}

export type Receipt = ScanReceipt | BuildReceipt;

export interface TableSummary {
  rows: number;
  partitions: number;
  files: number;
  bytes: number;
}

/** The commit record: every file of every table in the run. */
export interface Manifest {
  runId: string;
  committedAt: string;
  spec: Pick<RunSpec, 'songs' | 'logs' | 'output' | 'origin'>;
  records: RecordCounts;
  drift: DriftReport;
  tables: Record<TableName, TableSummary>;
  files: OutputFile[];
}

/** `_lake/current.json`: the commit point. */
export interface CurrentPointer {
  runId: string;
  manifest: string;
  committedAt: string;
}
