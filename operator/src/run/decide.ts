// The operator's decisions, as one pure function of what was observed:
//
//   decide(lakeJob, observed, config) → { status, events, actions, requeueAfterMs }
//
// The reconciler writes the status first (when it changed), then records the events, then carries
// out the actions in order. Every action is idempotent and every name is deterministic, so running
// the same decision twice (a crash, a second replica, a stale cache) is harmless.
//
// One run, from the status's point of view:
//
//                 spec change / rerunToken: stop the old run's Jobs, discard its staging
//        ┌──────────────────────────────────────────────────────────────────────────┐
//        v                                                                          │
//   (no run) ──▶ Planning ──▶ Scanning ──▶ Building ──▶ Committing ──▶ Succeeded ───┤
//    Pending        │  plan.json   │ all scan    │ all build              (terminal) │
//  (Invalid,        │  written     │ receipts    │ receipts                          │
//   Suspended)      └──────────────┴──────┬──────┘                                   │
//                   failed shard, too many rejects, missing receipt                  │
//                                         v                                          │
//                             Failed (CleaningUp) ──▶ Failed (terminal) ─────────────┘
//
// Invalid (bad spec, a runner image or S3 endpoint the operator's policy refuses, no or a missing
// Secret, unreachable bucket, a Job the API server refuses) is a
// condition, not a phase: no Job is created while it holds, and it is re-checked every
// `invalidRetryMs` (a spec problem only on the next spec change).
import type { V1Job } from '@kubernetes/client-node';
import { lakeLayout, type Stage } from '../../../job-runner/src/index.js';
import { defaultedSpec } from '../crd/crd.js';
import type { Condition, LakeJobSpec, LakeJobStatus, Phase, SparkifyLakeJob } from '../crd/types.js';
import { missingReceiptsMessage, shardFailureMessage } from './failure.js';
import { runIdFor, specHash } from './identity.js';
import { eventsBetween, STUCK_MARK, type EventSpec } from './events.js';
import { stageJob } from './jobs.js';
import type { JobView, Observed, RunObservation } from './observed.js';
import { conditionsFor, headline, runProgress, sameJson, type Verdicts } from './status.js';
import { resolveStorage, type ResolvedStorage, type StorageDefaults } from './storage.js';
import { defaultRunnerImagePatterns, runnerImageProblem, s3EndpointProblem, secretProblem, storageNotConfigured, validateSpec, type Invalidity } from './validity.js';

export type { EventSpec } from './events.js';

export const FINALIZER = 'lake.sparkify.io/cleanup';

export interface DecideConfig {
  /** Runner image when the spec names none. */
  defaultImage: string;
  /** Runner images a spec may name (validity.ts); absent: any tag or digest of defaultImage's repository. */
  allowedRunnerImages?: readonly string[];
  /** S3 endpoint origins a spec may name; absent or empty: any. */
  allowedS3Endpoints?: readonly string[];
  /** S3 settings for the fields a lake job's spec.storage leaves out (see storage.ts). */
  storageDefaults: StorageDefaults;
  /** Receipts land in S3 without any Kubernetes event: look again this often while a stage runs. */
  pollIntervalMs: number;
  /** How often a missing Secret, a bad bucket or an unreachable endpoint is checked again. */
  invalidRetryMs: number;
  /** A Job reported complete but receipts are missing: give S3 this long before failing the run. */
  receiptGraceMs: number;
  /** While waiting for pods to stop. */
  stopPollMs: number;
}

export const DEFAULT_DECIDE_CONFIG: Omit<DecideConfig, 'defaultImage'> = {
  storageDefaults: {},
  pollIntervalMs: 1500,
  invalidRetryMs: 30_000,
  receiptGraceMs: 30_000,
  stopPollMs: 1000,
};

/** A status (and its events) to write once an action has succeeded. */
export interface Then {
  status: LakeJobStatus;
  events: EventSpec[];
}

