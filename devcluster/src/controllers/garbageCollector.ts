// The garbage collector's thin layer. It discovers every listable kind (custom resources included,
// re-discovered when CRDs change), watches them all through shared informers, and keeps an index
// owner uid → dependents. A dependent is (re)considered when it or one of its owners changes; owners
// are always confirmed with a live GET before anything is deleted, so a lagging cache never causes a
// wrong deletion (as upstream's attemptToDeleteItem).
import { ApiClient, isConflict, isNotFound } from '../client/apiClient.js';
import { discoverResources, resourceFor, type DiscoveredResource } from '../client/discovery.js';
import { apiVersionOf, resourcePath, type Resource } from '../client/resources.js';
import type { KubeObject, OwnerReference } from '../client/types.js';
import {
  blockingDependents,
  decideDependent,
  FOREGROUND_FINALIZER,
  isDeletingDependents,
  isOrphaning,
  ORPHAN_FINALIZER,
  ownerStateOf,
  withoutOwner,
  type OwnerState,
} from './garbageCollection.js';
import type { RuntimeControllerOptions } from './jobController.js';
import { canonicalJson } from './podState.js';
import { WorkQueue } from './workQueue.js';

interface Node {
  obj: KubeObject;
  resource: Resource;
}

const CRDS: Resource = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };

/** Kinds the upstream collector ignores too: events never own anything and churn a lot. */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

export interface GarbageCollectorOptions extends RuntimeControllerOptions {
  /** Fallback re-discovery period (CRD changes trigger it at once). */
  rediscoverMs?: number;
}

