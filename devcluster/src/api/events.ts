// core/v1 Event and events.k8s.io/v1 Event are one resource in two shapes (as in kube-apiserver):
// objects are stored in the core shape, and events.k8s.io readers and writers get theirs converted
// field by field, so `kubectl describe` (core) sees what a controller recorded through events.k8s.io.
import type { KObject } from './types.js';

// events.k8s.io/v1 field ↔ core/v1 field
const renames: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];
const shared = ['reason', 'type', 'action', 'eventTime', 'related', 'reportingInstance', 'series'];

function move(from: KObject, to: KObject, pairs: [string, string][]): void {
  for (const [src, dst] of pairs) if (from[src] !== undefined) to[dst] = from[src];
  for (const k of shared) if (from[k] !== undefined) to[k] = from[k];
}

export const eventsV1Representation = {
  toExternal(core: KObject): KObject {
    const out: KObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: core.metadata };
    move(core, out, renames.map(([a, b]) => [b, a]));
    return out;
  },
  toInternal(ext: KObject): KObject {
    const out: KObject = { apiVersion: 'v1', kind: 'Event', metadata: ext.metadata };
    move(ext, out, renames);
    return out;
  },
};

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** Field-selector fields of an Event (stored core shape); `regarding.*` aliases for events.k8s.io readers. */
export function eventFields(o: KObject): Record<string, string> {
  const io = (o.involvedObject ?? {}) as Record<string, unknown>;
  const source = (o.source ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {
    reason: str(o.reason),
    type: str(o.type),
    reportingComponent: str(o.reportingComponent),
    source: str(source.component || o.reportingComponent),
  };
  for (const f of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
    out[`involvedObject.${f}`] = str(io[f]);
    out[`regarding.${f}`] = str(io[f]);
  }
  out.reportingController = out.reportingComponent!;
  return out;
}
