// The garbage collector's decisions (Kubernetes' pkg/controller/garbagecollector), as pure functions
// of an object, what is known about its owners, and its dependents:
//
//   dependent whose owners are all gone ─────────────▶ delete it (Background, or as its finalizers ask)
//   dependent with a live owner and a gone one ──────▶ drop the dangling ownerReferences
//   owner deleted with propagationPolicy=Foreground ─▶ delete dependents; drop `foregroundDeletion`
//                                                       once no blocking dependent is left
//   owner deleted with propagationPolicy=Orphan ─────▶ strip its ownerReferences from dependents;
//                                                       drop `orphan`
import type { KubeObject, OwnerReference } from '../client/types.js';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

/** What a live lookup says about one owner reference. */
export type OwnerState = 'solid' | 'dangling' | 'waitingForDependentsDeletion';

export type GcAction =
  | { kind: 'none' }
  | { kind: 'delete'; propagationPolicy: 'Background' | 'Foreground' | 'Orphan' }
  | { kind: 'patchOwnerReferences'; ownerReferences: OwnerReference[] };

export const hasFinalizer = (o: KubeObject, f: string): boolean => (o.metadata.finalizers ?? []).includes(f);
export const isDeletingDependents = (o: KubeObject): boolean => !!o.metadata.deletionTimestamp && hasFinalizer(o, FOREGROUND_FINALIZER);
export const isOrphaning = (o: KubeObject): boolean => !!o.metadata.deletionTimestamp && hasFinalizer(o, ORPHAN_FINALIZER);

/** An owner's state from the object a live GET returned (undefined = not found). */
export function ownerStateOf(ref: OwnerReference, found: KubeObject | undefined): OwnerState {
  if (!found || found.metadata.uid !== ref.uid) return 'dangling';
  return isDeletingDependents(found) ? 'waitingForDependentsDeletion' : 'solid';
}

/**
 * attemptToDeleteItem: decide about a dependent given the states of its owners (by owner uid) and
 * whether it has dependents of its own.
 */
export function decideDependent(item: KubeObject, owners: Map<string, OwnerState>, hasDependents: boolean): GcAction {
  const refs = item.metadata.ownerReferences ?? [];
  if (refs.length === 0) return { kind: 'none' };
  // Already going away, unless it is itself waiting on its dependents (then it is handled as an owner).
  if (item.metadata.deletionTimestamp && !isDeletingDependents(item)) return { kind: 'none' };
  const state = (r: OwnerReference) => owners.get(r.uid) ?? 'solid';
  const solid = refs.filter((r) => state(r) === 'solid');
  const dangling = refs.filter((r) => state(r) === 'dangling');
  const waiting = refs.filter((r) => state(r) === 'waitingForDependentsDeletion');
  if (solid.length > 0) {
    if (dangling.length === 0 && waiting.length === 0) return { kind: 'none' };
    // Keep the live owners; forget the dead ones; stop blocking owners that wait for us.
    const kept = refs
      .filter((r) => state(r) !== 'dangling')
      .map((r) => (state(r) === 'waitingForDependentsDeletion' && r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
    return { kind: 'patchOwnerReferences', ownerReferences: kept };
  }
  if (item.metadata.deletionTimestamp) return { kind: 'none' };
  if (waiting.length > 0 && hasDependents) return { kind: 'delete', propagationPolicy: 'Foreground' };
  if (hasFinalizer(item, ORPHAN_FINALIZER)) return { kind: 'delete', propagationPolicy: 'Orphan' };
  if (hasFinalizer(item, FOREGROUND_FINALIZER)) return { kind: 'delete', propagationPolicy: 'Foreground' };
  return { kind: 'delete', propagationPolicy: 'Background' };
}

/** Dependents that hold up a foreground deletion: their reference to the owner has blockOwnerDeletion. */
export function blockingDependents(owner: KubeObject, dependents: KubeObject[]): KubeObject[] {
  return dependents.filter((d) => (d.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.blockOwnerDeletion === true));
}

/** The dependent's ownerReferences without the ones pointing at `ownerUid` (orphaning). */
export function withoutOwner(dependent: KubeObject, ownerUid: string): OwnerReference[] {
  return (dependent.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
}

export function withoutFinalizer(o: KubeObject, f: string): string[] {
  return (o.metadata.finalizers ?? []).filter((x) => x !== f);
}
