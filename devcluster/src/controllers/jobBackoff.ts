// Exponential backoff between pod retries (Kubernetes' pkg/controller/job/backoff_utils.go).
// Without backoffLimitPerIndex one record per Job counts failures since the last success; with it,
// each index carries its own count in the `batch.kubernetes.io/job-index-failure-count` annotation
// of its latest failed pod. Delay = base · 2^(failures−1), capped; the real defaults are 10 s and
// 6 min, the dev cluster takes them as configuration so tests can run in milliseconds.
import type { Pod } from '../client/types.js';
import { findCondition } from './podState.js';

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_POD_BACKOFF: BackoffSettings = { baseMs: 10_000, maxMs: 360_000 };

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

export const INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
export const INDEX_IGNORED_FAILURE_COUNT = 'batch.kubernetes.io/job-index-ignored-failure-count';

/** When a pod finished: its containers' latest finishedAt, else Ready=False time, else deletion, else creation. */
export function finishedTime(p: Pod): number {
  const statuses = p.status?.containerStatuses ?? [];
  if (statuses.length > 0) {
    let latest: number | undefined;
    let all = true;
    for (const cs of statuses) {
      const t = cs.state?.terminated?.finishedAt ? Date.parse(cs.state.terminated.finishedAt) : NaN;
      if (!Number.isFinite(t)) {
        all = false;
        break;
      }
      latest = latest === undefined ? t : Math.max(latest, t);
    }
    if (all && latest !== undefined) return latest;
  }
  const ready = findCondition(p.status?.conditions, 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  if (p.metadata.deletionTimestamp) return Date.parse(p.metadata.deletionTimestamp) - (p.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return Date.parse(p.metadata.creationTimestamp ?? '') || 0;
}

/** Folds the pods that finished since the last sync into the Job's record. */
export function nextBackoffRecord(prev: BackoffRecord, newSucceeded: Pod[], newFailed: Pod[]): BackoffRecord {
  if (newSucceeded.length === 0 && newFailed.length === 0) return prev;
  const failedTimes = newFailed.map(finishedTime).sort((a, b) => a - b);
  if (newSucceeded.length === 0) {
    return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes[failedTimes.length - 1] };
  }
  const lastSuccess = Math.max(...newSucceeded.map(finishedTime));
  const after = failedTimes.filter((t) => t > lastSuccess);
  return after.length === 0 ? { failuresAfterLastSuccess: 0 } : { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] };
}

export function remainingBackoffMs(settings: BackoffSettings, failures: number, lastFailureTime: number | undefined, now: number): number {
  if (failures <= 0 || lastFailureTime === undefined) return 0;
  let delay = settings.baseMs;
  for (let i = 1; i < failures; i++) {
    delay *= 2;
    if (delay >= settings.maxMs) {
      delay = settings.maxMs;
      break;
    }
  }
  const elapsed = now - lastFailureTime;
  return delay <= elapsed ? 0 : delay - elapsed;
}

function annotationCount(p: Pod, key: string): number {
  const v = p.metadata.annotations?.[key];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  const n = Number(v);
  return n > 0x7fffffff ? 0 : n;
}

export const indexFailureCount = (p: Pod): number => annotationCount(p, INDEX_FAILURE_COUNT);
export const indexIgnoredFailureCount = (p: Pod): number => annotationCount(p, INDEX_IGNORED_FAILURE_COUNT);

/** Remaining delay before an index whose latest failed pod is `lastFailed` may get a new pod. */
export function remainingIndexBackoffMs(settings: BackoffSettings, lastFailed: Pod | undefined, now: number): number {
  if (!lastFailed) return 0;
  const failures = indexFailureCount(lastFailed) + indexIgnoredFailureCount(lastFailed) + 1;
  return remainingBackoffMs(settings, failures, finishedTime(lastFailed), now);
}
