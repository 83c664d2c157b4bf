// Kubernetes Events recorded by the runtime (`kubectl describe job x` shows them), best effort like
// client-go's recorder: a failure to record is logged and never fails the caller.
import type { ApiClient } from '../client/apiClient.js';
import { EVENTS } from '../client/resources.js';
import type { KubeObject } from '../client/types.js';
import { nowIso } from './podState.js';

export interface EventRecorder {
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Resolves when every event issued so far has been written (or failed). */
  flush(): Promise<void>;
}

export function eventRecorder(client: ApiClient, component: string, now: () => Date, log?: (l: string) => void): EventRecorder {
  const pending = new Set<Promise<void>>();
  let seq = 0;
  return {
    event(obj, type, reason, message) {
      const t = now();
      const ns = obj.metadata.namespace ?? 'default';
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${obj.metadata.name}.${(t.getTime() * 1000 + (seq++ % 1000)).toString(16)}`, namespace: ns },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: `${component}-devcluster`,
        firstTimestamp: nowIso(t),
        lastTimestamp: nowIso(t),
        count: 1,
      };
      const p = client
        .create(EVENTS, ns, body)
        .then(() => undefined)
        .catch((e: Error) => log?.(`${component}: could not record event ${reason} for ${ns}/${obj.metadata.name}: ${e.message}`))
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