export type Action =
  | { type: 'addFinalizer' }
  | { type: 'removeFinalizer' }
  | { type: 'planScan'; runId: string }
  | { type: 'planBuild'; runId: string }
  | { type: 'createJob'; job: V1Job }
  | { type: 'deleteJob'; name: string }
  | { type: 'suspendJob'; name: string; suspend: boolean }
  | { type: 'commit'; runId: string; then: Then }
  | { type: 'discard'; runId: string; output: string; then?: Then };

export interface Decision {
  /** The status the resource should have; written only when it differs from the current one. */
  status?: LakeJobStatus;
  events: EventSpec[];
  actions: Action[];
  /** Reconcile again after this long (0 = at once); undefined = only on the next change. */
  requeueAfterMs?: number;
}

/** Condition reasons of Invalid that come from S3 (set by the planning action, see invalidFromAction). */
export const STORAGE_INVALID_REASONS = ['BucketNotFound', 'AccessDenied', 'StorageUnreachable', 'InputNotFound', 'InvalidStorage'] as const;
/**
 * Condition reasons of Invalid set when the API server refuses a stage Job for good: 422/400 (a
 * runner setting the CRD cannot check, e.g. requests above limits or a malformed affinity) or 403
 * (RBAC, a quota or an admission policy). Retrying at the work queue's pace would hide it.
 */
export const JOB_INVALID_REASONS = ['JobRejected', 'JobForbidden'] as const;
export type ActionInvalidReason = (typeof STORAGE_INVALID_REASONS)[number] | (typeof JOB_INVALID_REASONS)[number];

export function decide(lakeJob: SparkifyLakeJob, observed: Observed, cfg: DecideConfig): Decision {
  const ctx = context(lakeJob, observed, cfg);
  if (lakeJob.metadata.deletionTimestamp) return decideDeletion(ctx);
  if (!lakeJob.metadata.finalizers?.includes(FINALIZER)) return { events: [], actions: [{ type: 'addFinalizer' }], requeueAfterMs: 0 };
  const prev = ctx.prev;
  if (prev.runId && prev.specHash !== ctx.hash) return decideSupersede(ctx, prev.runId);
  if (!prev.runId) return decideStart(ctx);
  return decideRun(ctx, prev.runId);
}

interface Ctx {
  lakeJob: SparkifyLakeJob;
  spec: LakeJobSpec;
  obs: Observed;
  cfg: DecideConfig;
  prev: LakeJobStatus;
  gen: number;
  now: Date;
  hash: string;
  /** spec.storage over the operator's defaults; null when no credentials Secret is named anywhere. */
  storage: ResolvedStorage | null;
}

function context(lakeJob: SparkifyLakeJob, obs: Observed, cfg: DecideConfig): Ctx {
  return {
    lakeJob,
    spec: defaultedSpec(lakeJob.spec),
    obs,
    cfg,
    prev: lakeJob.status ?? {},
    gen: lakeJob.metadata.generation,
    now: obs.now,
    hash: specHash(defaultedSpec(lakeJob.spec)),
    storage: resolveStorage(lakeJob.spec.storage, cfg.storageDefaults),
  };
}

// ── Deletion ────────────────────────────────────────────────────────────────────────────────────
// The finalizer holds the resource until its Jobs are gone (no pod writes any more) and an
// unfinished run's staging data is removed. Committed lake data is never touched.
function decideDeletion(ctx: Ctx): Decision {
  const { lakeJob, obs, prev } = ctx;
  if (!lakeJob.metadata.finalizers?.includes(FINALIZER)) return { events: [], actions: [] };
  const live = obs.jobs.filter((j) => !j.deleting);
  if (obs.jobs.length) {
    return {
      events: live.length ? [{ type: 'Normal', reason: 'Deleting', message: `stopping ${live.map((j) => j.name).join(', ')}` }] : [],
      actions: live.map((j) => ({ type: 'deleteJob', name: j.name })),
      requeueAfterMs: ctx.cfg.stopPollMs,
    };
  }
  const actions: Action[] = [];
  const events: EventSpec[] = [];
  if (prev.runId && prev.phase !== 'Succeeded' && !obs.run?.committed && cleanupPending(prev, obs)) {
    // Deletion must not hang on S3: without credentials (the Secret deleted first, as `kubectl
    // delete -f dir/` often does) the staging data is left behind, and the event says where.
    if (obs.secret?.state === 'found') actions.push({ type: 'discard', runId: prev.runId, output: prev.output ?? ctx.spec.output });
    else events.push({ type: 'Warning', reason: 'DiscardSkipped', message: `${discardBlocker(ctx)}: the staging data of run ${prev.runId} under ${prev.output ?? ctx.spec.output}_lake/runs/${prev.runId}/ was left in place` });
  }
  actions.push({ type: 'removeFinalizer' });
  return { events, actions };
}

