// Job status bookkeeping shared by the Job controller's decisions: defaults, conditions, the second
// status write of the tracking-finalizer protocol (uncounted → counted, then the terminal condition),
// and the TTL after a Job finished.
import type { Condition, Job, JobStatus, Pod } from '../client/types.js';
import { deepClone, findCondition, nowIso } from './podState.js';

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** What status write #2 starts from: the status as flushed, the terminal condition to set, if any. */
export interface AfterFinalizerRemoval {
  status: JobStatus;
  finishedCondition?: Condition;
  terminating: number;
  /** The per-sync cap on newly counted pods was hit: do not declare the Job finished yet. */
  capped: boolean;
}

export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** The API server's defaults, applied again here so a Job stored without them still behaves. */
export function withJobDefaults(job: Job): Job {
  const j = deepClone(job);
  const s = j.spec;
  if (s.completions === undefined && s.parallelism === undefined) {
    s.completions = 1;
    s.parallelism = 1;
  }
  s.parallelism ??= 1;
  s.completionMode ??= 'NonIndexed';
  s.backoffLimit ??= s.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  s.podReplacementPolicy ??= s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  s.suspend ??= false;
  s.template.spec.restartPolicy ??= 'Never';
  return j;
}

export const onlyReplaceFailedPods = (job: Job): boolean => job.spec.podReplacementPolicy === 'Failed' || !!job.spec.podFailurePolicy;

/** Failed, or (unless only failed pods are replaced) being deleted without having succeeded. */
export function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

export function newCondition(type: string, status: 'True' | 'False', reason: string, message: string, now: Date): Condition {
  const t = nowIso(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/** Sets a condition; never adds a False condition that was absent. Returns whether anything changed. */
export function ensureCondition(list: Condition[], type: string, status: 'True' | 'False', reason: string, message: string, now: Date): boolean {
  const existing = list.find((c) => c.type === type);
  if (existing) {
    if (existing.status === status && existing.reason === reason && existing.message === message) return false;
    Object.assign(existing, newCondition(type, status, reason, message, now));
    return true;
  }
  if (status === 'False') return false;
  list.push(newCondition(type, status, reason, message, now));
  return true;
}

/**
 * Status write #2: pods whose finalizer is gone move from uncountedTerminatedPods into the
 * counters; then, if nothing is uncounted and nothing is terminating, the terminal condition.
 * Returns the status to write, or undefined when nothing changed.
 */
export function finishJobStatus(after: AfterFinalizerRemoval, stillWithFinalizer: Set<string>, now: Date): { status?: JobStatus; finished?: Condition; events: JobEvent[] } {
  const status = deepClone(after.status);
  let changed = countRemoved(status, stillWithFinalizer);
  const events: JobEvent[] = [];
  const unc = status.uncountedTerminatedPods;
  const uncountedLeft = (unc?.succeeded?.length ?? 0) + (unc?.failed?.length ?? 0);
  let finished: Condition | undefined;
  if (after.finishedCondition && !after.capped && uncountedLeft === 0 && after.terminating === 0) {
    const c = after.finishedCondition;
    status.conditions ??= [];
    ensureCondition(status.conditions, c.type, 'True', c.reason ?? '', c.message ?? '', now);
    if (c.type === 'Complete') status.completionTime = findCondition(status.conditions, 'Complete')!.lastTransitionTime;
    finished = c;
    changed = true;
    if (c.type === 'Complete') events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    else events.push({ type: 'Warning', reason: c.reason ?? 'Failed', message: c.message ?? '' });
  }
  return { status: changed ? status : undefined, finished, events };
}

/** Empty lists are omitted, as the API server's omitempty does. */
export function compactUncounted(u: { succeeded: string[]; failed: string[] }): NonNullable<JobStatus['uncountedTerminatedPods']> {
  const out: NonNullable<JobStatus['uncountedTerminatedPods']> = {};
  if (u.succeeded.length > 0) out.succeeded = u.succeeded;
  if (u.failed.length > 0) out.failed = u.failed;
  return out;
}

/** Moves uncounted uids whose pods no longer hold the finalizer into the counters. */
export function countRemoved(status: JobStatus, withFinalizer: Set<string>): boolean {
  const unc = status.uncountedTerminatedPods;
  if (!unc) return false;
  let changed = false;
  const keepS = (unc.succeeded ?? []).filter((u) => withFinalizer.has(u));
  if (keepS.length !== (unc.succeeded ?? []).length) {
    status.succeeded = (status.succeeded ?? 0) + (unc.succeeded!.length - keepS.length);
    if (keepS.length > 0) unc.succeeded = keepS;
    else delete unc.succeeded;
    changed = true;
  }
  const keepF = (unc.failed ?? []).filter((u) => withFinalizer.has(u));
  if (keepF.length !== (unc.failed ?? []).length) {
    status.failed = (status.failed ?? 0) + (unc.failed!.length - keepF.length);
    if (keepF.length > 0) unc.failed = keepF;
    else delete unc.failed;
    changed = true;
  }
  return changed;
}

/** TTL after finished: delete now, wait, or nothing to do. */
export function ttlDecision(job: Job, now: Date): { deleteNow: boolean; requeueAfterMs?: number } {
  const ttl = job.spec.ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata.deletionTimestamp || !isJobFinished(job)) return { deleteNow: false };
  const cond = (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const finishedAt = Date.parse(job.status?.completionTime ?? cond?.lastTransitionTime ?? '');
  if (!Number.isFinite(finishedAt)) return { deleteNow: false };
  const expireAt = finishedAt + ttl * 1000;
  return expireAt <= now.getTime() ? { deleteNow: true } : { deleteNow: false, requeueAfterMs: expireAt - now.getTime() };
}
