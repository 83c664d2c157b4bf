// The Job controller's decision, as a pure function of the Job, its pods and the time: which pods to
// create and delete, which finalizers to remove, and the status to write. It mirrors Kubernetes
// 1.33's syncJob / manageJob / trackJobStatusAndRemoveFinalizers, including the
// pod-tracking finalizer protocol that makes counting crash-safe:
//
//   pod finished ──▶ uid recorded in status.uncountedTerminatedPods (status write #1)
//                ──▶ finalizer removed from the pod
//                ──▶ uid moved into status.succeeded/failed   (status write #2, finishJobStatus)
//
// and the 1.33 terminal conditions: SuccessCriteriaMet / FailureTarget first, then Complete / Failed
// once no pod is terminating and nothing is left uncounted.
import type { Condition, Job, JobStatus, Pod } from '../client/types.js';
import { finishedTime, indexFailureCount, indexIgnoredFailureCount, nextBackoffRecord, type BackoffRecord, type BackoffSettings } from './jobBackoff.js';
import { formatIndexes, hasIndex, parseIndexes, totalIndexes, withIndexes, type Interval } from './jobIndexes.js';
import { manageJob } from './jobManage.js';
import { completionIndex, hasTrackingFinalizer, isIndexedJob } from './jobPods.js';
import { compactUncounted, countRemoved, ensureCondition, isPodFailed, newCondition, withJobDefaults, type AfterFinalizerRemoval, type JobEvent } from './jobStatus.js';
import { matchPodFailurePolicy } from './podFailurePolicy.js';
import { deepClone, findCondition, isPodActive, isPodReady, isPodTerminating, nowIso } from './podState.js';

/** Upstream caps the pods newly counted per sync. */
export const MAX_UNCOUNTED_PODS = 500;

export interface JobSyncInput {
  job: Job;
  /** Pods whose controller reference is this Job. */
  pods: Pod[];
  now: Date;
  /** The Job's in-memory backoff record (failures since the last success). */
  backoff: BackoffRecord;
  backoffSettings: BackoffSettings;
  random: () => number;
}

export interface PodDeletion {
  pod: Pod;
  /** Suspend and scale-down remove the tracking finalizer first, so those pods are never counted. */
  removeFinalizer: boolean;
}

export interface JobSyncPlan {
  deletePods: PodDeletion[];
  createPods: Pod[];
  /** Written before any finalizer is removed, when set. */
  flushStatus?: JobStatus;
  removeFinalizersFrom: Pod[];
  after: AfterFinalizerRemoval;
  requeueAfterMs?: number;
  backoff: BackoffRecord;
  events: JobEvent[];
}

function validIndex(job: Job, p: Pod): boolean {
  const ix = completionIndex(p);
  return ix >= 0 && ix < job.spec.completions!;
}

