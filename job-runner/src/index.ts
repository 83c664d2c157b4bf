// The engine's public face. The operator and the CLI import the engine only through this module,
// so everything they may rely on is listed here; the rest of job-runner/ is internal.
//
// CONTRACT: signatures fixed at project start and implemented (issue 2). Keep them stable; extend with
// optional fields and new functions rather than changing them.
import type { Storage } from './storage/storage.js';
import { openStorage as openStorageImpl } from './storage/open.js';
import type {
  BuildPlan,
  BuildReceipt,
  InputObject,
  Manifest,
  RunSpec,
  ScanPlan,
  ScanReceipt,
} from './run/types.js';
import type { Stage } from './run/layout.js';
import { makeRunSpec as makeRunSpecImpl, type RunSpecInput } from './plan/runSpec.js';
import { planScan as planScanImpl } from './plan/scanPlan.js';
import { planBuild as planBuildImpl } from './plan/buildPlan.js';
import { readStageReceipts, receiptIndexes, writeBuildPlanDocs, writeScanPlanDocs } from './run/documents.js';
import { checkQuality as checkQualityImpl, type QualityVerdict } from './commit/quality.js';
import { shardArgs as shardArgsImpl } from './run/shardArgs.js';
import { listInputs as listInputsImpl } from './read/inventory.js';
import { commitRun as commitRunImpl, discardRun as discardRunImpl, type CommitOptions, type DiscardOptions } from './commit/commit.js';

export * from './run/types.js';
export * from './run/layout.js';
export * from './storage/storage.js';

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
  return openStorageImpl(uri, opts);
}

export type { RunSpecInput, CommitOptions, DiscardOptions, QualityVerdict };
export { DEFAULT_MEMORY, DEFAULT_QUALITY, DEFAULT_READ, DEFAULT_SHARDING } from './plan/runSpec.js';
export { parseQuantity, formatBytes } from './run/quantity.js';

/** A complete RunSpec with the engine's defaults filled in (pure; `now` defaults to the current time). */
export function makeRunSpec(input: RunSpecInput): RunSpec {
  return makeRunSpecImpl(input);
}

/** Lists song and log inputs, sorted, with ordinals. Throws StorageError with an actionable message. */
export async function listInputs(spec: RunSpec, storageFor: (uri: string) => Storage): Promise<InputObject[]> {
  return listInputsImpl(spec, storageFor);
}

/** Balanced scan shards over the inputs (pure). */
export function planScan(spec: RunSpec, inputs: InputObject[]): ScanPlan {
  return planScanImpl(spec, inputs);
}

/** Writes run.json, the scan plan and one task file per shard. Idempotent. */
export async function writeScanPlan(out: Storage, spec: RunSpec, plan: ScanPlan): Promise<void> {
  return writeScanPlanDocs(out, spec, plan);
}

/** Balanced build units from the scan receipts (pure). */
export function planBuild(spec: RunSpec, receipts: ScanReceipt[]): BuildPlan {
  return planBuildImpl(spec, receipts);
}

/** Writes the build plan and one task file per shard. Idempotent. */
export async function writeBuildPlan(out: Storage, plan: BuildPlan): Promise<void> {
  return writeBuildPlanDocs(out, plan);
}

/** The receipts present for a stage, by shard index (missing indexes are simply absent). */
export async function readReceipts(out: Storage, runId: string, stage: 'scan'): Promise<Map<number, ScanReceipt>>;
export async function readReceipts(out: Storage, runId: string, stage: 'build'): Promise<Map<number, BuildReceipt>>;
export async function readReceipts(out: Storage, runId: string, stage: Stage): Promise<Map<number, ScanReceipt | BuildReceipt>> {
  return readStageReceipts(out, runId, stage);
}

/** Shard indexes of a stage that have a receipt, from one listing (cheap to poll). */
export async function listReceiptIndexes(out: Storage, runId: string, stage: Stage): Promise<number[]> {
  return receiptIndexes(out, runId, stage);
}

/** Reject-ratio check over all scan receipts (pure). */
export function checkQuality(spec: RunSpec, receipts: ScanReceipt[]): QualityVerdict {
  return checkQualityImpl(spec, receipts);
}

/**
 * Commits a run whose build receipts are all present: manifest, then current.json, then _SUCCESS,
 * then deletion of table files not in the manifest and of the run's staging data. Idempotent.
 */
export async function commitRun(out: Storage, spec: RunSpec, scan: ScanReceipt[], build: BuildReceipt[], opts?: CommitOptions): Promise<Manifest> {
  return commitRunImpl(out, spec, scan, build, opts);
}

/**
 * Removes an unfinished run's staging data and any table files it wrote. Never touches committed data.
 * Temp files of killed writers (local outputs) older than the grace period go too.
 */
export async function discardRun(out: Storage, runId: string, opts?: DiscardOptions): Promise<void> {
  return discardRunImpl(out, runId, opts);
}

/**
 * How a job-runner pod is invoked. The shard index comes from JOB_COMPLETION_INDEX; S3 settings from
 * AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and SPARKIFY_S3_FORCE_PATH_STYLE.
 */
export function shardArgs(output: string, runId: string, stage: Stage): string[] {
  return shardArgsImpl(output, runId, stage);
}

// Beyond the operator's contract: what the CLI composes (local runs, inspection, the shard process).
export { runLocal, RunFailed, newRunId, type LocalRunOptions, type LocalRunResult, type RunReporter, type RunClock } from './local/runLocal.js';
export { readLakeStatus, type LakeStatus } from './commit/lakeStatus.js';
export { shardEntrypoint, shardMain, EXIT_DONE, EXIT_PERMANENT, EXIT_RETRYABLE } from './stages/shardCommand.js';
export type { ShardProgress } from './stages/shardContext.js';
