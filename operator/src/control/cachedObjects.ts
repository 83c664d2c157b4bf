// What the informers keep of each object. The caches hold every lake job and every Job we own for as
// long as they exist, and each watch event replaces the cached copy: whatever is kept is paid for
// once per object in the live heap and again per event in garbage for the old-generation GC. So a
// cached object holds only what the operator reads (docs/operator.md "Scale"):
//
//   object      kept                                             read by
//   lake job    metadata of ObjectMeta (crd/types.ts), spec,     reconcile (observe, decide, status
//               status; not managedFields, not kubectl's          writes), the event fingerprint in
//               last-applied-configuration (a copy of the spec)   controller.ts, activeRuns metric
//   Job         name, namespace, uid, resourceVersion, labels,   jobView (run/jobs.ts), onJob
//               ownerReferences, deletionTimestamp; spec's        (controller.ts)
//               completions, parallelism, suspend; status
//
// Dropped above all: the Job's pod template (containers, env, security context, volumes: most of a
// Job's bytes) and managedFields, which the API server rewrites on every write.
import type { V1Job } from '@kubernetes/client-node';
import type { ObjectMeta, SparkifyLakeJob } from '../crd/types.js';

/** Written by `kubectl apply`: the whole last-applied object, which the operator never reads. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const LAKE_JOB_META: readonly (keyof ObjectMeta)[] = ['name', 'namespace', 'uid', 'generation', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'finalizers', 'labels', 'annotations'];

export function cachedLakeJob(o: SparkifyLakeJob): SparkifyLakeJob {
  const src = o.metadata as ObjectMeta & Record<string, unknown>;
  const metadata = {} as Record<string, unknown>;
  for (const k of LAKE_JOB_META) if (src[k] !== undefined) metadata[k] = src[k];
  if (src.annotations && LAST_APPLIED in src.annotations) {
    const { [LAST_APPLIED]: _lastApplied, ...rest } = src.annotations;
    if (Object.keys(rest).length) metadata.annotations = rest;
    else delete metadata.annotations;
  }
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: metadata as unknown as ObjectMeta, spec: o.spec, ...(o.status ? { status: o.status } : {}) };
}

export function cachedJob(j: V1Job): V1Job {
  const m = j.metadata ?? {};
  const s = j.spec;
  return {
    apiVersion: j.apiVersion,
    kind: j.kind,
    metadata: pick(m, ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'ownerReferences', 'deletionTimestamp']),
    // The template is required by the type, not by any reader of the cache: an empty one stands in.
    ...(s ? { spec: { ...pick(s, ['completions', 'parallelism', 'suspend']), template: {} } } : {}),
    ...(j.status ? { status: j.status } : {}),
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