export function planJobSync(input: JobSyncInput): JobSyncPlan {
  const job = withJobDefaults(input.job);
  const now = input.now;
  const indexed = isIndexedJob(job);
  const perIndex = indexed && job.spec.backoffLimitPerIndex !== undefined;
  const status: JobStatus = deepClone(job.status ?? {});
  status.conditions ??= [];
  const uncountedSucceeded = new Set(status.uncountedTerminatedPods?.succeeded ?? []);
  const uncountedFailed = new Set(status.uncountedTerminatedPods?.failed ?? []);
  const events: JobEvent[] = [];
  const plan: JobSyncPlan = { deletePods: [], createPods: [], removeFinalizersFrom: [], backoff: input.backoff, events, after: undefined as unknown as AfterFinalizerRemoval };
  const requeue = (ms: number) => {
    plan.requeueAfterMs = plan.requeueAfterMs === undefined ? ms : Math.min(plan.requeueAfterMs, ms);
  };

  const pods = input.pods;
  const activePods = pods.filter(isPodActive);
  let terminating = pods.filter(isPodTerminating).length;
  let ready = activePods.filter(isPodReady).length;
  let active = activePods.length;

  // Pods that finished since the last sync: they still carry the finalizer and are not uncounted yet.
  const valid = (p: Pod) => hasTrackingFinalizer(p) && (!indexed || validIndex(job, p));
  const newSucceededPods = pods.filter((p) => valid(p) && !uncountedSucceeded.has(p.metadata.uid!) && p.status?.phase === 'Succeeded');
  const newFailedPods = pods.filter((p) => valid(p) && !uncountedFailed.has(p.metadata.uid!) && isPodFailed(p, job));
  const nonIgnoredNewFailed = newFailedPods.filter((p) => matchPodFailurePolicy(job, p).countFailed).length;
  let succeeded = (status.succeeded ?? 0) + newSucceededPods.length + uncountedSucceeded.size;
  const failed = (status.failed ?? 0) + nonIgnoredNewFailed + uncountedFailed.size;

  const suspended = job.spec.suspend === true;
  if (!status.startTime && !suspended) status.startTime = nowIso(now);
  plan.backoff = nextBackoffRecord(input.backoff, newSucceededPods, newFailedPods);

  // Terminal criteria, in upstream's order: earlier interim conditions, pod failure policy,
  // backoff limit, active deadline, per-index limits, then success.
  let finished: Condition | undefined = findCondition(status.conditions, 'SuccessCriteriaMet');
  if (finished?.status !== 'True') finished = undefined;
  if (!finished) {
    const target = findCondition(status.conditions, 'FailureTarget');
    if (target?.status === 'True') finished = newCondition('Failed', 'True', target.reason ?? '', target.message ?? '', now);
    else {
      const msg = failJobMessage(job, pods);
      if (msg) finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', msg, now);
    }
  }
  if (!finished) {
    if (failed > job.spec.backoffLimit! || pastBackoffLimitOnFailure(job, pods)) {
      finished = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
    } else if (pastActiveDeadline(job, status, now)) {
      finished = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
    } else if (job.spec.activeDeadlineSeconds !== undefined && !suspended && status.startTime) {
      requeue(Math.max(0, Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now.getTime()));
    }
  }

  let prevSucceededIndexes: Interval[] = [];
  let succeededIndexes: Interval[] = [];
  let failedIndexes: Interval[] | undefined;
  let delayedDeletion = new Map<number, Pod>();
  if (indexed) {
    const completions = job.spec.completions!;
    prevSucceededIndexes = parseIndexes(status.completedIndexes, completions);
    succeededIndexes = withIndexes(prevSucceededIndexes, pods.filter((p) => p.status?.phase === 'Succeeded' && validIndex(job, p) && hasTrackingFinalizer(p)).map(completionIndex));
    succeeded = totalIndexes(succeededIndexes);
    if (perIndex) {
      const prevFailed = status.failedIndexes !== undefined ? parseIndexes(status.failedIndexes, completions) : [];
      failedIndexes = withIndexes(prevFailed, pods.filter((p) => validIndex(job, p) && hasTrackingFinalizer(p) && isIndexFailed(job, p)).map(completionIndex));
      if (!finished) {
        if (job.spec.maxFailedIndexes !== undefined && totalIndexes(failedIndexes) > job.spec.maxFailedIndexes) {
          finished = newCondition('FailureTarget', 'True', 'MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes', now);
        } else if (totalIndexes(failedIndexes) > 0 && totalIndexes(failedIndexes) + succeeded >= completions) {
          finished = newCondition('FailureTarget', 'True', 'FailedIndexes', 'Job has failed indexes', now);
        }
      }
      delayedDeletion = podsWithDelayedDeletion(job, pods, activePods, succeededIndexes, failedIndexes);
    }
  }

  let suspendChanged = false;
  if (finished) {
    // The Job failed (or met its success criteria with pods still running): stop every active pod,
    // keeping finalizers so each one is still counted.
    for (const p of activePods) plan.deletePods.push({ pod: p, removeFinalizer: false });
    active -= activePods.length;
    terminating += activePods.length;
    ready -= activePods.filter(isPodReady).length;
  } else {
    if (!input.job.metadata.deletionTimestamp) {
      const r = manageJob(job, { activePods, terminating, succeeded, succeededIndexes, failedIndexes, delayedDeletion, backoff: plan.backoff }, input, plan, requeue);
      active = r.active;
      terminating = r.terminating;
      ready = r.ready;
    }
    const completions = job.spec.completions;
    const complete = completions === undefined ? succeeded > 0 && active === 0 : succeeded >= completions && active === 0;
    if (complete) {
      finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    } else if (!input.job.metadata.deletionTimestamp) {
      if (suspended) {
        suspendChanged = ensureCondition(status.conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now);
        if (suspendChanged) events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
      } else {
        suspendChanged = ensureCondition(status.conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
        if (suspendChanged) {
          events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
          // activeDeadlineSeconds counts continuous activity: resuming restarts the clock.
          status.startTime = nowIso(now);
        }
      }
    }
  }

  let needsFlush = suspendChanged || active !== (job.status?.active ?? 0) || ready !== job.status?.ready || terminating !== job.status?.terminating || status.startTime !== job.status?.startTime;
  status.active = active;
  status.ready = ready;
  status.terminating = terminating;

  // ---- trackJobStatusAndRemoveFinalizers ----
  const uidsWithFinalizer = new Set(pods.filter(hasTrackingFinalizer).map((p) => p.metadata.uid!));
  if (countRemoved(status, uidsWithFinalizer)) needsFlush = true;
  const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
  const uncSucc = new Set(uncounted.succeeded);
  const uncFail = new Set(uncounted.failed);
  const newSucceededIndexes: number[] = [];
  let capped = false;
  const ordered = indexed ? [...pods].sort((a, b) => completionIndex(a) - completionIndex(b)) : pods;
  for (const p of ordered) {
    if (!hasTrackingFinalizer(p)) continue;
    const considerFailed = isPodFailed(p, job);
    if (!canRemoveFinalizer(job, input.job, finished, p, considerFailed, perIndex, delayedDeletion)) continue;
    plan.removeFinalizersFrom.push(p);
    const uid = p.metadata.uid!;
    if (p.status?.phase === 'Succeeded' && !uncFail.has(uid)) {
      if (indexed) {
        const ix = completionIndex(p);
        if (validIndex(job, p) && !hasIndex(prevSucceededIndexes, ix)) {
          newSucceededIndexes.push(ix);
          needsFlush = true;
        }
      } else if (!uncSucc.has(uid)) {
        uncounted.succeeded.push(uid);
        uncSucc.add(uid);
        needsFlush = true;
      }
    } else if (considerFailed || (finished && finished.type !== 'SuccessCriteriaMet' && finished.type !== 'Complete')) {
      // Once the Job is finished, every pod that did not succeed counts as failed.
      if (!uncFail.has(uid) && (!indexed || validIndex(job, p)) && matchPodFailurePolicy(job, p).countFailed) {
        uncounted.failed.push(uid);
        uncFail.add(uid);
        needsFlush = true;
      }
    }
    if (newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >= MAX_UNCOUNTED_PODS) {
      capped = true;
      break;
    }
  }
  status.uncountedTerminatedPods = compactUncounted(uncounted);
  if (indexed) {
    succeededIndexes = withIndexes(succeededIndexes, newSucceededIndexes);
    const text = formatIndexes(succeededIndexes);
    if (text !== (job.status?.completedIndexes ?? '')) needsFlush = true;
    status.completedIndexes = text;
    status.succeeded = totalIndexes(succeededIndexes);
    if (failedIndexes !== undefined) {
      const f = formatIndexes(failedIndexes);
      if (f !== job.status?.failedIndexes) needsFlush = true;
      status.failedIndexes = f;
    }
  }
  if (finished?.type === 'FailureTarget') {
    status.conditions.push(finished);
    needsFlush = true;
    finished = newCondition('Failed', 'True', finished.reason ?? '', finished.message ?? '', now);
  }
  if (finished?.type === 'SuccessCriteriaMet') {
    if (findCondition(status.conditions, 'SuccessCriteriaMet')?.status !== 'True') {
      status.conditions.push(finished);
      needsFlush = true;
    }
    finished = newCondition('Complete', 'True', finished.reason ?? '', finished.message ?? '', now);
  }
  if (needsFlush) plan.flushStatus = deepClone(status);
  plan.after = { status, finishedCondition: finished, terminating, capped };
  return plan;
}

function failJobMessage(job: Job, pods: Pod[]): string | undefined {
  if (!job.spec.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job, p);
    if (m.failJobMessage) return m.failJobMessage;
  }
  return undefined;
}

