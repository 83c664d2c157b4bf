// DELETE semantics of the generic registry:
//
//   DELETE ──▶ preconditions (uid, resourceVersion) ──▶ propagationPolicy → GC finalizers
//     │            Orphan: + "orphan"      Foreground: + "foregroundDeletion"      Background: neither
//     ├─ finalizers left, or a pod's grace period pending ──▶ set deletionTimestamp, keep the object (200)
//     └─ otherwise ──────────────────────────────────────────▶ remove it (DELETED event)
//
// The object leaves storage later, when an update removes its last finalizer (objects.ts:
// readyToRemove) or the kubelet confirms a pod's termination with gracePeriodSeconds=0. Removing
// dependents (ownerReferences) is the garbage collector's job, a controller outside this server.
import { ApiError, badRequest, conflict, forbidden, status } from './errors.js';
import { rfc3339, readyToRemove, type Objects } from './objects.js';
import type { ResourceType } from './registry.js';
import { clone, isObject, jsonEqual, type KObject, type Status } from './types.js';

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export interface DeleteResult {
  /** What the response carries: the object, or a Success Status for most built-ins once gone. */
  body: KObject | Status;
  deleted: boolean;
}

export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const b = isObject(body) ? body : {};
  const opts: DeleteOptions = {};
  const policy = (b.propagationPolicy ?? query.get('propagationPolicy') ?? undefined) as string | undefined;
  if (policy !== undefined && policy !== null) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy))
      throw new ApiError(status(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`));
    opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  }
  const orphan = b.orphanDependents ?? query.get('orphanDependents');
  if (orphan !== undefined && orphan !== null) opts.orphanDependents = orphan === true || orphan === 'true';
  const grace = b.gracePeriodSeconds ?? query.get('gracePeriodSeconds');
  if (grace !== undefined && grace !== null && grace !== '') {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`invalid gracePeriodSeconds: ${String(grace)}`);
    opts.gracePeriodSeconds = n;
  }
  if (isObject(b.preconditions)) opts.preconditions = b.preconditions as DeleteOptions['preconditions'];
  const dryRun = b.dryRun ?? query.getAll('dryRun');
  if (Array.isArray(dryRun) && dryRun.includes('All')) opts.dryRun = true;
  return opts;
}

function successStatus(rt: ResourceType, o: KObject): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: o.metadata.name, group: rt.group || undefined, kind: rt.plural, uid: o.metadata.uid }, code: 200 };
}

export function deleteObject(objects: Objects, rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions): DeleteResult {
  const gr = { group: rt.group, resource: rt.plural };
  const stored = objects.getStored(rt, namespace, name);
  const current = objects.toExternal(rt, stored);
  const m = current.metadata;
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== m.uid) throw conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid}`);
  if (pre.resourceVersion && pre.resourceVersion !== m.resourceVersion)
    throw conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`);
  if (rt.storageKey === '/namespaces' && IMMORTAL_NAMESPACES.includes(name)) throw forbidden(gr, name, 'this namespace may not be deleted');

  const next = clone(current);
  const nm = next.metadata;
  let finalizers = [...(nm.finalizers ?? [])];
  const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
  const effective = policy ?? (nm.deletionTimestamp ? undefined : rt.defaultPropagation);
  if (effective === 'Orphan') finalizers = [...finalizers.filter((f) => f !== 'foregroundDeletion'), ...(finalizers.includes('orphan') ? [] : ['orphan'])];
  else if (effective === 'Foreground') finalizers = [...finalizers.filter((f) => f !== 'orphan'), ...(finalizers.includes('foregroundDeletion') ? [] : ['foregroundDeletion'])];
  else if (policy === 'Background') finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
  if (finalizers.length > 0) nm.finalizers = finalizers;
  else delete nm.finalizers;

  const now = objects.now();
  if (rt.storageKey === '/namespaces') {
    // Namespace deletion is two-phase: Terminating until its content is gone (namespaceLifecycle.ts).
    nm.deletionTimestamp ??= rfc3339(now);
    nm.deletionGracePeriodSeconds = 0;
    next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
  } else if (rt.gracefulDelete && !nm.deletionTimestamp) {
    const phase = (next.status as { phase?: string } | undefined)?.phase;
    const nodeName = (next.spec as { nodeName?: string } | undefined)?.nodeName;
    const fromSpec = (next.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds;
    let grace = opts.gracePeriodSeconds ?? fromSpec ?? 30;
    // Pods never bound to a node, or already finished, have nothing to stop: delete at once.
    if (!nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    if (grace < 0) grace = 1;
    nm.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
    nm.deletionGracePeriodSeconds = grace;
  } else if (nm.deletionTimestamp) {
    // Already being deleted: a shorter grace period (the kubelet's final DELETE with 0) finishes it.
    const g = opts.gracePeriodSeconds;
    if (g !== undefined && g < (nm.deletionGracePeriodSeconds ?? 0)) {
      nm.deletionGracePeriodSeconds = g;
      nm.deletionTimestamp = rfc3339(new Date(now.getTime() + g * 1000));
    }
  } else {
    nm.deletionTimestamp = rfc3339(now);
    nm.deletionGracePeriodSeconds = 0;
  }

  if (readyToRemove(rt, next)) {
    if (opts.dryRun) return { body: rt.returnDeletedObject ? current : successStatus(rt, current), deleted: true };
    const gone = objects.removeInternal(rt, stored);
    return { body: rt.returnDeletedObject ? objects.toExternal(rt, gone) : successStatus(rt, current), deleted: true };
  }
  if (!current.metadata.deletionTimestamp && rt.generation) nm.generation = (nm.generation ?? 0) + 1;
  if (opts.dryRun || jsonEqual(next, current)) return { body: opts.dryRun ? next : current, deleted: false };
  const written = objects.writeInternal(rt, next, stored);
  return { body: objects.toExternal(rt, written), deleted: false };
}
