// manageJob: how many pods a Job should run now and which ones to create or delete (Kubernetes'
// manageJob and activePodsForRemoval), including the Job-level and per-index retry backoff.
import type { Job, Pod } from '../client/types.js';
import { remainingBackoffMs, remainingIndexBackoffMs, type BackoffRecord } from './jobBackoff.js';
import { firstPendingIndexes, mergeIntervals, withIndexes, type Interval } from './jobIndexes.js';
import { completionIndex, isIndexedJob, newJobPod } from './jobPods.js';
import { onlyReplaceFailedPods } from './jobStatus.js';
import type { JobSyncInput, JobSyncPlan } from './jobSync.js';
import { compareForRemoval, isPodReady, isPodTerminating } from './podState.js';

/** Upstream caps pod creations/deletions per sync. */
export const MAX_POD_CHANGES_PER_SYNC = 500;

export interface ManageState {
  activePods: Pod[];
  terminating: number;
  succeeded: number;
  succeededIndexes: Interval[];
  failedIndexes?: Interval[];
  delayedDeletion: Map<number, Pod>;
  backoff: BackoffRecord;
}

/** Creates or deletes pods so that the right number run; returns the new active/terminating/ready counts. */
export function manageJob(job: Job, st: ManageState, input: JobSyncInput, plan: JobSyncPlan, requeue: (ms: number) => void): { active: number; terminating: number; ready: number } {
  let active = st.activePods.length;
  let terminating = st.terminating;
  let ready = st.activePods.filter(isPodReady).length;
  const remove = (victims: Pod[]) => {
    for (const p of victims) {
      plan.deletePods.push({ pod: p, removeFinalizer: true });
      plan.events.push({ type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${p.metadata.name}` });
    }
    active -= victims.length;
    terminating += victims.length;
    ready -= victims.filter(isPodReady).length;
  };

  if (job.spec.suspend) {
    remove(st.activePods);
    return { active, terminating, ready };
  }
  const parallelism = job.spec.parallelism!;
  const completions = job.spec.completions;
  let wantActive: number;
  if (completions === undefined) wantActive = st.succeeded > 0 ? active : parallelism;
  else wantActive = Math.max(0, Math.min(completions - st.succeeded, parallelism));

  const rmAtLeast = Math.max(active - wantActive, 0);
  const victims = podsForRemoval(job, st.activePods, rmAtLeast).slice(0, MAX_POD_CHANGES_PER_SYNC);
  if (victims.length > 0) {
    // Deletion and creation never happen in the same sync; deletion wins (as upstream).
    remove(victims);
    return { active, terminating, ready };
  }

  const blockedByTerminating = onlyReplaceFailedPods(job) ? terminating : 0;
  let diff = Math.min(wantActive - blockedByTerminating - active, MAX_POD_CHANGES_PER_SYNC);
  if (diff <= 0) return { active, terminating, ready };
  const now = input.now.getTime();
  if (job.spec.backoffLimitPerIndex === undefined) {
    const wait = remainingBackoffMs(input.backoffSettings, st.backoff.failuresAfterLastSuccess, st.backoff.lastFailureTime, now);
    if (wait > 0) {
      requeue(wait);
      return { active, terminating, ready };
    }
  }
  let indexes: number[] | undefined;
  if (isIndexedJob(job)) {
    let covered = withIndexes(st.succeededIndexes, st.activePods.map(completionIndex).filter((i) => i >= 0));
    if (onlyReplaceFailedPods(job)) covered = withIndexes(covered, input.pods.filter(isPodTerminating).map(completionIndex).filter((i) => i >= 0));
    if (st.failedIndexes) covered = mergeIntervals(covered, st.failedIndexes);
    indexes = firstPendingIndexes(covered, diff, completions!);
    if (job.spec.backoffLimitPerIndex !== undefined) {
      const startable: number[] = [];
      let minWait: number | undefined;
      for (const ix of indexes) {
        const wait = remainingIndexBackoffMs(input.backoffSettings, st.delayedDeletion.get(ix), now);
        if (wait === 0) startable.push(ix);
        else minWait = minWait === undefined ? wait : Math.min(minWait, wait);
      }
      if (startable.length === 0 && minWait !== undefined) {
        requeue(minWait);
        return { active, terminating, ready };
      }
      indexes = startable;
    }
    diff = indexes.length;
  }
  for (let i = 0; i < diff; i++) {
    const index = indexes?.[i];
    const pod = newJobPod(job, { index, replaces: index !== undefined ? st.delayedDeletion.get(index) : undefined, random: input.random });
    plan.createPods.push(pod);
    plan.events.push({ type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${pod.metadata.name}` });
  }
  active += diff;
  return { active, terminating, ready };
}

/**
 * Pods to delete: for Indexed Jobs every pod with a missing, out-of-range or duplicated index
 * (keeping the best pod of each index), then more by removal order until rmAtLeast are chosen.
 */
export function podsForRemoval(job: Job, activePods: Pod[], rmAtLeast: number): Pod[] {
  const rm: Pod[] = [];
  let left: Pod[] = activePods;
  if (isIndexedJob(job)) {
    left = [];
    const byIndex = new Map<number, Pod[]>();
    for (const p of activePods) {
      const ix = completionIndex(p);
      if (ix < 0 || ix >= job.spec.completions!) rm.push(p);
      else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
    }
    for (const group of byIndex.values()) {
      const sorted = [...group].sort(compareForRemoval);
      rm.push(...sorted.slice(0, -1));
      left.push(sorted[sorted.length - 1]!);
    }
  }
  if (rm.length < rmAtLeast) rm.push(...[...left].sort(compareForRemoval).slice(0, rmAtLeast - rm.length));
  return rm;
}
