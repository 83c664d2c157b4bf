// Namespace lifecycle, done inside the API server (kube-controller-manager's namespace and
// serviceaccount controllers, folded in because they need nothing but the store):
//
//   Namespace created ──▶ ServiceAccount "default" and ConfigMap "kube-root-ca.crt" created in it
//   Namespace deleted ──▶ phase Terminating ──▶ every object in it deleted (Background) ──▶ when the
//   namespace is empty, "kubernetes" leaves spec.finalizers ──▶ the Namespace is removed
//
// Objects held by finalizers, or pods waiting for their kubelet, keep the namespace Terminating until
// they go; any deletion in a terminating namespace re-checks it.
import { deleteObject } from './deletion.js';
import { rfc3339, type Objects } from './objects.js';
import type { ResourceType } from './registry.js';
import { isObject, jsonEqual, type JsonObject, type KObject } from './types.js';
import type { WatchHub } from './watchHub.js';

export class NamespaceLifecycle {
  private readonly pending = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly objects: Objects,
    private readonly hub: WatchHub,
    private readonly log: (line: string) => void,
    private readonly caPem: string,
  ) {}

  start(): () => void {
    return this.hub.subscribeAll((ev) => {
      if (ev.storageKey === '/namespaces') {
        if (ev.type === 'ADDED') this.populate(ev.object.metadata.name!);
        if (ev.object.metadata.deletionTimestamp && ev.type !== 'DELETED') this.enqueue(ev.object.metadata.name!);
      } else if (ev.type === 'DELETED' && ev.object.metadata.namespace) {
        const ns = this.objects.store.get('/namespaces', undefined, ev.object.metadata.namespace);
        if (ns?.metadata.deletionTimestamp) this.enqueue(ns.metadata.name!);
      }
      // A deleted "default" ServiceAccount or root CA ConfigMap comes back, as their controllers do.
      const name = ev.object.metadata.name;
      if (ev.type === 'DELETED' && ((ev.storageKey === '/serviceaccounts' && name === 'default') || (ev.storageKey === '/configmaps' && name === 'kube-root-ca.crt'))) {
        const ns = this.objects.store.get('/namespaces', undefined, ev.object.metadata.namespace!);
        if (ns && !ns.metadata.deletionTimestamp) setImmediate(() => this.populate(ns.metadata.name!));
      }
    });
  }

  private typeFor(storageKey: string): ResourceType | undefined {
    const all = this.objects.registry.byStorage(storageKey);
    return all.find((t) => !t.representation) ?? all[0];
  }

  /** What every namespace holds: the default ServiceAccount and the cluster CA bundle (root-ca-cert-publisher). */
  populate(namespace: string): void {
    const wanted: [string, string, object][] = [
      ['/serviceaccounts', 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }],
      ['/configmaps', 'kube-root-ca.crt', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }, data: { 'ca.crt': this.caPem } }],
    ];
    for (const [key, name, body] of wanted) {
      if (this.objects.store.get(key, namespace, name)) continue;
      try {
        this.objects.create(this.typeFor(key)!, namespace, body);
      } catch (e) {
        this.log(`namespace lifecycle: ${name} in ${namespace}: ${(e as Error).message}`);
      }
    }
  }

  private enqueue(name: string): void {
    this.pending.add(name);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const names = [...this.pending];
      this.pending.clear();
      for (const n of names) {
        try {
          this.finalize(n);
        } catch (e) {
          this.log(`namespace lifecycle: ${n}: ${(e as Error).message}`);
        }
      }
    });
  }

  private finalize(name: string): void {
    const nsType = this.typeFor('/namespaces')!;
    const stored = this.objects.store.get('/namespaces', undefined, name);
    if (!stored?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const key of this.objects.store.keysWithObjectsIn(name)) {
      const rt = this.typeFor(key);
      for (const { object } of this.objects.store.list(key, name)) {
        remaining++;
        if (!rt || object.metadata.deletionTimestamp) continue;
        try {
          deleteObject(this.objects, rt, name, object.metadata.name!, { propagationPolicy: 'Background' });
        } catch (e) {
          this.log(`namespace lifecycle: deleting ${key} ${name}/${object.metadata.name}: ${(e as Error).message}`);
        }
      }
    }
    const left = this.objects.store.keysWithObjectsIn(name).length;
    const ns = this.objects.toExternal(nsType, stored);
    const status = left > 0 ? 'True' : 'False';
    const prev = ((isObject(ns.status) && Array.isArray(ns.status.conditions) ? ns.status.conditions : []) as JsonObject[]).find((c) => c.type === 'NamespaceContentRemaining');
    const conditions = [
      {
        type: 'NamespaceContentRemaining',
        status,
        lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : rfc3339(this.objects.now()),
        reason: left > 0 ? 'SomeResourcesRemain' : 'ContentRemoved',
        message: left > 0 ? `Some resources are remaining: ${remaining} objects` : 'All content successfully removed',
      },
    ];
    const next: KObject = { ...ns, status: { ...(isObject(ns.status) ? ns.status : {}), phase: 'Terminating', conditions } };
    if (left === 0) next.spec = { ...(ns.spec as JsonObject), finalizers: ((ns.spec as { finalizers?: string[] })?.finalizers ?? []).filter((f) => f !== 'kubernetes') };
    if (!jsonEqual(next, ns)) this.objects.writeInternal(nsType, next, stored);
  }
}