function discardBlocker(ctx: Ctx): string {
  if (s3EndpointProblem(ctx.spec.storage?.endpoint, ctx.cfg.storageDefaults.endpoint, ctx.cfg.allowedS3Endpoints ?? [])) return `the operator's policy does not allow the S3 endpoint ${ctx.spec.storage?.endpoint}`;
  return ctx.storage ? `cannot read Secret "${ctx.storage.credentialsSecret}"` : 'no S3 credentials are configured';
}

/** A failed run whose cleanup finished, or a run that never planned, needs no discard. */
function cleanupPending(prev: LakeJobStatus, _obs: Observed): boolean {
  if (prev.phase === 'Failed') return runningReason(prev.conditions) === 'CleaningUp';
  return true;
}

// ── A spec change while a run exists ───────────────────────────────────────────────────────────
// The old run must never commit: its Jobs are deleted (foreground, so the Job objects stay until
// their pods are gone), then its staging is discarded, then the new run starts. status.runId keeps
// naming the old run until then, so a restart in the middle resumes the teardown.
function decideSupersede(ctx: Ctx, oldRunId: string): Decision {
  const { obs, prev } = ctx;
  if (obs.jobs.length) {
    const live = obs.jobs.filter((j) => !j.deleting);
    return {
      events: live.length ? [{ type: 'Normal', reason: 'SpecChanged', message: `spec changed (generation ${ctx.gen}): stopping run ${oldRunId} (${live.map((j) => j.name).join(', ')})` }] : [],
      actions: live.map((j) => ({ type: 'deleteJob', name: j.name })),
      requeueAfterMs: ctx.cfg.stopPollMs,
    };
  }
  const next = decideStart(ctx);
  const oldFinished = prev.phase === 'Succeeded' || (prev.phase === 'Failed' && runningReason(prev.conditions) !== 'CleaningUp');
  // Without credentials the old run's staging cannot be removed; the new run must not wait for that.
  if (oldFinished || obs.run?.committed || obs.secret?.state !== 'found') return next;
  // The new run's status is written only after the old run's data is gone.
  return {
    events: [],
    actions: [{ type: 'discard', runId: oldRunId, output: prev.output ?? ctx.spec.output, then: { status: next.status!, events: next.events } }],
    requeueAfterMs: 0,
  };
}

// ── No run yet: start one when the spec is valid, the Secret exists and nothing is suspended ────
function decideStart(ctx: Ctx): Decision {
  const { spec, prev, now } = ctx;
  const base: LakeJobStatus = { lastSuccessfulRunId: prev.lastSuccessfulRunId };
  const invalid = validateSpec(spec) ?? policyProblem(ctx) ?? accessProblem(ctx);
  if (invalid) {
    return finish(ctx, { ...base, phase: 'Pending' }, { phase: 'Pending', suspended: spec.suspend, invalid, failed: null }, invalid.retry ? ctx.cfg.invalidRetryMs : undefined);
  }
  if (spec.suspend) return finish(ctx, { ...base, phase: 'Pending' }, { phase: 'Pending', suspended: true, invalid: null, failed: null });
  const runId = runIdFor(ctx.lakeJob.metadata.uid, ctx.gen, spec.rerunToken);
  const status: LakeJobStatus = { ...base, phase: 'Planning', runId, specHash: ctx.hash, output: spec.output, startTime: now.toISOString() };
  const d = finish(ctx, status, { phase: 'Planning', suspended: false, invalid: null, failed: null, activity: 'listing the inputs' }, 0);
  d.events.unshift({ type: 'Normal', reason: 'RunStarted', message: `run ${runId} started for generation ${ctx.gen}` });
  return d;
}

