// The ReplicaSet controller's thin layer: informers trigger, a sync reads the ReplicaSet and its pods
// fresh, planReplicaSetSync decides, and the plan is carried out.
import { isNotFound } from '../client/apiClient.js';
import { objectKey, type Informer } from '../client/informer.js';
import { selectorToString } from '../client/labels.js';
import { PODS, REPLICASETS } from '../client/resources.js';
import type { Pod, ReplicaSet } from '../client/types.js';
import { eventRecorder, type EventRecorder } from './events.js';
import type { RuntimeControllerOptions } from './jobController.js';
import { controllerRef } from './podState.js';
import { planReplicaSetSync } from './replicaSetSync.js';
import { WorkQueue } from './workQueue.js';

export class ReplicaSetController {
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly now: () => Date;

  constructor(private readonly opts: RuntimeControllerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.replicaSets = opts.informers.informer<ReplicaSet>(REPLICASETS);
    this.pods = opts.informers.informer<Pod>(PODS);
    this.events = eventRecorder(opts.client, 'replicaset-controller', this.now, opts.log);
    this.queue = new WorkQueue((key) => this.sync(key), { name: 'replicaset-controller', concurrency: 2, scheduler: opts.scheduler, log: opts.log, baseBackoffMs: 20, maxBackoffMs: 5000 });
    this.replicaSets.on({ add: (rs) => this.queue.add(objectKey(rs)), update: (_o, rs) => this.queue.add(objectKey(rs)) });
    const onPod = (p: Pod) => {
      const ref = controllerRef(p);
      if (ref?.kind === 'ReplicaSet' && ref.apiVersion === 'apps/v1') this.queue.add(`${p.metadata.namespace}/${ref.name}`);
    };
    this.pods.on({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  async start(): Promise<void> {
    await Promise.all([this.replicaSets.start(), this.pods.start()]);
    for (const rs of this.replicaSets.list()) this.queue.add(objectKey(rs));
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await this.events.flush();
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const client = this.opts.client;
    const rs = await client.tryGet<ReplicaSet>(REPLICASETS, namespace, name);
    if (!rs) return;
    const pods = (await client.list<Pod>(PODS, namespace, { labelSelector: selectorToString(rs.spec.selector) })).items.filter((p) => controllerRef(p)?.uid === rs.metadata.uid);
    const plan = planReplicaSetSync(rs, pods, this.now(), this.opts.random ?? Math.random);
    for (const p of plan.create) {
      await client.create(PODS, namespace, p);
      this.events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
    }
    for (const p of plan.delete) {
      await client.deleteIfExists(PODS, namespace, p.metadata.name!);
      this.events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
    }
    if (plan.status) {
      try {
        await client.replaceStatus(REPLICASETS, { ...rs, status: plan.status });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs);
  }
}
