// The Deployment controller's decision (Kubernetes' pkg/controller/deployment, simplified): one
// ReplicaSet per pod template (named <deployment>-<pod-template-hash>), a rolling replacement
// bounded by maxSurge/maxUnavailable (or Recreate), history trimmed to revisionHistoryLimit, and
// the status fields and conditions that `kubectl rollout status` and `helm install --wait` read.
//
//   template changed ──▶ new RS (revision+1) ──▶ scale new up within maxSurge
//          ──▶ scale old down within maxUnavailable ──▶ … ──▶ Progressing=True NewReplicaSetAvailable
import type { Condition, Deployment, DeploymentStatus, ReplicaSet } from '../client/types.js';
import { canonicalJson, deepClone, nowIso, sameJson } from './podState.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

export interface DeploymentPlan {
  createReplicaSet?: ReplicaSet;
  /** Whole ReplicaSets to write back (replicas or annotations changed). */
  updateReplicaSets: ReplicaSet[];
  deleteReplicaSets: ReplicaSet[];
  status?: DeploymentStatus;
  requeueAfterMs?: number;
}

/** 32-bit FNV-1a of the template's canonical JSON (and the collision count), encoded like Kubernetes' hash label. */
export function podTemplateHash(d: Deployment): string {
  let h = 0x811c9dc5;
  const text = canonicalJson(d.spec.template) + (d.status?.collisionCount ? `#${d.status.collisionCount}` : '');
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (const ch of String(h)) out += alphabet[ch.charCodeAt(0) % alphabet.length];
  return out;
}

function withoutHash(rs: ReplicaSet): unknown {
  const t = deepClone(rs.spec.template);
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return t;
}

/** The ReplicaSet whose template is the Deployment's (ignoring the hash label), oldest first. */
export function findNewReplicaSet(d: Deployment, owned: ReplicaSet[]): ReplicaSet | undefined {
  const byAge = [...owned].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  return byAge.find((rs) => sameJson(withoutHash(rs), d.spec.template));
}

