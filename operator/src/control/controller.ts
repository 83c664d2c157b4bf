// The control loop: informers feed one work queue keyed by namespace/name; workers take keys and
// reconcile them one at a time per key. Informers run on every replica (a standby keeps warm
// caches); only the leader's workers reconcile.
import type { KubeConfig, V1Job } from '@kubernetes/client-node';
import { keyOf, type SparkifyLakeJob } from '../crd/types.js';
import { jobPaths, lakeJobPaths } from '../kube/cluster.js';
import { RestartingInformer, type InformerEvent } from '../kube/informer.js';
import type { KubeRest } from '../kube/rest.js';
import type { Logger } from '../log.js';
import type { OperatorMetrics } from '../metrics/operatorMetrics.js';
import { API_VERSION, KIND } from '../crd/schema.js';
import { jobView, LABEL, MANAGED_JOBS_SELECTOR } from '../run/jobs.js';
import type { JobView } from '../run/observed.js';
import { cachedJob, cachedLakeJob } from './cachedObjects.js';
import type { Clock, Timer } from './clock.js';
import type { Reconciler } from './reconciler.js';
import { WorkQueue, type BackoffOptions } from './workQueue.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  rest: KubeRest;
  /** Watch these namespaces only; empty = all namespaces. */
  namespaces: string[];
  clock: Clock;
  metrics: OperatorMetrics;
  log: Logger;
  workers: number;
  /** Every lake job is reconciled at least this often, whatever happens (a safety net). */
  resyncMs: number;
  backoff?: BackoffOptions;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly lakeJobInformers: RestartingInformer<SparkifyLakeJob>[];
  private readonly jobInformers: RestartingInformer<V1Job>[];
  private reconciler: Reconciler | undefined;
  private active = false;
  private workers: Promise<void>[] = [];
  private resyncTimer: Timer | undefined;
  private started = false;
  private stopWorkers: AbortController | undefined;
  /** What of each lake job last triggered a reconcile (see onLakeJob). */
  private readonly seen = new Map<string, string>();

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue(o.clock, o.backoff);
    const scopes = o.namespaces.length ? o.namespaces : [undefined];
    this.lakeJobInformers = scopes.map(
      (ns) =>
        new RestartingInformer<SparkifyLakeJob>({
          kubeConfig: o.kubeConfig,
          rest: o.rest,
          path: lakeJobPaths.list(ns),
          clock: o.clock,
          transform: cachedLakeJob,
          onEvent: (type, obj) => this.onLakeJob(type, obj),
          onError: (err, ms) => this.informerError('sparkifylakejobs', err, ms),
        }),
    );
    this.jobInformers = scopes.map(
      (ns) =>
        new RestartingInformer<V1Job>({
          kubeConfig: o.kubeConfig,
          rest: o.rest,
          path: jobPaths.list(ns),
          labelSelector: MANAGED_JOBS_SELECTOR,
          clock: o.clock,
          transform: cachedJob,
          onEvent: (_type, job) => this.onJob(job),
          onError: (err, ms) => this.informerError('jobs', err, ms),
        }),
    );
  }

  setReconciler(r: Reconciler): void {
    this.reconciler = r;
  }

  /** Starts the informers and resolves once every cache has listed once. */
  async start(): Promise<void> {
    await Promise.all([...this.lakeJobInformers, ...this.jobInformers].map((i) => i.start()));
    this.started = true;
  }

  get synced(): boolean {
    return this.started && [...this.lakeJobInformers, ...this.jobInformers].every((i) => i.synced);
  }

  get informerErrors(): number {
    return [...this.lakeJobInformers, ...this.jobInformers].reduce((s, i) => s + i.errors, 0);
  }

  /** This replica leads: start the workers and look at every lake job once. */
  activate(): void {
    if (this.active) return;
    if (!this.reconciler) throw new Error('no reconciler');
    this.active = true;
    for (const lj of this.allLakeJobs()) this.queue.add(keyOf(lj));
    this.stopWorkers = new AbortController();
    const signal = this.stopWorkers.signal;
    this.workers = Array.from({ length: this.o.workers }, () => this.work(signal));
    this.scheduleResync();
  }

  /** Leadership lost or shutting down: stop taking keys; in-flight reconciles finish. */
  async deactivate(): Promise<void> {
    this.active = false;
    this.resyncTimer?.cancel();
    this.stopWorkers?.abort();
    await Promise.all(this.workers);
    this.workers = [];
  }

  async stop(): Promise<void> {
    await this.deactivate();
    this.queue.shutDown();
    await Promise.all([...this.lakeJobInformers, ...this.jobInformers].map((i) => i.stop()));
  }

  allLakeJobs(): SparkifyLakeJob[] {
    return this.lakeJobInformers.flatMap((i) => [...i.list()]);
  }

  cachedLakeJob(namespace: string, name: string): SparkifyLakeJob | undefined {
    for (const i of this.lakeJobInformers) {
      const o = i.get(name, namespace);
      if (o) return o;
    }
    return undefined;
  }

  /** The Jobs of one lake job, from the cache (selected by the owner's uid label). */
  jobsOf(namespace: string, lakeJobUid: string): JobView[] {
    const out: JobView[] = [];
    for (const i of this.jobInformers) {
      for (const j of i.list(namespace)) {
        if (j.metadata?.labels?.[LABEL.lakeJobUid] !== lakeJobUid) continue;
        const v = jobView(j);
        if (v) out.push(v);
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async work(signal: AbortSignal): Promise<void> {
    while (this.active) {
      const key = await this.queue.get(signal);
      if (key === null) return;
      if (!this.active) {
        // Taken just as leadership ended: give it back for whoever leads next.
        this.queue.done(key);
        this.queue.add(key);
        return;
      }
      const t0 = this.o.clock.now();
      try {
        const again = await this.reconciler!.reconcile(key);
        this.queue.forget(key);
        this.o.metrics.reconciles.inc({ result: 'ok' });
        if (again !== undefined) this.queue.addAfter(key, again);
      } catch (err) {
        const e = err as Error & { code?: number; kind?: string };
        const kind = e.name === 'KubeApiError' ? (e.code === 409 ? 'conflict' : 'kubernetes') : e.name === 'StorageError' ? 'storage' : 'other';
        this.o.metrics.reconciles.inc({ result: kind === 'conflict' ? 'conflict' : 'error' });
        this.o.metrics.reconcileErrors.inc({ kind });
        const ms = this.queue.addRateLimited(key);
        const fields = { key, retryInMs: ms, error: e.message };
        if (kind === 'conflict') this.o.log.debug('reconcile conflict; retrying', fields);
        else this.o.log.warn('reconcile failed; retrying', fields);
      } finally {
        this.o.metrics.reconcileSeconds.observe({}, (this.o.clock.now() - t0) / 1000);
        this.queue.done(key);
      }
    }
  }

  private scheduleResync(): void {
    this.resyncTimer = this.o.clock.setTimeout(() => {
      if (!this.active) return;
      for (const lj of this.allLakeJobs()) this.queue.add(keyOf(lj));
      this.scheduleResync();
    }, this.o.resyncMs);
  }

  private onLakeJob(type: InformerEvent, obj: SparkifyLakeJob): void {
    const key = keyOf(obj);
    if (type === 'delete') {
      this.reconciler?.forget(key);
      this.seen.delete(key);
      return;
    }
    // A change of status alone is (almost always) our own write: reconciling again for it would
    // double the work per poll for nothing, since every decision that needs a follow-up asks for
    // one (requeueAfterMs). Spec, deletion, finalizers, labels and annotations changes do count.
    const m = obj.metadata;
    const fingerprint = JSON.stringify([m.uid, m.generation, m.deletionTimestamp ?? null, m.finalizers ?? [], m.labels ?? {}, m.annotations ?? {}]);
    if (type === 'update' && this.seen.get(key) === fingerprint) return;
    this.seen.set(key, fingerprint);
    // Never act on the payload: the key is enough, the reconcile re-reads the current state.
    this.queue.add(key);
  }

  private onJob(job: V1Job): void {
    const owner = job.metadata?.ownerReferences?.find((r) => r.apiVersion === API_VERSION && r.kind === KIND);
    if (owner && job.metadata?.namespace) this.queue.add(`${job.metadata.namespace}/${owner.name}`);
  }

  private informerError(resource: string, err: unknown, restartInMs: number): void {
    this.o.metrics.informerErrors.inc({ resource });
    this.o.log.warn(`${resource} informer stopped; restarting`, { restartInMs, error: (err as Error)?.message ?? String(err) });
  }
}
