// Small predicates over pods and owners shared by the controllers (Kubernetes' pkg/controller and
// pkg/api/v1/pod helpers).
import type { Condition, KubeObject, OwnerReference, Pod } from '../client/types.js';

export const isTerminalPhase = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Not finished and not being deleted: counts towards a controller's active replicas. */
export const isPodActive = (p: Pod): boolean => !isTerminalPhase(p) && !p.metadata.deletionTimestamp;

/** Being deleted but still running its containers. */
export const isPodTerminating = (p: Pod): boolean => !!p.metadata.deletionTimestamp && !isTerminalPhase(p);

export function findCondition<C extends Condition>(list: C[] | undefined, type: string): C | undefined {
  return list?.find((c) => c.type === type);
}

export const isPodReady = (p: Pod): boolean => findCondition(p.status?.conditions, 'Ready')?.status === 'True';

/** Ready for at least minReadySeconds (the Deployment notion of "available"). */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: Date): boolean {
  const ready = findCondition(p.status?.conditions, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now.getTime();
}

export function controllerRef(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(o: KubeObject, owner: KubeObject): boolean {
  return controllerRef(o)?.uid === owner.metadata.uid;
}

export function restartCount(p: Pod): number {
  return (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Order in which a controller gives up pods when it has too many (controller.ActivePods):
 * unscheduled before scheduled, pending before running, not ready before ready, more restarts
 * before fewer, newer before older.
 */
export function compareForRemoval(a: Pod, b: Pod): number {
  const sa = a.spec.nodeName ? 1 : 0;
  const sb = b.spec.nodeName ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const pa = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ca = restartCount(a);
  const cb = restartCount(b);
  if (ca !== cb) return cb - ca;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return tb - ta;
  return String(a.metadata.name) < String(b.metadata.name) ? -1 : 1;
}

/** Name suffix alphabet and length of the API server's generateName (no vowels, no look-alikes). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(random: () => number, length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length) % ALPHABET.length];
  return s;
}

/** Encodes a number the way Kubernetes' rand.SafeEncodeString does for pod-template-hash. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALPHABET[s.charCodeAt(i) % ALPHABET.length];
  return out;
}

/** Kubernetes' names.SimpleNameGenerator: generateName is cut so the result stays within 63 chars. */
export function generatedName(prefix: string, random: () => number): string {
  const max = 63 - 5;
  return (prefix.length > max ? prefix.slice(0, max) : prefix) + randomSuffix(random);
}

export function deepClone<T>(v: T): T {
  return structuredClone(v);
}

export function nowIso(now: Date): string {
  // Kubernetes timestamps have second precision (metav1.Time) in RFC 3339.
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** JSON with object keys sorted: a stable form for comparing and hashing objects. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