export class GarbageCollector {
  private readonly nodes = new Map<string, Node>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue: WorkQueue;
  private resources: DiscoveredResource[] = [];
  private readonly watched = new Map<string, Resource>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private rediscovering: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: GarbageCollectorOptions) {
    this.queue = new WorkQueue((uid) => this.sync(uid), { name: 'garbage-collector', concurrency: 4, scheduler: opts.scheduler, log: opts.log, baseBackoffMs: 20, maxBackoffMs: 5000 });
  }

  private get client(): ApiClient {
    return this.opts.client;
  }

  async start(): Promise<void> {
    const initial = await this.rediscover();
    // Wait (bounded) for the first lists, so objects that are garbage already are seen at once.
    await Promise.race([Promise.all(initial), new Promise((r) => setTimeout(r, 10_000).unref())]);
    this.opts.informers.informer(CRDS).on({ add: () => this.scheduleRediscover(), update: () => this.scheduleRediscover(), delete: () => this.scheduleRediscover() });
    this.timer = setInterval(() => this.scheduleRediscover(), this.opts.rediscoverMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.queue.stop();
    await this.rediscovering?.catch(() => undefined);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private scheduleRediscover(): void {
    if (this.stopped || this.rediscovering) return;
    this.rediscovering = this.rediscover()
      .then(() => undefined)
      .catch((e: Error) => this.opts.log?.(`garbage-collector: discovery failed: ${e.message}`))
      .finally(() => (this.rediscovering = undefined));
  }

  /** Watches every kind that is served now and forgets the ones that went away; returns the new informers' syncs. */
  private async rediscover(): Promise<Promise<void>[]> {
    const all = await discoverResources(this.client);
    this.resources = all;
    const wanted = all.filter((r) => r.preferred && ['list', 'watch', 'delete'].every((v) => r.verbs.includes(v)) && !IGNORED.has(`${r.group}/${r.plural}`));
    const keys = new Set(wanted.map((r) => `${r.group}/${r.plural}`));
    for (const [key, r] of this.watched) {
      if (keys.has(key)) continue;
      this.watched.delete(key);
      await this.opts.informers.drop(r);
    }
    const starts: Promise<void>[] = [];
    for (const r of wanted) {
      const key = `${r.group}/${r.plural}`;
      if (this.watched.has(key)) continue;
      this.watched.set(key, r);
      const inf = this.opts.informers.informer<KubeObject>(r);
      inf.on({
        add: (o) => this.observe(o, r),
        update: (_old, o) => this.observe(o, r),
        delete: (o) => this.forget(o),
      });
      for (const o of inf.list()) this.observe(o, r);
      starts.push(inf.start());
    }
    return starts;
  }

  private observe(o: KubeObject, resource: Resource): void {
    const uid = o.metadata.uid;
    if (!uid) return;
    const old = this.nodes.get(uid);
    for (const r of old?.obj.metadata.ownerReferences ?? []) this.dependents.get(r.uid)?.delete(uid);
    this.nodes.set(uid, { obj: { ...o, apiVersion: o.apiVersion ?? apiVersionOf(resource), kind: o.kind ?? resource.kind }, resource });
    const refs = o.metadata.ownerReferences ?? [];
    for (const r of refs) {
      let set = this.dependents.get(r.uid);
      if (!set) this.dependents.set(r.uid, (set = new Set()));
      set.add(uid);
    }
    // Only graph changes matter (status churn does not): new or changed owner references whose owner
    // is not known alive, and changes of the object's own deletion state.
    const refsChanged = !old || canonicalJson(old.obj.metadata.ownerReferences ?? []) !== canonicalJson(refs);
    const ownerInDoubt = refs.some((r) => {
      const owner = this.nodes.get(r.uid)?.obj;
      return !owner || isDeletingDependents(owner);
    });
    if (refsChanged && ownerInDoubt) this.queue.add(uid);
    const deletionChanged = !old || old.obj.metadata.deletionTimestamp !== o.metadata.deletionTimestamp || canonicalJson(old.obj.metadata.finalizers ?? []) !== canonicalJson(o.metadata.finalizers ?? []);
    if (deletionChanged && (isDeletingDependents(o) || isOrphaning(o))) {
      this.queue.add(uid);
      // An owner that started a foreground deletion wakes its dependents.
      if (isDeletingDependents(o)) for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
    }
  }

  private forget(o: KubeObject): void {
    const uid = o.metadata.uid;
    if (!uid) return;
    const node = this.nodes.get(uid);
    this.nodes.delete(uid);
    for (const r of node?.obj.metadata.ownerReferences ?? o.metadata.ownerReferences ?? []) {
      this.dependents.get(r.uid)?.delete(uid);
      // A dependent gone may unblock an owner waiting in foreground deletion.
      if (this.nodes.has(r.uid)) this.queue.add(r.uid);
    }
    // Its dependents may now be garbage.
    for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
  }

  private dependentObjects(uid: string): Node[] {
    return [...(this.dependents.get(uid) ?? [])].map((d) => this.nodes.get(d)).filter((n): n is Node => !!n);
  }

  private async sync(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    const fresh = await this.client.tryGet<KubeObject>(node.resource, node.obj.metadata.namespace, node.obj.metadata.name!);
    if (!fresh || fresh.metadata.uid !== uid) return;

    if (isOrphaning(fresh)) {
      for (const dep of this.dependentObjects(uid)) await this.patchOwnerReferences(dep, withoutOwner(dep.obj, uid));
      await this.removeFinalizer(node.resource, fresh, ORPHAN_FINALIZER);
      return;
    }
    if (isDeletingDependents(fresh)) {
      const deps = this.dependentObjects(uid);
      if (blockingDependents(fresh, deps.map((d) => d.obj)).length === 0) {
        await this.removeFinalizer(node.resource, fresh, FOREGROUND_FINALIZER);
      } else {
        for (const d of deps) this.queue.add(d.obj.metadata.uid!);
      }
      // Non-blocking dependents are collected once the owner is gone; blocking ones wake us on delete.
      if ((fresh.metadata.ownerReferences ?? []).length === 0) return;
    }
    const refs = fresh.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const states = new Map<string, OwnerState>();
    for (const ref of refs) states.set(ref.uid, await this.ownerState(fresh, node.resource, ref));
    const action = decideDependent(fresh, states, (this.dependents.get(uid)?.size ?? 0) > 0);
    if (action.kind === 'delete') {
      try {
        await this.client.delete(node.resource, fresh.metadata.namespace, fresh.metadata.name!, { propagationPolicy: action.propagationPolicy, preconditions: { uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    } else if (action.kind === 'patchOwnerReferences') {
      await this.patchOwnerReferences({ obj: fresh, resource: node.resource }, action.ownerReferences);
    }
  }

  private async ownerState(dependent: KubeObject, dependentResource: Resource, ref: OwnerReference): Promise<OwnerState> {
    const r = resourceFor(this.resources, ref.apiVersion, ref.kind);
    if (!r) {
      // An owner kind the server does not serve (yet): never delete on a guess.
      this.opts.log?.(`garbage-collector: unknown owner kind ${ref.apiVersion} ${ref.kind} of ${dependentResource.plural} ${dependent.metadata.name}`);
      return 'solid';
    }
    const ns = r.namespaced ? dependent.metadata.namespace : undefined;
    const owner = await this.client.tryGet<KubeObject>(r, ns, ref.name);
    return ownerStateOf(ref, owner);
  }

  private async patchOwnerReferences(node: Node, refs: OwnerReference[]): Promise<void> {
    const current = node.obj.metadata.ownerReferences ?? [];
    try {
      await this.client.json('PATCH', resourcePath(node.resource, node.obj.metadata.namespace, node.obj.metadata.name), {
        body: [
          { op: 'test', path: '/metadata/ownerReferences', value: current },
          refs.length > 0 ? { op: 'replace', path: '/metadata/ownerReferences', value: refs } : { op: 'remove', path: '/metadata/ownerReferences' },
        ],
        contentType: 'application/json-patch+json',
      });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  private async removeFinalizer(resource: Resource, obj: KubeObject, finalizer: string): Promise<void> {
    const i = (obj.metadata.finalizers ?? []).indexOf(finalizer);
    if (i < 0) return;
    try {
      await this.client.json('PATCH', resourcePath(resource, obj.metadata.namespace, obj.metadata.name), {
        body: [
          { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
          { op: 'remove', path: `/metadata/finalizers/${i}` },
        ],
        contentType: 'application/json-patch+json',
      });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}