function resolve(value: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable resolved against the replica count (never both 0). */
export function rollingBounds(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  if ((d.spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = d.spec.strategy?.rollingUpdate;
  const maxSurge = resolve(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolve(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

const revisionOf = (rs: ReplicaSet): number => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const specReplicas = (rs: ReplicaSet): number => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet): number => rs.status?.availableReplicas ?? 0;

export function planDeploymentSync(d: Deployment, owned: ReplicaSet[], now: Date): DeploymentPlan {
  const plan: DeploymentPlan = { updateReplicaSets: [], deleteReplicaSets: [] };
  const desired = d.spec.replicas ?? 1;
  const live = owned.filter((rs) => !rs.metadata.deletionTimestamp);
  let newRS = findNewReplicaSet(d, live);
  const olds = live.filter((rs) => rs !== newRS);
  const maxOldRevision = Math.max(0, ...olds.map(revisionOf));
  const { maxSurge, maxUnavailable } = rollingBounds(d);
  const recreate = d.spec.strategy?.type === 'Recreate';
  const changed = new Map<ReplicaSet, ReplicaSet>();
  const edit = (rs: ReplicaSet): ReplicaSet => {
    if (rs === plan.createReplicaSet) return rs;
    let copy = changed.get(rs);
    if (!copy) {
      copy = deepClone(rs);
      changed.set(rs, copy);
    }
    return copy;
  };
  let progressCondition: Condition | undefined;

  if (!newRS && !d.spec.paused) {
    const hash = podTemplateHash(d);
    const template = deepClone(d.spec.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const name = `${d.metadata.name}-${hash}`;
    newRS = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: { [REVISION]: String(maxOldRevision + 1), [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + maxSurge) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash } },
        template,
      },
      status: { replicas: 0 },
    };
    plan.createReplicaSet = newRS;
    progressCondition = condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`, now);
  } else if (newRS && revisionOf(newRS) <= maxOldRevision) {
    // Rolling back to an earlier template makes its ReplicaSet the newest revision again.
    edit(newRS).metadata.annotations = { ...(newRS.metadata.annotations ?? {}), [REVISION]: String(maxOldRevision + 1) };
  }

  if (newRS && !d.spec.paused) {
    const all = [newRS, ...olds];
    const current = (rs: ReplicaSet) => specReplicas(changed.get(rs) ?? rs);
    if (recreate) {
      // Old pods first: scale every old ReplicaSet to 0 and wait until none of their pods is left.
      for (const rs of olds) if (specReplicas(rs) !== 0) edit(rs).spec.replicas = 0;
      const oldPodsLeft = olds.some((rs) => (rs.status?.replicas ?? 0) > 0 || specReplicas(rs) > 0);
      if (!oldPodsLeft && current(newRS) !== desired) edit(newRS).spec.replicas = desired;
    } else {
      // Scale up the new ReplicaSet within maxSurge …
      const total = all.reduce((n, rs) => n + current(rs), 0);
      let target = current(newRS);
      if (target > desired) target = desired;
      else if (total < desired + maxSurge) target = Math.min(desired, target + (desired + maxSurge - total));
      if (target !== current(newRS)) edit(newRS).spec.replicas = target;
      // … and the old ones down within maxUnavailable: unhealthy replicas first, then available ones.
      const allPods = all.reduce((n, rs) => n + current(rs), 0);
      const minAvailable = desired - maxUnavailable;
      const newUnavailable = Math.max(current(newRS) - available(newRS), 0);
      let budget = allPods - minAvailable - newUnavailable;
      const oldByAge = [...olds].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
      for (const rs of oldByAge) {
        if (budget <= 0) break;
        const cut = Math.min(budget, Math.max(current(rs) - available(rs), 0));
        if (cut > 0) {
          edit(rs).spec.replicas = current(rs) - cut;
          budget -= cut;
        }
      }
      if (budget > 0) {
        let spare = all.reduce((n, rs) => n + available(rs), 0) - minAvailable;
        for (const rs of oldByAge) {
          if (spare <= 0) break;
          const cut = Math.min(current(rs), spare);
          if (cut > 0) {
            edit(rs).spec.replicas = current(rs) - cut;
            spare -= cut;
          }
        }
      }
    }
    // Keep the replica annotations of the new ReplicaSet in step with the Deployment.
    const want = { [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + maxSurge) };
    const ann = (changed.get(newRS) ?? newRS).metadata.annotations ?? {};
    if (newRS !== plan.createReplicaSet && (ann[DESIRED_REPLICAS] !== want[DESIRED_REPLICAS] || ann[MAX_REPLICAS] !== want[MAX_REPLICAS])) {
      edit(newRS).metadata.annotations = { ...ann, ...want };
    }
  }
  plan.updateReplicaSets = [...changed.values()];

  // History: old ReplicaSets scaled to zero beyond revisionHistoryLimit go, oldest first.
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const idle = olds.filter((rs) => specReplicas(changed.get(rs) ?? rs) === 0 && (rs.status?.replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
  if (idle.length > limit) plan.deleteReplicaSets = idle.slice(0, idle.length - limit);

  const status = deploymentStatus(d, newRS, plan, changed, olds, maxUnavailable, progressCondition, now);
  if (status.requeueAfterMs !== undefined) plan.requeueAfterMs = status.requeueAfterMs;
  if (!sameJson(status.status, d.status ?? {})) plan.status = status.status;
  return plan;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, now: Date): Condition {
  const t = nowIso(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** Replaces a condition; the transition time moves only when the status changes. */
function setCondition(list: Condition[], c: Condition): void {
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) return void list.push(c);
  const old = list[i]!;
  if (old.status === c.status && old.reason === c.reason && old.message === c.message) return;
  list[i] = old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
}

function deploymentStatus(d: Deployment, newRS: ReplicaSet | undefined, plan: DeploymentPlan, changed: Map<ReplicaSet, ReplicaSet>, olds: ReplicaSet[], maxUnavailable: number, progress: Condition | undefined, now: Date): { status: DeploymentStatus; requeueAfterMs?: number } {
  const desired = d.spec.replicas ?? 1;
  const all = [...(newRS ? [newRS] : []), ...olds];
  const sum = (f: (rs: ReplicaSet) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas ?? 0);
  const totalSpec = sum((rs) => specReplicas(changed.get(rs) ?? rs));
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas,
    unavailableReplicas: Math.max(totalSpec - availableReplicas, 0),
    conditions: deepClone(d.status?.conditions ?? []),
  };
  if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
  const conds = status.conditions!;
  if (availableReplicas >= desired - maxUnavailable) setCondition(conds, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now));
  else setCondition(conds, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now));

  let requeueAfterMs: number | undefined;
  const rsName = newRS?.metadata.name ?? '';
  const complete = status.updatedReplicas === desired && status.replicas === desired && availableReplicas === desired && plan.createReplicaSet === undefined;
  const prev = conds.find((c) => c.type === 'Progressing');
  const deadline = d.spec.progressDeadlineSeconds ?? 600;
  const progressed = !d.status || (status.updatedReplicas ?? 0) > (d.status.updatedReplicas ?? 0) || (status.readyReplicas ?? 0) > (d.status.readyReplicas ?? 0) || availableReplicas > (d.status.availableReplicas ?? 0) || (status.replicas ?? 0) < (d.status.replicas ?? 0);
  if (progress) setCondition(conds, progress);
  else if (complete && newRS) setCondition(conds, condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, now));
  else if (newRS && (progressed || changed.size > 0 || !prev)) {
    const c = condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, now);
    const i = conds.findIndex((x) => x.type === 'Progressing');
    if (i >= 0 && conds[i]!.status === 'True') conds[i] = { ...c, lastTransitionTime: conds[i]!.lastTransitionTime };
    else if (i >= 0) conds[i] = c;
    else conds.push(c);
  } else if (newRS && prev && prev.status === 'True' && prev.reason !== 'NewReplicaSetAvailable') {
    const since = Date.parse(prev.lastUpdateTime ?? prev.lastTransitionTime ?? '');
    if (Number.isFinite(since)) {
      const left = since + deadline * 1000 - now.getTime();
      if (left <= 0) setCondition(conds, condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, now));
      else requeueAfterMs = left;
    }
  }
  return { status, requeueAfterMs };
}