// ── The current run ────────────────────────────────────────────────────────────────────────────
function decideRun(ctx: Ctx, runId: string): Decision {
  const { spec, obs, prev, cfg, now } = ctx;
  const jobsOfRun = obs.jobs.filter((j) => j.runId === runId);
  // Jobs of any other run are leftovers (a superseded run, a crash between steps): stop them.
  const strays: Action[] = obs.jobs.filter((j) => j.runId !== runId && !j.deleting).map((j) => ({ type: 'deleteJob', name: j.name }));
  const keep = { runId, specHash: prev.specHash, output: prev.output ?? spec.output, startTime: prev.startTime, lastSuccessfulRunId: prev.lastSuccessfulRunId };

  if (prev.phase === 'Succeeded') {
    const d = finish(ctx, { ...prev }, { ...verdictsOf(prev), suspended: spec.suspend });
    d.actions.push(...strays);
    return d;
  }
  if (prev.phase === 'Failed') return withStrays(decideFailedCleanup(ctx, runId, jobsOfRun), strays);

  const run = obs.run;
  const progress = runProgress(run, obs.jobs, prev.phase ?? 'Planning');
  const status = (phase: Phase): LakeJobStatus => ({ ...keep, phase, ...runProgress(run, obs.jobs, phase) });

  // The policy is checked again mid-run: an operator restarted with a narrower one creates no
  // further Job with an image it no longer allows (the observer sent nothing to such an endpoint).
  const secret = policyProblem(ctx) ?? accessProblem(ctx);
  if (secret || !run) {
    // Without credentials the run cannot be observed: keep what the last status said about it.
    const invalid = secret ?? { reason: 'StorageUnreachable', message: 'the run could not be read from S3', retry: true };
    const kept: LakeJobStatus = { ...prev, ...keep };
    return withStrays(finish(ctx, kept, { phase: prev.phase ?? 'Planning', suspended: spec.suspend, invalid, failed: null }, cfg.invalidRetryMs), strays);
  }

  // A failure ends the run; receipts are the truth, so a stage whose receipts are all present is
  // done whatever its Job says (a pod may fail after writing its receipt).
  const failure = detectFailure(ctx, run, jobsOfRun);
  if (failure) {
    const failed: LakeJobStatus = { ...status(prev.phase ?? 'Planning'), phase: 'Failed', completionTime: now.toISOString() };
    return withStrays(finish(ctx, failed, { phase: 'Failed', suspended: spec.suspend, invalid: null, failed: failure, cleanup: 'CleaningUp' }, 0), strays);
  }

  if (spec.suspend) {
    const actions: Action[] = jobsOfRun.filter((j) => !j.suspended && !finished(j) && !j.deleting).map((j) => ({ type: 'suspendJob', name: j.name, suspend: true }));
    return withStrays(withActions(finish(ctx, { ...keep, phase: prev.phase ?? 'Planning', ...progress }, { phase: prev.phase ?? 'Planning', suspended: true, invalid: null, failed: null }), actions), strays);
  }
  const resume: Action[] = jobsOfRun.filter((j) => j.suspended && !finished(j) && !j.deleting).map((j) => ({ type: 'suspendJob', name: j.name, suspend: false }));

  const verdicts = (phase: Phase, activity: string): Verdicts => ({ phase, suspended: false, invalid: null, failed: null, activity });
  // A run is observed only with a resolved storage and its Secret (accessProblem is null here).
  const storage = ctx.storage!;
  const job = (stage: Stage, shards: number): V1Job => stageJob({ lakeJob: { ...ctx.lakeJob, spec }, storage, runId, stage, shards, defaultImage: cfg.defaultImage });

  // Planning: the scan plan and its task files.
  if (!run.scanPlan) {
    // An S3 problem found by an earlier attempt stays reported (no flapping) until an attempt succeeds.
    const carried = carriedInvalid(ctx, STORAGE_INVALID_REASONS);
    if (carried && carried.retryInMs > 0) return withStrays(finish(ctx, status('Planning'), { ...verdicts('Planning', ''), invalid: carried.invalid }, carried.retryInMs), strays);
    const planning = finish(ctx, status('Planning'), { ...verdicts('Planning', 'listing the inputs and planning the scan'), invalid: carried?.invalid ?? null }, 0);
    return withStrays(withActions(planning, [{ type: 'planScan', runId }]), strays);
  }

  // A stage runs: create its Job if missing (unless the API server refused it and the retry is not
  // due), follow its receipts, give S3 a grace period once the Job says it is complete.
  const runStage = (stage: Stage, phase: Phase, total: number, landed: number): Decision => {
    const existing = jobsOfRun.find((j) => j.stage === stage);
    const activity = `${stage}: ${landed}/${total} shards done${stuckNote(run)}`;
    if (existing) {
      const d = finish(ctx, status(phase), verdicts(phase, activity), cfg.pollIntervalMs);
      if (existing.complete) d.requeueAfterMs = Math.min(cfg.pollIntervalMs, graceLeft(ctx, existing));
      return withStrays(withActions(d, resume), strays);
    }
    // A refusal stays reported (no flapping) until a creation succeeds, like an S3 problem above.
    const carried = carriedInvalid(ctx, JOB_INVALID_REASONS);
    if (carried && carried.retryInMs > 0) return withStrays(finish(ctx, status(phase), { ...verdicts(phase, activity), invalid: carried.invalid }, carried.retryInMs), strays);
    const d = finish(ctx, status(phase), { ...verdicts(phase, activity), invalid: carried?.invalid ?? null }, cfg.pollIntervalMs);
    return withStrays(withActions(d, [{ type: 'createJob', job: job(stage, total) }, ...resume]), strays);
  };

  // Scanning.
  if (run.scanReceipts.size < run.scanPlan.shards) return runStage('scan', 'Scanning', run.scanPlan.shards, run.scanReceipts.size);
  if (!run.quality) return withStrays(finish(ctx, status('Scanning'), verdicts('Scanning', 'checking data quality'), cfg.pollIntervalMs), strays);

  // Planning the build from the scan receipts.
  if (!run.buildPlan) {
    return withStrays(withActions(finish(ctx, status('Building'), verdicts('Building', 'planning the build from the scan receipts'), 0), [{ type: 'planBuild', runId }]), strays);
  }

  // Building.
  if (run.buildReceipts.size < run.buildPlan.shards) return runStage('build', 'Building', run.buildPlan.shards, run.buildReceipts.size);

  // Committing: commitRun is idempotent, so a commit interrupted by a crash is simply run again.
  const committing = finish(ctx, status('Committing'), verdicts('Committing', 'writing the manifest and the commit pointer'), 0);
  const doneStatus: LakeJobStatus = { ...status('Succeeded'), completionTime: now.toISOString(), lastSuccessfulRunId: runId };
  const rows = doneStatus.rows ?? 0;
  const done = finish(ctx, doneStatus, { phase: 'Succeeded', suspended: false, invalid: null, failed: null, succeededMessage: `run ${runId} committed to ${keep.output}: ${rows} rows in ${doneStatus.tables?.length ?? 0} tables` }, undefined, committing.status);
  return withStrays(withActions(committing, [{ type: 'commit', runId, then: { status: done.status!, events: done.events } }]), strays);
}

