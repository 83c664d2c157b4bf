// The pods a Job creates, built by a pure function of the Job, the index and the pod being replaced
// (as the Job controller's manageJob does): the template plus the controller's labels, annotations,
// finalizer, owner reference, hostname and the JOB_COMPLETION_INDEX variable.
import type { Job, Pod } from '../client/types.js';
import { INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT, indexFailureCount, indexIgnoredFailureCount } from './jobBackoff.js';
import { matchPodFailurePolicy } from './podFailurePolicy.js';
import { deepClone, generatedName } from './podState.js';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

export const isIndexedJob = (job: Job): boolean => job.spec.completionMode === 'Indexed';

/** The completion index of a pod, from its annotation; -1 when missing or invalid. */
export function completionIndex(p: Pod): number {
  const v = p.metadata.annotations?.[COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  return Number(v);
}

export const hasTrackingFinalizer = (p: Pod): boolean => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

/** The labels the API server adds to a Job's selector and template when it generates the selector. */
export function jobLabels(job: Job): Record<string, string> {
  return {
    [CONTROLLER_UID_LABEL]: job.metadata.uid!,
    [JOB_NAME_LABEL]: job.metadata.name!,
    [LEGACY_CONTROLLER_UID_LABEL]: job.metadata.uid!,
    [LEGACY_JOB_NAME_LABEL]: job.metadata.name!,
  };
}

/** generateName of an index's pods: `<job>-<index>-`, the job name cut so the result fits. */
export function indexedGenerateName(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > 58 ? jobName.slice(0, 58 - suffix.length) + suffix : prefix;
}

/** Failure counts carried to the replacement of `replaced` (backoffLimitPerIndex). */
export function nextIndexFailureCounts(job: Job, replaced: Pod | undefined): { failures: number; ignored: number } {
  if (!replaced) return { failures: 0, ignored: 0 };
  let failures = indexFailureCount(replaced);
  let ignored = indexIgnoredFailureCount(replaced);
  if (job.spec.podFailurePolicy && !matchPodFailurePolicy(job, replaced).countFailed) ignored++;
  else failures++;
  return { failures, ignored };
}

export interface NewPodOptions {
  /** Completion index for Indexed Jobs. */
  index?: number;
  /** The failed pod this one replaces within its index (backoffLimitPerIndex). */
  replaces?: Pod;
  random: () => number;
}

export function newJobPod(job: Job, opts: NewPodOptions): Pod {
  const template = deepClone(job.spec.template);
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}), ...jobLabels(job) };
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  const spec = template.spec;
  let generateName = `${job.metadata.name}-`;
  if (opts.index !== undefined) {
    annotations[COMPLETION_INDEX] = String(opts.index);
    labels[COMPLETION_INDEX] = String(opts.index);
    spec.hostname = `${job.metadata.name}-${opts.index}`;
    generateName = indexedGenerateName(job.metadata.name!, opts.index);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      c.env ??= [];
      if (!c.env.some((e) => e.name === 'JOB_COMPLETION_INDEX')) {
        c.env.push({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } });
      }
    }
    if (job.spec.backoffLimitPerIndex !== undefined) {
      const counts = nextIndexFailureCounts(job, opts.replaces);
      annotations[INDEX_FAILURE_COUNT] = String(counts.failures);
      if (counts.ignored > 0) annotations[INDEX_IGNORED_FAILURE_COUNT] = String(counts.ignored);
    }
  }
  const finalizers = [...(template.metadata?.finalizers ?? [])];
  if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      // The name is generated here with the API server's own scheme so the controller knows it
      // without depending on generateName support; generateName is kept for fidelity.
      name: generatedName(generateName, opts.random),
      generateName,
      namespace: job.metadata.namespace,
      labels,
      annotations,
      finalizers,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name!, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}
