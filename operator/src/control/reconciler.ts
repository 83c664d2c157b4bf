// One reconcile of one lake job: observe → decide → act. The acting part is deliberately dumb: it
// writes the decided status (only when it changed, conditional on resourceVersion), records the
// events, and carries out the actions in order. It decides nothing, except how to report an error:
// a permanent refusal (S3: no bucket, access denied…; the API server refusing a stage Job with
// 422/400/403) becomes an Invalid condition; anything else propagates to the work queue, which
// retries it with backoff.
import { StorageError, type Storage } from '../../../job-runner/src/index.js';
import { defaultedSpec } from '../crd/crd.js';
import { keyOf, splitKey, type LakeJobStatus, type SparkifyLakeJob } from '../crd/types.js';
import type { ClusterApi } from '../kube/cluster.js';
import { isNotFound, KubeApiError } from '../kube/rest.js';
import type { Logger } from '../log.js';
import type { OperatorMetrics } from '../metrics/operatorMetrics.js';
import { decide, FINALIZER, invalidFromAction, statusChanged, type Action, type ActionInvalidReason, type DecideConfig, type Decision, type EventSpec } from '../run/decide.js';
import { jobRefusal } from '../run/validity.js';
import type { RunActions } from '../s3/runActions.js';
import { cachedLakeJob } from './cachedObjects.js';
import type { Observer } from './observe.js';

export interface ReconcilerDeps {
  cluster: ClusterApi;
  /** The informer's cached copy of a lake job. */
  cached(namespace: string, name: string): SparkifyLakeJob | undefined;
  observer: Observer;
  actions: RunActions;
  config: DecideConfig;
  now(): Date;
  metrics: OperatorMetrics;
  log: Logger;
}

/** An action refused for good: the reconcile reports it as Invalid instead of retrying at once. */
class ActionRefused extends Error {
  constructor(
    readonly reason: ActionInvalidReason,
    message: string,
  ) {
    super(message);
    this.name = 'ActionRefused';
  }
}

export class Reconciler {
  /**
   * Our own writes, until the informer catches up: a reconcile right after a status write would
   * otherwise decide from the older copy and lose a round to a 409 conflict.
   */
  private readonly written = new Map<string, { stale: Set<string>; obj: SparkifyLakeJob }>();

  constructor(private readonly d: ReconcilerDeps) {}

  /** Returns when to reconcile this key again (ms), or undefined for "on the next change". */
  async reconcile(key: string): Promise<number | undefined> {
    const { namespace, name } = splitKey(key);
    const found = this.current(namespace, name);
    if (!found) {
      this.written.delete(key);
      return undefined;
    }
    const lakeJob: SparkifyLakeJob = { ...found, spec: defaultedSpec(found.spec) };
    let log = this.d.log.child({ namespace, name, runId: lakeJob.status?.runId });
    try {
      const { observed, s3 } = await this.d.observer.observe(lakeJob);
      const decision = decide(lakeJob, observed, this.d.config);
      if (decision.status?.runId && decision.status.runId !== lakeJob.status?.runId) log = this.d.log.child({ namespace, name, runId: decision.status.runId });
      await this.apply(lakeJob, decision, log, s3 ? this.d.observer.storageFor(s3) : undefined);
      return decision.requeueAfterMs;
    } catch (err) {
      const reason = err instanceof ActionRefused ? err.reason : storageReason(err);
      if (!reason) throw err;
      // A permanent refusal (no bucket, credentials refused, unreachable endpoint, no input; a Job
      // the API server will not take): report it on the resource and look again later, instead of
      // hammering S3 or the API server with retries.
      const invalid = invalidFromAction(this.current(namespace, name) ?? lakeJob, this.d.now(), reason, (err as Error).message, this.d.config);
      log.warn('refusal reported as Invalid', { reason, error: (err as Error).message });
      await this.apply(this.current(namespace, name) ?? lakeJob, invalid, log, undefined);
      return invalid.requeueAfterMs;
    }
  }

  private async apply(lakeJob: SparkifyLakeJob, d: Decision, log: Logger, storageFor: ((uri: string) => Storage) | undefined): Promise<SparkifyLakeJob> {
    lakeJob = await this.writeStatus(lakeJob, d.status, d.events, log);
    for (const action of d.actions) lakeJob = await this.act(lakeJob, action, log, storageFor);
    return lakeJob;
  }

  private async writeStatus(lakeJob: SparkifyLakeJob, status: LakeJobStatus | undefined, events: EventSpec[], log: Logger): Promise<SparkifyLakeJob> {
    if (status && statusChanged(lakeJob.status, status)) {
      const updated = await this.d.cluster.replaceLakeJobStatus(lakeJob, status);
      this.remember(lakeJob, updated);
      this.d.metrics.observeTransition(lakeJob.status, status);
      if (lakeJob.status?.phase !== status.phase) log.info(`phase ${lakeJob.status?.phase ?? '(none)'} → ${status.phase}`, { runId: status.runId, progress: status.progress });
      lakeJob = { ...updated, spec: lakeJob.spec };
    }
    for (const e of events) await this.event(lakeJob, e, log);
    return lakeJob;
  }

