// The Deployment controller's thin layer: it watches Deployments and their ReplicaSets, reads a
// Deployment's ReplicaSets fresh on each sync, and carries out planDeploymentSync's plan.
import { isAlreadyExists, isNotFound } from '../client/apiClient.js';
import { objectKey, type Informer } from '../client/informer.js';
import { DEPLOYMENTS, REPLICASETS } from '../client/resources.js';
import type { Deployment, ReplicaSet } from '../client/types.js';
import { planDeploymentSync } from './deploymentSync.js';
import { eventRecorder, type EventRecorder } from './events.js';
import type { RuntimeControllerOptions } from './jobController.js';
import { controllerRef } from './podState.js';
import { WorkQueue } from './workQueue.js';

export class DeploymentController {
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly now: () => Date;

  constructor(private readonly opts: RuntimeControllerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.deployments = opts.informers.informer<Deployment>(DEPLOYMENTS);
    this.replicaSets = opts.informers.informer<ReplicaSet>(REPLICASETS);
    this.events = eventRecorder(opts.client, 'deployment-controller', this.now, opts.log);
    this.queue = new WorkQueue((key) => this.sync(key), { name: 'deployment-controller', concurrency: 2, scheduler: opts.scheduler, log: opts.log, baseBackoffMs: 20, maxBackoffMs: 5000 });
    this.deployments.on({ add: (d) => this.queue.add(objectKey(d)), update: (_o, d) => this.queue.add(objectKey(d)) });
    const onRS = (rs: ReplicaSet) => {
      const ref = controllerRef(rs);
      if (ref?.kind === 'Deployment' && ref.apiVersion === 'apps/v1') this.queue.add(`${rs.metadata.namespace}/${ref.name}`);
    };
    this.replicaSets.on({ add: onRS, update: (_o, rs) => onRS(rs), delete: onRS });
  }

  async start(): Promise<void> {
    await Promise.all([this.deployments.start(), this.replicaSets.start()]);
    for (const d of this.deployments.list()) this.queue.add(objectKey(d));
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await this.events.flush();
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const client = this.opts.client;
    let d = await client.tryGet<Deployment>(DEPLOYMENTS, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const owned = (await client.list<ReplicaSet>(REPLICASETS, namespace)).items.filter((rs) => controllerRef(rs)?.uid === d!.metadata.uid);
    const plan = planDeploymentSync(d, owned, this.now());
    if (plan.createReplicaSet) {
      try {
        await client.create(REPLICASETS, namespace, plan.createReplicaSet);
        this.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${plan.createReplicaSet.metadata.name} from 0 to ${plan.createReplicaSet.spec.replicas}`);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        // A ReplicaSet of that name with another template: bump collisionCount so the next hash differs.
        const existing = await client.tryGet<ReplicaSet>(REPLICASETS, namespace, plan.createReplicaSet.metadata.name!);
        if (existing && controllerRef(existing)?.uid !== d.metadata.uid) {
          await client.replaceStatus(DEPLOYMENTS, { ...d, status: { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 } });
        }
        throw e;
      }
    }
    for (const rs of plan.updateReplicaSets) {
      const before = owned.find((o) => o.metadata.uid === rs.metadata.uid);
      await client.replace(REPLICASETS, rs);
      const from = before?.spec.replicas ?? 0;
      const to = rs.spec.replicas ?? 0;
      if (from !== to) this.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`);
    }
    for (const rs of plan.deleteReplicaSets) await client.deleteIfExists(REPLICASETS, namespace, rs.metadata.name!);
    if (plan.status) {
      try {
        d = await client.replaceStatus<Deployment>(DEPLOYMENTS, { ...d, status: plan.status });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs);
  }
}
