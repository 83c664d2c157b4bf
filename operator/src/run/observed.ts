// What one reconcile sees of the world, as plain data: the child Jobs, the Secret, and the current
// run's documents in S3 (plans, receipts, the commit pointer). decide() is a pure function of this.
import type { PlanSummary, QualityVerdict, Stage, TableName } from '../../../job-runner/src/index.js';

export interface JobView {
  name: string;
  uid: string;
  runId: string;
  stage: Stage;
  /** deletionTimestamp set: being torn down (pods may still be running). */
  deleting: boolean;
  suspended: boolean;
  completions: number;
  active: number;
  /** Active pods that are Ready (running); active > 0 with none ready for long means pods cannot start. */
  ready: number;
  /** Pods being stopped (they may still write). */
  terminating: number;
  succeeded: number;
  failed: number;
  failedIndexes: number[];
  /** Complete=True */
  complete: boolean;
  /** Failed=True, with the Job controller's reason and message. */
  failure: { reason: string; message: string } | null;
  startTime?: string;
  completionTime?: string;
}

export type SecretObservation =
  | { state: 'found' }
  | { state: 'missing' }
  | { state: 'incomplete'; missingKeys: string[] }
  | { state: 'forbidden'; message: string };

export interface ScanReceiptSummary {
  index: number;
  read: number;
  accepted: number;
  rejected: number;
}

export interface TableTotals {
  partitions: number;
  rows: number;
  bytes: number;
  files: number;
}

export interface BuildReceiptSummary {
  index: number;
  tables: Partial<Record<TableName, TableTotals>>;
}

/** Why a shard failed, for a message a person can act on. */
export interface ShardFailure {
  stage: Stage;
  index: number;
  /** Human descriptions of what the shard held (input keys with byte ranges, or output units). */
  inputs: string[];
  pod?: string;
  exitCode?: number;
  reason?: string;
  /** Last lines of the pod's log. */
  logTail?: string;
}

/** A pod of the run that cannot start on its own (bad image, missing Secret key, unschedulable). */
export interface StuckPod {
  pod: string;
  reason: string;
  message: string;
}

export interface RunObservation {
  runId: string;
  scanPlan: PlanSummary | null;
  scanReceipts: ReadonlyMap<number, ScanReceiptSummary>;
  /** The engine's reject-ratio verdict, once every scan receipt is present. */
  quality: QualityVerdict | null;
  buildPlan: (PlanSummary & { partitions: Partial<Record<TableName, number>> }) | null;
  buildReceipts: ReadonlyMap<number, BuildReceiptSummary>;
  /** `_lake/current.json` names this run. */
  committed: boolean;
  /** Details of failed indexes of this run's Jobs (read only when a Job reports failures). */
  failures: ShardFailure[];
  /** Pods of the running stage that cannot start (read only when a Job has active but no ready pods). */
  stuckPods?: StuckPod[];
}

export interface Observed {
  now: Date;
  /** Every Job labelled as belonging to this lake job (any run). */
  jobs: JobView[];
  /** The credentials Secret; undefined when it was not needed for this decision. */
  secret?: SecretObservation;
  /** The current run (status.runId) in S3; undefined when there is none or it was not read. */
  run?: RunObservation;
}