  private async act(lakeJob: SparkifyLakeJob, a: Action, log: Logger, storageFor: ((uri: string) => Storage) | undefined): Promise<SparkifyLakeJob> {
    const { namespace, name } = lakeJob.metadata;
    const out = (output: string) => {
      if (!storageFor) throw new Error('S3 credentials were not observed for an action that needs them');
      return storageFor(output);
    };
    const output = lakeJob.status?.output ?? lakeJob.spec.output;
    switch (a.type) {
      case 'addFinalizer': {
        const updated = await this.d.cluster.setLakeJobFinalizers(lakeJob, [...(lakeJob.metadata.finalizers ?? []), FINALIZER]);
        this.remember(lakeJob, updated);
        return { ...updated, spec: lakeJob.spec };
      }
      case 'removeFinalizer': {
        try {
          await this.d.cluster.setLakeJobFinalizers(lakeJob, (lakeJob.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        this.written.delete(keyOf(lakeJob));
        log.info('finalizer removed: the lake job is gone (committed lake data is kept)');
        return lakeJob;
      }
      case 'planScan':
        log.info('planning the scan');
        await this.d.actions.planScan(lakeJob, lakeJob.spec, a.runId, (uri) => out(uri));
        return lakeJob;
      case 'planBuild':
        log.info('planning the build');
        await this.d.actions.planBuild(out(output), a.runId);
        return lakeJob;
      case 'createJob': {
        let result: 'created' | 'exists';
        try {
          result = await this.d.cluster.createJob(a.job);
        } catch (err) {
          if (err instanceof KubeApiError && (err.code === 422 || err.code === 400 || err.code === 403)) {
            const r = jobRefusal(err.code, a.job.metadata?.name ?? '', err.message);
            throw new ActionRefused(r.reason, r.message);
          }
          throw err;
        }
        log.info(`Job ${a.job.metadata?.name} ${result === 'created' ? 'created' : 'already exists'}`, { shards: a.job.spec?.completions });
        return lakeJob;
      }
      case 'deleteJob':
        log.info(`deleting Job ${a.name}`);
        await this.d.cluster.deleteJob(namespace, a.name);
        return lakeJob;
      case 'suspendJob':
        log.info(`${a.suspend ? 'suspending' : 'resuming'} Job ${a.name}`);
        await this.d.cluster.setJobSuspend(namespace, a.name, a.suspend);
        return lakeJob;
      case 'commit':
        log.info('committing');
        await this.d.actions.commit(out(output), a.runId);
        return this.writeStatus(this.current(namespace, name) ?? lakeJob, a.then.status, a.then.events, log);
      case 'discard': {
        try {
          await this.d.actions.discard(out(a.output), a.runId);
          log.info(`discarded the staging data of run ${a.runId}`);
        } catch (err) {
          if (!(err instanceof StorageError) || err.transient) throw err;
          // Best effort when S3 says no for good (bucket gone, credentials revoked): leaving garbage
          // behind must not block a new run or a deletion. Say where it is.
          await this.event(lakeJob, { type: 'Warning', reason: 'DiscardFailed', message: `could not remove the staging data of run ${a.runId} under ${a.output}: ${err.message}` }, log);
        }
        return a.then ? this.writeStatus(this.current(namespace, name) ?? lakeJob, a.then.status, a.then.events, log) : lakeJob;
      }
    }
  }

  private async event(lakeJob: SparkifyLakeJob, e: EventSpec, log: Logger): Promise<void> {
    this.d.metrics.events.inc({ type: e.type, reason: e.reason });
    if (e.type === 'Warning') log.warn(`event ${e.reason}: ${e.message}`);
    else log.info(`event ${e.reason}: ${e.message}`);
    try {
      await this.d.cluster.recordEvent(lakeJob, e, this.d.now());
    } catch (err) {
      // Events are informative; failing to record one must not fail the reconcile.
      log.warn('could not record an event', { reason: e.reason, error: (err as Error).message });
    }
  }

  /** The freshest copy we know: the informer's, or our own write while the informer lags behind. */
  current(namespace: string, name: string): SparkifyLakeJob | undefined {
    const key = `${namespace}/${name}`;
    const cached = this.d.cached(namespace, name);
    const w = this.written.get(key);
    if (w && cached && w.stale.has(cached.metadata.resourceVersion ?? '')) return w.obj;
    if (w) this.written.delete(key);
    return cached;
  }

  private remember(before: SparkifyLakeJob, after: SparkifyLakeJob): void {
    const key = keyOf(before);
    const w = this.written.get(key);
    const stale = w?.stale ?? new Set<string>();
    if (before.metadata.resourceVersion) stale.add(before.metadata.resourceVersion);
    // Kept like the informer keeps it (cachedObjects.ts): the write's response carries managedFields.
    this.written.set(key, { stale, obj: cachedLakeJob(after) });
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}

function storageReason(err: unknown): ActionInvalidReason | null {
  if (!(err instanceof StorageError)) return null;
  switch (err.kind) {
    case 'no-bucket':
      return 'BucketNotFound';
    case 'access-denied':
      return 'AccessDenied';
    case 'unreachable':
      return 'StorageUnreachable';
    case 'not-found':
      return 'InputNotFound';
    case 'invalid':
      return 'InvalidStorage';
    default:
      return null;
  }
}