// A failed run: stop what still runs, wait until no pod can write any more, then discard the run's
// staging data and table files. The failed Jobs themselves stay (their pods and logs are what a
// person will look at) until their ttlSecondsAfterFinished.
function decideFailedCleanup(ctx: Ctx, runId: string, jobsOfRun: JobView[]): Decision {
  const { prev, obs, cfg } = ctx;
  const refreshed = finish(ctx, { ...prev }, { ...verdictsOf(prev), suspended: ctx.spec.suspend });
  if (runningReason(prev.conditions) !== 'CleaningUp') return refreshed;
  const live = jobsOfRun.filter((j) => !finished(j) && !j.deleting);
  const busy = jobsOfRun.some((j) => j.deleting || j.active > 0 || j.terminating > 0 || !finished(j));
  if (live.length || busy) return { ...refreshed, actions: live.map((j) => ({ type: 'deleteJob', name: j.name })), requeueAfterMs: cfg.stopPollMs };
  const cleaned = finish(ctx, { ...prev }, { ...verdictsOf(prev), cleanup: undefined, suspended: ctx.spec.suspend });
  if (obs.run?.committed) return cleaned;
  if (obs.secret?.state !== 'found') return { ...refreshed, requeueAfterMs: cfg.invalidRetryMs }; // no credentials: try again later
  return { ...refreshed, actions: [{ type: 'discard', runId, output: prev.output ?? ctx.spec.output, then: { status: cleaned.status!, events: [] } }], requeueAfterMs: 0 };
}

