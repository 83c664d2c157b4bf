// The Job controller's thin layer: informers on Jobs and Pods only trigger syncs; each sync observes
// the Job and its pods with fresh reads (a quorum list by the controller-uid label, so no
// "expectations" bookkeeping is needed), asks planJobSync what to do, and carries the plan out:
//
//   delete pods ─▶ create pods ─▶ status write #1 ─▶ remove tracking finalizers ─▶ status write #2
//
// Any failed request aborts the sync; the work queue retries it with backoff and the next sync
// re-plans from the world as it then is. Finished Jobs get their TTL handled here too.
import { ApiClient, isConflict, isNotFound } from '../client/apiClient.js';
import { objectKey, type Informer } from '../client/informer.js';
import type { InformerFactory } from '../client/informerFactory.js';
import { JOBS, PODS } from '../client/resources.js';
import type { Job, JobStatus, Pod } from '../client/types.js';
import { eventRecorder, type EventRecorder } from './events.js';
import { DEFAULT_POD_BACKOFF, type BackoffRecord, type BackoffSettings } from './jobBackoff.js';
import { CONTROLLER_UID_LABEL, hasTrackingFinalizer, JOB_TRACKING_FINALIZER } from './jobPods.js';
import { finishJobStatus, isJobFinished, ttlDecision } from './jobStatus.js';
import { planJobSync } from './jobSync.js';
import { controllerRef } from './podState.js';
import { WorkQueue, type Scheduler } from './workQueue.js';

export interface RuntimeControllerOptions {
  client: ApiClient;
  /** Shared informers: controllers only add handlers; the caller starts and stops them. */
  informers: InformerFactory;
  now?: () => Date;
  random?: () => number;
  scheduler?: Scheduler;
  log?: (line: string) => void;
}

export interface JobControllerOptions extends RuntimeControllerOptions {
  /** Backoff between retries of failing pods (Kubernetes: 10 s doubling to 6 min). */
  podBackoff?: BackoffSettings;
  /** Pod events within this window collapse into one sync (Kubernetes: 1 s). */
  syncBatchMs?: number;
}

export class JobController {
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  private readonly queue: WorkQueue;
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly events: EventRecorder;
  private readonly now: () => Date;
  private readonly random: () => number;