function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec.template.spec.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
  }
  return job.spec.backoffLimit === 0 ? restarts > 0 : restarts >= job.spec.backoffLimit!;
}

function pastActiveDeadline(job: Job, status: JobStatus, now: Date): boolean {
  if (job.spec.activeDeadlineSeconds === undefined || !status.startTime || job.spec.suspend) return false;
  return now.getTime() - Date.parse(status.startTime) >= job.spec.activeDeadlineSeconds * 1000;
}

function isIndexFailed(job: Job, p: Pod): boolean {
  if (!isPodFailed(p, job)) return false;
  const m = matchPodFailurePolicy(job, p);
  if (m.action === 'FailIndex') return true;
  return m.countFailed && indexFailureCount(p) >= job.spec.backoffLimitPerIndex!;
}

/**
 * With backoffLimitPerIndex the latest failed pod of a pending index keeps its finalizer until its
 * replacement exists, so the replacement can inherit the index's failure count.
 */
function podsWithDelayedDeletion(job: Job, pods: Pod[], activePods: Pod[], succeeded: Interval[], failedIdx: Interval[]): Map<number, Pod> {
  const activeIndexes = new Set(activePods.map(completionIndex));
  const result = new Map<number, Pod>();
  for (const p of pods) {
    if (!hasTrackingFinalizer(p) || !validIndex(job, p) || !isPodFailed(p, job)) continue;
    const ix = completionIndex(p);
    if (hasIndex(succeeded, ix) || hasIndex(failedIdx, ix) || activeIndexes.has(ix)) continue;
    const prev = result.get(ix);
    const abs = (q: Pod) => indexFailureCount(q) + indexIgnoredFailureCount(q);
    if (!prev || (abs(prev) <= abs(p) && finishedTime(p) >= finishedTime(prev))) result.set(ix, p);
  }
  return result;
}

function canRemoveFinalizer(job: Job, original: Job, finished: Condition | undefined, p: Pod, considerFailed: boolean, perIndex: boolean, delayed: Map<number, Pod>): boolean {
  if (original.metadata.deletionTimestamp || finished || p.status?.phase === 'Succeeded') return true;
  if (!considerFailed) return false;
  if (perIndex) {
    const held = delayed.get(completionIndex(p));
    if (held && held.metadata.uid === p.metadata.uid) return false;
  }
  return true;
}