function detectFailure(ctx: Ctx, run: RunObservation, jobsOfRun: JobView[]): { reason: string; message: string } | null {
  for (const stage of ['scan', 'build'] as const) {
    const plan = stage === 'scan' ? run.scanPlan : run.buildPlan;
    const receipts = stage === 'scan' ? run.scanReceipts : run.buildReceipts;
    if (!plan || receipts.size >= plan.shards) continue;
    const job = jobsOfRun.find((j) => j.stage === stage);
    if (!job) continue;
    if (job.failure || job.failedIndexes.length) {
      const reason = job.failure && !['FailedIndexes', 'MaxFailedIndexesExceeded', 'BackoffLimitExceeded', 'PodFailurePolicy'].includes(job.failure.reason) ? job.failure.reason : 'ShardFailed';
      return { reason, message: shardFailureMessage(job, run.failures.filter((f) => f.stage === stage)) };
    }
    if (job.complete && graceLeft(ctx, job) <= 0) {
      const missing: number[] = [];
      for (let i = 0; i < plan.shards; i++) if (!receipts.has(i)) missing.push(i);
      const uri = `${ctx.prev.output ?? ctx.spec.output}${ctx.prev.output?.endsWith('/') || (!ctx.prev.output && ctx.spec.output.endsWith('/')) ? '' : '/'}${lakeLayout.receiptsPrefix(run.runId, stage)}`;
      return { reason: 'ReceiptMissing', message: missingReceiptsMessage(stage, job.name, missing, uri) };
    }
  }
  if (run.scanPlan && run.scanReceipts.size >= run.scanPlan.shards && run.quality && !run.quality.ok) {
    return { reason: 'RejectRatioExceeded', message: run.quality.message };
  }
  return null;
}

function stuckNote(run: RunObservation): string {
  const stuck = run.stuckPods ?? [];
  if (!stuck.length) return '';
  const first = stuck[0]!;
  return `; ${stuck.length} pod(s) ${STUCK_MARK}: ${first.pod}: ${first.reason}: ${first.message}`;
}

function graceLeft(ctx: Ctx, job: JobView): number {
  const done = job.completionTime ? Date.parse(job.completionTime) : ctx.now.getTime();
  return Math.max(0, done + ctx.cfg.receiptGraceMs - ctx.now.getTime());
}

function finished(j: JobView): boolean {
  return j.complete || j.failure !== null;
}

/** A runner image or an S3 endpoint the operator's policy refuses. Not retried: a spec edit or an operator restart changes it. */
export function policyProblem(ctx: { spec: LakeJobSpec; cfg: DecideConfig }): Invalidity | null {
  const { spec, cfg } = ctx;
  return (
    runnerImageProblem(spec.runner.image, cfg.defaultImage, cfg.allowedRunnerImages ?? defaultRunnerImagePatterns(cfg.defaultImage)) ??
    s3EndpointProblem(spec.storage?.endpoint, cfg.storageDefaults.endpoint, cfg.allowedS3Endpoints ?? [])
  );
}

/** S3 credentials named nowhere, or a Secret that cannot be used. */
function accessProblem(ctx: Ctx): Invalidity | null {
  if (!ctx.storage) return storageNotConfigured(ctx.lakeJob.metadata.namespace);
  return secretProblem(ctx.obs.secret, ctx.storage, ctx.lakeJob.metadata.namespace);
}

