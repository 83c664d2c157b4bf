// The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets,
// ReplicationControllers and custom resources that declare subresources.scale (`kubectl scale`).
import { jsonPathValues } from './jsonpath.js';
import type { ResourceType } from './registry.js';
import { isObject, type JsonObject, type KObject } from './types.js';

function paths(rt: ResourceType): { spec: string[]; status: string[]; selector?: string } {
  if (rt.crd?.scale) {
    const split = (p: string) => p.replace(/^\./, '').split('.');
    return { spec: split(rt.crd.scale.specReplicasPath), status: split(rt.crd.scale.statusReplicasPath), selector: rt.crd.scale.labelSelectorPath };
  }
  return { spec: ['spec', 'replicas'], status: ['status', 'replicas'] };
}

const get = (o: unknown, p: string[]): unknown => p.reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), o);

function selectorString(rt: ResourceType, o: KObject, selectorPath?: string): string {
  if (selectorPath) return String(jsonPathValues(selectorPath, o)[0] ?? '');
  const sel = get(o, ['spec', 'selector']);
  if (!isObject(sel)) return '';
  const parts = Object.entries((sel.matchLabels as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of (sel.matchExpressions as JsonObject[]) ?? []) {
    const vals = ((e.values as string[]) ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(String(e.key));
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export function toScale(rt: ResourceType, o: KObject): KObject {
  const p = paths(rt);
  const m = o.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(get(o, p.spec) ?? 0) },
    status: { replicas: Number(get(o, p.status) ?? 0), selector: selectorString(rt, o, p.selector) },
  };
}

/** The parent object with `scale.spec.replicas` written into its replicas field. */
export function withReplicas(rt: ResourceType, o: KObject, replicas: number): KObject {
  const p = paths(rt).spec;
  const next = structuredClone(o) as KObject;
  let cur: JsonObject = next as unknown as JsonObject;
  for (const k of p.slice(0, -1)) {
    if (!isObject(cur[k])) cur[k] = {};
    cur = cur[k] as JsonObject;
  }
  cur[p[p.length - 1]!] = replicas;
  return next;
}