  constructor(private readonly opts: JobControllerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    this.jobs = opts.informers.informer<Job>(JOBS);
    this.pods = opts.informers.informer<Pod>(PODS);
    this.events = eventRecorder(opts.client, 'job-controller', this.now, opts.log);
    this.queue = new WorkQueue((key) => this.sync(key), { name: 'job-controller', concurrency: 4, scheduler: opts.scheduler, log: opts.log, baseBackoffMs: 20, maxBackoffMs: 5000 });
    const batch = opts.syncBatchMs ?? 50;
    this.jobs.on({
      add: (j) => this.queue.add(objectKey(j)),
      update: (_o, j) => this.queue.add(objectKey(j)),
      delete: (j) => {
        this.queue.add(objectKey(j));
        // Pods of a deleted Job lose their tracking finalizer so they can go away.
        for (const p of this.pods.list(j.metadata.namespace)) if (controllerRef(p)?.uid === j.metadata.uid && hasTrackingFinalizer(p)) this.queue.add(`orphan:${objectKey(p)}`);
      },
    });
    const onPod = (p: Pod) => {
      const ref = controllerRef(p);
      if (ref?.kind === 'Job' && ref.apiVersion === 'batch/v1') {
        const job = this.jobs.get(p.metadata.namespace, ref.name);
        if (job && job.metadata.uid === ref.uid) return this.queue.addAfter(`${p.metadata.namespace}/${ref.name}`, batch);
      }
      if (hasTrackingFinalizer(p)) this.queue.add(`orphan:${objectKey(p)}`);
    };
    this.pods.on({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  async start(): Promise<void> {
    await Promise.all([this.jobs.start(), this.pods.start()]);
    for (const j of this.jobs.list()) this.queue.add(objectKey(j));
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await this.events.flush();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async sync(key: string): Promise<void> {
    if (key.startsWith('orphan:')) return this.syncOrphanPod(key.slice('orphan:'.length));
    const [namespace, name] = key.split('/') as [string, string];
    const client = this.opts.client;
    let job = await client.tryGet<Job>(JOBS, namespace, name);
    if (!job) {
      this.backoff.delete(key);
      return;
    }
    if (job.spec.managedBy && job.spec.managedBy !== 'kubernetes.io/job-controller') return;
    const pods = (await client.list<Pod>(PODS, namespace, { labelSelector: `${CONTROLLER_UID_LABEL}=${job.metadata.uid}` })).items.filter((p) => controllerRef(p)?.uid === job!.metadata.uid);

    if (isJobFinished(job)) {
      this.backoff.delete(key);
      for (const p of pods) if (hasTrackingFinalizer(p)) await this.removeFinalizer(p);
      const ttl = ttlDecision(job, this.now());
      if (ttl.deleteNow) {
        // As the TTL-after-finished controller: foreground deletion, guarded by the Job's uid.
        await client.delete(JOBS, namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } }).catch((e) => {
          if (!isNotFound(e) && !isConflict(e)) throw e;
        });
      } else if (ttl.requeueAfterMs !== undefined) this.queue.addAfter(key, ttl.requeueAfterMs);
      return;
    }

    const plan = planJobSync({ job, pods, now: this.now(), backoff: this.backoff.get(key) ?? { failuresAfterLastSuccess: 0 }, backoffSettings: this.opts.podBackoff ?? DEFAULT_POD_BACKOFF, random: this.random });
    for (const d of plan.deletePods) {
      if (d.removeFinalizer && hasTrackingFinalizer(d.pod)) await this.removeFinalizer(d.pod);
      await client.deleteIfExists(PODS, namespace, d.pod.metadata.name!);
    }
    for (const p of plan.createPods) {
      try {
        await client.create(PODS, namespace, p);
      } catch (e) {
        // A namespace being torn down refuses new pods: nothing to do (as upstream).
        if ((e as { status?: { details?: { causes?: { reason?: string }[] } } }).status?.details?.causes?.some((c) => c.reason === 'NamespaceTerminating')) return;
        throw e;
      }
    }
    if (plan.flushStatus) {
      job = await this.writeStatus(job, plan.flushStatus);
    }
    this.backoff.set(key, plan.backoff);
    const still = new Set(pods.filter(hasTrackingFinalizer).map((p) => p.metadata.uid!));
    let removalError: unknown;
    for (const p of plan.removeFinalizersFrom) {
      try {
        await this.removeFinalizer(p);
        still.delete(p.metadata.uid!);
      } catch (e) {
        removalError ??= e;
      }
    }
    const fin = finishJobStatus(plan.after, still, this.now());
    if (fin.status) job = await this.writeStatus(job, fin.status);
    for (const e of [...plan.events, ...fin.events]) this.events.event(job, e.type, e.reason, e.message);
    if (removalError) throw removalError;
    if (fin.finished) {
      const ttl = ttlDecision(job, this.now());
      if (ttl.deleteNow || ttl.requeueAfterMs !== undefined) this.queue.addAfter(key, ttl.requeueAfterMs ?? 0);
    }
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, Math.max(plan.requeueAfterMs, 1));
  }

  private async writeStatus(job: Job, status: JobStatus): Promise<Job> {
    return this.opts.client.replaceStatus<Job>(JOBS, { ...job, status });
  }

  /** Removes the tracking finalizer with a JSON patch guarded by a test of its position. */
  private async removeFinalizer(pod: Pod): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = attempt === 0 ? pod : await this.opts.client.tryGet<Pod>(PODS, pod.metadata.namespace, pod.metadata.name!);
      if (!current || current.metadata.uid !== pod.metadata.uid) return;
      const i = (current.metadata.finalizers ?? []).indexOf(JOB_TRACKING_FINALIZER);
      if (i < 0) return;
      try {
        await this.opts.client.patch(PODS, current.metadata.namespace, current.metadata.name!, [
          { op: 'test', path: `/metadata/finalizers/${i}`, value: JOB_TRACKING_FINALIZER },
          { op: 'remove', path: `/metadata/finalizers/${i}` },
        ], 'json');
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (attempt === 2) throw e;
      }
    }
  }

  /** A pod with the tracking finalizer whose Job is gone or finished: let it go. */
  private async syncOrphanPod(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = await this.opts.client.tryGet<Pod>(PODS, namespace, name);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const ref = controllerRef(pod);
    if (ref) {
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      const job = await this.opts.client.tryGet<Job>(JOBS, namespace, ref.name);
      if (job && job.metadata.uid === ref.uid && !isJobFinished(job)) return;
    }
    await this.removeFinalizer(pod);
  }
}
