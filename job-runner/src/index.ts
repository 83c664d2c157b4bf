// The engine's public face. The operator and the CLI import the engine only through this module,
// so everything they may rely on is listed here; the rest of job-runner/ is internal.
//
// CONTRACT STATUS: signatures fixed at project start; bodies marked `notYet` are being implemented
// (issue 2). Keep signatures stable; extend with optional fields rather than changing them.
import type { Storage } from './storage/storage.js';
import type {
  BuildPlan,
  BuildReceipt,
  InputObject,
  Manifest,
  QualityOptions,
  ReadOptions,
  RunSpec,
  ScanPlan,
  ScanReceipt,
  ShardingOptions,
} from './run/types.js';
import type { Stage } from './run/layout.js';

export * from './run/types.js';
export * from './run/layout.js';
export * from './storage/storage.js';

function notYet(name: string): never {
  throw new Error(`${name} is not implemented yet`);
}

/** Non-secret S3 settings plus credentials; undefined fields fall back to the standard AWS_* env. */
export interface StorageOptions {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Max concurrent requests per storage instance. */
  maxConcurrency?: number;
}

/** `s3://bucket/prefix` → S3 storage; anything else → a local folder. */
export function openStorage(uri: string, opts?: StorageOptions): Storage {
  void uri;
  void opts;
  return notYet('openStorage');
}

export interface RunSpecInput {
  runId: string;
  songs: string;
  logs: string;
  output: string;
  origin: string;
  sharding?: Partial<ShardingOptions>;
  quality?: Partial<QualityOptions>;
  read?: Partial<ReadOptions>;
  /** Used to size `buckets` before listing; defaults from the listing when omitted. */
  now?: Date;
}

/** A complete RunSpec with the engine's defaults filled in (pure). */
export function makeRunSpec(input: RunSpecInput): RunSpec {
  void input;
  return notYet('makeRunSpec');
}

/** Lists song and log inputs, sorted, with ordinals. Throws StorageError with an actionable message. */
export async function listInputs(spec: RunSpec, storageFor: (uri: string) => Storage): Promise<InputObject[]> {
  void spec;
  void storageFor;
  return notYet('listInputs');
}

/** Balanced scan shards over the inputs (pure). */
export function planScan(spec: RunSpec, inputs: InputObject[]): ScanPlan {
  void spec;
  void inputs;
  return notYet('planScan');
}

/** Writes run.json, the scan plan and one task file per shard. Idempotent. */
export async function writeScanPlan(out: Storage, spec: RunSpec, plan: ScanPlan): Promise<void> {
  void out;
  void spec;
  void plan;
  return notYet('writeScanPlan');
}

/** Balanced build units from the scan receipts (pure). */
export function planBuild(spec: RunSpec, receipts: ScanReceipt[]): BuildPlan {
  void spec;
  void receipts;
  return notYet('planBuild');
}

/** Writes the build plan and one task file per shard. Idempotent. */
export async function writeBuildPlan(out: Storage, plan: BuildPlan): Promise<void> {
  void out;
  void plan;
  return notYet('writeBuildPlan');
}

/** The receipts present for a stage, by shard index (missing indexes are simply absent). */
export async function readReceipts(out: Storage, runId: string, stage: 'scan'): Promise<Map<number, ScanReceipt>>;
export async function readReceipts(out: Storage, runId: string, stage: 'build'): Promise<Map<number, BuildReceipt>>;
export async function readReceipts(out: Storage, runId: string, stage: Stage): Promise<Map<number, ScanReceipt | BuildReceipt>> {
  void out;
  void runId;
  void stage;
  return notYet('readReceipts');
}

export type QualityVerdict = { ok: true } | { ok: false; message: string };

/** Reject-ratio check over all scan receipts (pure). */
export function checkQuality(spec: RunSpec, receipts: ScanReceipt[]): QualityVerdict {
  void spec;
  void receipts;
  return notYet('checkQuality');
}

/**
 * Commits a run whose build receipts are all present: manifest, then current.json, then _SUCCESS,
 * then deletion of table files not in the manifest and of the run's staging data. Idempotent.
 */
export async function commitRun(out: Storage, spec: RunSpec, scan: ScanReceipt[], build: BuildReceipt[]): Promise<Manifest> {
  void out;
  void spec;
  void scan;
  void build;
  return notYet('commitRun');
}

/** Removes an unfinished run's staging data and any table files it wrote. Never touches committed data. */
export async function discardRun(out: Storage, runId: string): Promise<void> {
  void out;
  void runId;
  return notYet('discardRun');
}

/**
 * How a job-runner pod is invoked. The shard index comes from JOB_COMPLETION_INDEX; S3 settings from
 * AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and SPARKIFY_S3_FORCE_PATH_STYLE.
 */
export function shardArgs(output: string, runId: string, stage: Stage): string[] {
  return ['shard', '--out', output, '--run-id', runId, '--stage', stage];
}
