// Kubernetes Events the way the API server's users expect them: one Event object per distinct
// (object, type, reason, message without timings), and a repeat bumps its `count` and
// `lastTimestamp` instead of creating another object (client-go's EventCorrelator convention;
// `kubectl describe` then shows "(x8 over 4m)").
//
// client-go keeps the count in an in-process LRU and names Events <object>.<timestamp>, so a
// restarted controller starts a second object. Here the name is derived from the key itself, so a
// restarted operator (or the replica taking over) finds the same object: AlreadyExists tells it the
// Event is there, and a PATCH returns its count. The operator's RBAC has events create/patch only,
// so the count is learned from PATCH responses, never from a GET.
import { createHash } from 'node:crypto';
import { API_VERSION, KIND } from '../crd/schema.js';
import type { EventSpec } from '../run/events.js';
import { eventKey } from '../run/events.js';
import { isAlreadyExists, isNotFound, type KubeRest } from './rest.js';

export interface InvolvedObject {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string;
}

/** How the Event was recorded: a new object, or a repeat counted on the existing one. */
export type Recorded = { kind: 'created'; name: string } | { kind: 'counted'; name: string; count: number };

/** Events live at most an hour on a real API server; 4096 keys is client-go's cache size too. */
const MAX_CACHED = 4096;
const MAX_MESSAGE = 1024;
const HASH_CHARS = 16;

/** Deterministic Event name: `<object>.<16 hex of the key>`, within the 253 characters of a name. */
export function eventName(involved: InvolvedObject, e: EventSpec): string {
  const hash = createHash('sha256').update(eventKey(involved.uid, e)).digest('hex').slice(0, HASH_CHARS);
  return `${involved.name.slice(0, 253 - HASH_CHARS - 1)}.${hash}`;
}

interface EventCount {
  count?: number;
}

export class EventRecorder {
  /** Event name → count last written, most recently used last. */
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly rest: KubeRest,
    private readonly component: string,
    private readonly instance: string,
    private readonly maxCached = MAX_CACHED,
  ) {}

  async record(involved: InvolvedObject, e: EventSpec, now: Date): Promise<Recorded> {
    const name = eventName(involved, e);
    const t = now.toISOString();
    // The latest wording (with its timings) replaces the old one; only the key stays fixed.
    const message = e.message.slice(0, MAX_MESSAGE);
    const known = this.counts.get(name);
    if (known !== undefined) {
      try {
        const ev = await this.patch(involved.namespace, name, { count: known + 1, lastTimestamp: t, message });
        return this.counted(name, ev.count ?? known + 1);
      } catch (err) {
        // Expired (the API server's event TTL) or deleted: start a new object below.
        if (!isNotFound(err)) throw err;
        this.counts.delete(name);
      }
    }
    try {
      await this.rest.request('POST', `/api/v1/namespaces/${involved.namespace}/events`, { body: this.body(involved, name, e, message, t) });
      this.remember(name, 1);
      return { kind: 'created', name };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    // Recorded by an earlier process: the first PATCH returns the count, the second adds one.
    const seen = await this.patch(involved.namespace, name, { lastTimestamp: t, message });
    const ev = await this.patch(involved.namespace, name, { count: (seen.count ?? 1) + 1 });
    return this.counted(name, ev.count ?? (seen.count ?? 1) + 1);
  }

  private patch(namespace: string, name: string, body: Record<string, unknown>): Promise<EventCount> {
    return this.rest.request<EventCount>('PATCH', `/api/v1/namespaces/${namespace}/events/${encodeURIComponent(name)}`, { body, contentType: 'application/strategic-merge-patch+json' });
  }

  private counted(name: string, count: number): Recorded {
    this.remember(name, count);
    return { kind: 'counted', name, count };
  }

  private remember(name: string, count: number): void {
    this.counts.delete(name);
    this.counts.set(name, count);
    if (this.counts.size > this.maxCached) this.counts.delete(this.counts.keys().next().value!);
  }

  private body(involved: InvolvedObject, name: string, e: EventSpec, message: string, t: string): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: involved.namespace },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name: involved.name, namespace: involved.namespace, uid: involved.uid, resourceVersion: involved.resourceVersion },
      type: e.type,
      reason: e.reason,
      message,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
    };
  }
}