/** A refusal met by an action (S3 while planning, the API server creating a Job) stays reported until it is retried after invalidRetryMs. */
function carriedInvalid(ctx: Ctx, reasons: readonly string[]): { invalid: { reason: string; message: string }; retryInMs: number } | null {
  const c = ctx.prev.conditions?.find((x) => x.type === 'Invalid' && x.status === 'True');
  if (!c || !reasons.includes(c.reason ?? '')) return null;
  // The condition keeps its lastTransitionTime while it stays True, so retries are paced by the
  // last transition; a retry that fails again re-arms it through invalidFromAction below.
  const retryInMs = Date.parse(c.lastTransitionTime) + ctx.cfg.invalidRetryMs - ctx.now.getTime();
  return { invalid: { reason: c.reason ?? 'InvalidStorage', message: c.message ?? '' }, retryInMs };
}

/**
 * The status after an action met a permanent refusal: S3 while planning (no bucket, credentials
 * refused, endpoint unreachable, no input) or the API server creating a stage Job (422, 403). An
 * Invalid condition with the actionable message, the phase kept, looked at again after
 * invalidRetryMs.
 */
export function invalidFromAction(lakeJob: SparkifyLakeJob, now: Date, reason: ActionInvalidReason, message: string, cfg: DecideConfig): Decision {
  const ctx = context(lakeJob, { now, jobs: [] }, cfg);
  const prev = ctx.prev;
  // Re-arm the retry timer: drop the old transition time so it restarts now.
  const conditions = prev.conditions?.map((c) => (c.type === 'Invalid' ? { ...c, status: 'False' as const } : c));
  const ctx2: Ctx = { ...ctx, prev: { ...prev, conditions } };
  return finish(ctx2, { ...prev }, { phase: prev.phase ?? 'Planning', suspended: ctx.spec.suspend, invalid: { reason, message }, failed: null }, cfg.invalidRetryMs);
}

// ── Status assembly ────────────────────────────────────────────────────────────────────────────
function finish(ctx: Ctx, body: LakeJobStatus, v: Verdicts, requeueAfterMs?: number, eventsFrom?: LakeJobStatus): Decision {
  const conditions = conditionsFor(v, ctx.prev.conditions, ctx.gen, ctx.now);
  // reason/message are recomputed like the conditions; a carried-over body must not keep old ones.
  const status: LakeJobStatus = stripUndefined({
    ...body,
    observedGeneration: ctx.gen,
    phase: v.phase,
    reason: undefined,
    message: undefined,
    ...headline(conditions),
    conditions,
  });
  return { status, events: eventsBetween(eventsFrom ?? ctx.prev, status), actions: [], ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}

function verdictsOf(prev: LakeJobStatus): Verdicts {
  const failed = prev.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  const ok = prev.conditions?.find((c) => c.type === 'Succeeded' && c.status === 'True');
  return {
    phase: prev.phase ?? 'Pending',
    suspended: false,
    invalid: null,
    failed: failed ? { reason: failed.reason ?? 'Failed', message: failed.message ?? '' } : null,
    ...(runningReason(prev.conditions) === 'CleaningUp' ? { cleanup: 'CleaningUp' as const } : {}),
    ...(ok ? { succeededMessage: ok.message ?? '' } : {}),
  };
}

function runningReason(conditions: readonly Condition[] | undefined): string | undefined {
  return conditions?.find((c) => c.type === 'Running')?.reason;
}

function withActions(d: Decision, actions: Action[]): Decision {
  return { ...d, actions: [...d.actions, ...actions] };
}

function withStrays(d: Decision, strays: Action[]): Decision {
  return strays.length ? { ...d, actions: [...d.actions, ...strays] } : d;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Whether a decision's status differs from what the resource has (the reconciler writes only then). */
export function statusChanged(current: LakeJobStatus | undefined, next: LakeJobStatus | undefined): boolean {
  return next !== undefined && !sameJson(current ?? {}, next);
}
