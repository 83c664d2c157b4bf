// Builders for decide() inputs: a lake job at some point of its life and what the operator observes.
import type { LakeJobSpecInput, LakeJobStatus, SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { defaultedSpec } from '../../operator/src/crd/crd.js';
import { FINALIZER, DEFAULT_DECIDE_CONFIG, type DecideConfig } from '../../operator/src/run/decide.js';
import { runIdFor, specHash } from '../../operator/src/run/identity.js';
import type { BuildReceiptSummary, JobView, Observed, RunObservation, ScanReceiptSummary } from '../../operator/src/run/observed.js';
import { resolveStorage, type ResolvedStorage } from '../../operator/src/run/storage.js';

export const NOW = new Date('2026-03-01T12:00:00.000Z');
export const UID = '6f1c7c3e-0000-4000-8000-000000000001';
export const CONFIG: DecideConfig = { ...DEFAULT_DECIDE_CONFIG, defaultImage: 'ghcr.io/sparkify/sparkify-lake-job-runner:0.1.0' };

export const baseSpec: LakeJobSpecInput = {
  source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' },
  output: 's3://lake/sparkify/',
  storage: { endpoint: 'http://minio:9000', forcePathStyle: true, credentialsSecret: 'lake-s3' },
  sharding: { targetShardBytes: '64Mi', maxShards: 50, parallelism: 4 },
};

export function lakeJob(opts: { spec?: Partial<LakeJobSpecInput>; status?: LakeJobStatus; generation?: number; finalizers?: string[]; deleting?: boolean; name?: string } = {}): SparkifyLakeJob {
  const spec = defaultedSpec({ ...baseSpec, ...opts.spec } as LakeJobSpecInput);
  return {
    apiVersion: 'lake.sparkify.io/v1alpha1',
    kind: 'SparkifyLakeJob',
    metadata: {
      name: opts.name ?? 'nightly',
      namespace: 'analytics',
      uid: UID,
      generation: opts.generation ?? 1,
      resourceVersion: '100',
      finalizers: opts.finalizers ?? [FINALIZER],
      ...(opts.deleting ? { deletionTimestamp: '2026-03-01T11:59:00Z' } : {}),
    },
    spec,
    ...(opts.status ? { status: opts.status } : {}),
  };
}

/** The lake job's own spec.storage resolved without operator defaults (it names its Secret). */
export function storageOf(job: SparkifyLakeJob): ResolvedStorage {
  const r = resolveStorage(job.spec.storage, {});
  if (!r) throw new Error('fixture lake job without a credentials Secret');
  return r;
}

/** The run id decide() gives a lake job at a generation. */
export function runOf(job: SparkifyLakeJob): string {
  return runIdFor(job.metadata.uid, job.metadata.generation, job.spec.rerunToken);
}

/** A status naming the job's current run, in a phase. */
export function statusAt(job: SparkifyLakeJob, phase: LakeJobStatus['phase'], extra: Partial<LakeJobStatus> = {}): LakeJobStatus {
  return { observedGeneration: job.metadata.generation, phase, runId: runOf(job), specHash: specHash(job.spec), output: job.spec.output, startTime: '2026-03-01T11:00:00.000Z', ...extra };
}

export function withStatus(job: SparkifyLakeJob, status: LakeJobStatus): SparkifyLakeJob {
  return { ...job, status };
}

export function jobView(runId: string, stage: 'scan' | 'build', o: Partial<JobView> = {}): JobView {
  return {
    name: `nightly-${runId}-${stage}`,
    uid: `uid-${stage}`,
    runId,
    stage,
    deleting: false,
    suspended: false,
    completions: 8,
    active: 2,
    ready: 2,
    terminating: 0,
    succeeded: 0,
    failed: 0,
    failedIndexes: [],
    complete: false,
    failure: null,
    startTime: '2026-03-01T11:01:00.000Z',
    ...o,
  };
}

export function scanReceipts(indexes: number[], perShard = { read: 1000, accepted: 990, rejected: 10 }): Map<number, ScanReceiptSummary> {
  return new Map(indexes.map((i) => [i, { index: i, ...perShard }]));
}

export function buildReceipts(indexes: number[]): Map<number, BuildReceiptSummary> {
  return new Map(
    indexes.map((i) => [
      i,
      { index: i, tables: { songplays: { partitions: 1, rows: 100, bytes: 5000, files: 1 }, time: { partitions: 1, rows: 90, bytes: 2000, files: 1 }, ...(i === 0 ? { songs: { partitions: 3, rows: 71, bytes: 3000, files: 3 }, artists: { partitions: 1, rows: 69, bytes: 2000, files: 1 }, users: { partitions: 1, rows: 97, bytes: 2500, files: 1 } } : {}) } },
    ]),
  );
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function run(runId: string, o: Partial<RunObservation> = {}): RunObservation {
  return {
    runId,
    scanPlan: null,
    scanReceipts: new Map(),
    quality: null,
    buildPlan: null,
    buildReceipts: new Map(),
    committed: false,
    failures: [],
    ...o,
  };
}

export const scanPlan = { shards: 8, inputObjects: 101, inputBytes: 4_000_000, skew: 1.0312 };
export const buildPlan = { shards: 4, inputObjects: 0, inputBytes: 900_000, skew: 1.1, partitions: { songs: 40, artists: 1, users: 1, time: 2, songplays: 2 } };

export function observed(o: Partial<Observed> = {}): Observed {
  return { now: NOW, jobs: [], secret: { state: 'found' }, ...o };
}
