// The ReplicaSet controller's decision (Kubernetes' pkg/controller/replicaset): keep exactly
// spec.replicas active pods, deleting the least advanced first, and report counts in status.
import type { Pod, ReplicaSet, ReplicaSetStatus } from '../client/types.js';
import { compareForRemoval, deepClone, generatedName, isPodActive, isPodAvailable, isPodReady, sameJson } from './podState.js';
import { matchesSelector } from '../client/labels.js';

export const MAX_REPLICA_CHANGES_PER_SYNC = 500;

export interface ReplicaSetPlan {
  create: Pod[];
  delete: Pod[];
  /** Status to write, when it differs from the stored one. */
  status?: ReplicaSetStatus;
  /** Re-sync when a pod will become available (minReadySeconds). */
  requeueAfterMs?: number;
}

export function newReplicaSetPod(rs: ReplicaSet, random: () => number): Pod {
  const t = deepClone(rs.spec.template);
  const generateName = `${rs.metadata.name}-`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: generatedName(generateName, random),
      generateName,
      namespace: rs.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      annotations: { ...(t.metadata?.annotations ?? {}) },
      ...(t.metadata?.finalizers ? { finalizers: [...t.metadata.finalizers] } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: t.spec,
  };
}

export function planReplicaSetSync(rs: ReplicaSet, pods: Pod[], now: Date, random: () => number): ReplicaSetPlan {
  const plan: ReplicaSetPlan = { create: [], delete: [] };
  const active = pods.filter(isPodActive);
  const want = rs.spec.replicas ?? 1;
  if (!rs.metadata.deletionTimestamp) {
    const diff = active.length - want;
    if (diff < 0) {
      for (let i = 0; i < Math.min(-diff, MAX_REPLICA_CHANGES_PER_SYNC); i++) plan.create.push(newReplicaSetPod(rs, random));
    } else if (diff > 0) {
      plan.delete = [...active].sort(compareForRemoval).slice(0, Math.min(diff, MAX_REPLICA_CHANGES_PER_SYNC));
    }
  }
  const minReady = rs.spec.minReadySeconds ?? 0;
  const templateLabels = rs.spec.template.metadata?.labels ?? {};
  const status: ReplicaSetStatus = {
    ...(rs.status ?? {}),
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => matchesSelector({ matchLabels: templateLabels }, p.metadata.labels)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation,
  };
  if (minReady > 0) {
    for (const p of active) {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
      if (!ready?.lastTransitionTime || isPodAvailable(p, minReady, now)) continue;
      const wait = Date.parse(ready.lastTransitionTime) + minReady * 1000 - now.getTime();
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(wait, 1));
    }
  }
  if (!sameJson(status, rs.status ?? {})) plan.status = status;
  return plan;
}
