// Observe: everything decide() needs, read fresh on every reconcile and nothing more. The child
// Jobs come from the informer cache; the Secret from the API (get only: the operator may not list
// Secrets); the run's progress from S3 through the incremental RunReader. A finished run costs no
// S3 request at all, so hundreds of idle lake jobs are cheap.
import type { V1Pod } from '@kubernetes/client-node';
import type { Stage, Storage } from '../../../job-runner/src/index.js';
import type { SparkifyLakeJob } from '../crd/types.js';
import { specHash } from '../run/identity.js';
import { RUNNER_CONTAINER, SECRET_KEYS } from '../run/jobs.js';
import type { JobView, Observed, SecretObservation, ShardFailure, StuckPod } from '../run/observed.js';
import { resolveStorage, type StorageDefaults } from '../run/storage.js';
import { s3EndpointProblem } from '../run/validity.js';
import { KubeApiError } from '../kube/rest.js';
import type { ClusterApi } from '../kube/cluster.js';
import type { RunReader } from '../s3/runReader.js';
import type { S3Settings, StorageCache } from '../s3/storages.js';

export interface ObserverDeps {
  cluster: ClusterApi;
  jobsOf(namespace: string, lakeJobUid: string): JobView[];
  runs: RunReader;
  storages: StorageCache;
  now(): Date;
  /** A Secret that was found is re-read at most this often (a missing one on every reconcile). */
  secretTtlMs: number;
  /** The operator's S3 defaults, the same decide() resolves spec.storage over. */
  storageDefaults: StorageDefaults;
  /** S3 endpoint origins a lake job may name (empty: any); decide() reports the refusal. */
  allowedS3Endpoints: readonly string[];
}

export interface Observation {
  observed: Observed;
  /** S3 settings with the Secret's credentials, when the Secret was read and complete. */
  s3?: S3Settings;
}

const MAX_FAILURES_DESCRIBED = 3;
const STUCK_AFTER_MS = 15_000;
/** Waiting reasons that do not resolve by themselves (kubelet's wording). */
const STUCK_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
const LOG_TAIL_LINES = 20;

export class Observer {
  private readonly secrets = new Map<string, { at: number; data: Record<string, string> }>();

  constructor(private readonly d: ObserverDeps) {}

  async observe(lakeJob: SparkifyLakeJob): Promise<Observation> {
    const now = this.d.now();
    const { metadata: meta, spec } = lakeJob;
    const st = lakeJob.status ?? {};
    const jobs = this.d.jobsOf(meta.namespace, meta.uid);
    const deleting = Boolean(meta.deletionTimestamp);
    const superseded = Boolean(st.runId) && st.specHash !== specHash(spec);
    const cleaningUp = st.conditions?.some((c) => c.type === 'Running' && c.reason === 'CleaningUp') ?? false;
    const finished = st.phase === 'Succeeded' || (st.phase === 'Failed' && !cleaningUp);
    const observed: Observed = { now, jobs };
    if (finished && !superseded && !deleting) return { observed };

    const storage = resolveStorage(spec.storage, this.d.storageDefaults);
    if (!storage) return { observed }; // no Secret named anywhere: decide() reports what to set
    // An endpoint the policy refuses gets no signed request, not even one read of the run.
    if (s3EndpointProblem(spec.storage?.endpoint, this.d.storageDefaults.endpoint, this.d.allowedS3Endpoints)) return { observed };
    const { observation: secret, data } = await this.secret(meta.namespace, storage.credentialsSecret, now.getTime());
    observed.secret = secret;
    if (!data) return { observed };
    const s3: S3Settings = {
      ...(storage.endpoint ? { endpoint: storage.endpoint } : {}),
      region: storage.region,
      forcePathStyle: storage.forcePathStyle,
      credentials: { accessKeyId: data[SECRET_KEYS.accessKeyId]!, secretAccessKey: data[SECRET_KEYS.secretAccessKey]! },
    };
    if (st.runId) {
      const out = this.d.storages.get(st.output ?? spec.output, s3);
      const run = await this.d.runs.observe(out, st.runId, { checkCommitted: deleting || superseded || st.phase === 'Committing' });
      const failures = await this.failures(out, meta.namespace, st.runId, jobs, run);
      const stuckPods = await this.stuckPods(meta.namespace, st.runId, jobs, now.getTime());
      observed.run = { ...run, failures, ...(stuckPods.length ? { stuckPods } : {}) };
    }
    return { observed, s3 };
  }

  storageFor(s3: S3Settings): (uri: string) => Storage {
    return (uri) => this.d.storages.get(uri, s3);
  }

  private async secret(namespace: string, name: string, now: number): Promise<{ observation: SecretObservation; data?: Record<string, string> }> {
    const key = `${namespace}/${name}`;
    const cached = this.secrets.get(key);
    let data: Record<string, string> | null;
    if (cached && now - cached.at < this.d.secretTtlMs) {
      data = cached.data;
    } else {
      try {
        data = await this.d.cluster.readSecret(namespace, name);
      } catch (err) {
        if (err instanceof KubeApiError && err.code === 403) return { observation: { state: 'forbidden', message: err.message } };
        throw err;
      }
      if (data) this.secrets.set(key, { at: now, data });
      else this.secrets.delete(key);
    }
    if (!data) return { observation: { state: 'missing' } };
    const missingKeys = [SECRET_KEYS.accessKeyId, SECRET_KEYS.secretAccessKey].filter((k) => !data[k]);
    if (missingKeys.length) return { observation: { state: 'incomplete', missingKeys } };
    return { observation: { state: 'found' }, data };
  }

  /** For a Job reporting failed indexes: what each failed shard held and its pod's last words. */
  private async failures(out: Storage, namespace: string, runId: string, jobs: JobView[], run: { scanPlan: unknown; buildPlan: unknown; scanReceipts: ReadonlyMap<number, unknown>; buildReceipts: ReadonlyMap<number, unknown> }): Promise<ShardFailure[]> {
    const result: ShardFailure[] = [];
    for (const job of jobs.filter((j) => j.runId === runId && (j.failedIndexes.length || j.failure))) {
      const receipts = job.stage === 'scan' ? run.scanReceipts : run.buildReceipts;
      const indexes = job.failedIndexes.filter((i) => !receipts.has(i)).slice(0, MAX_FAILURES_DESCRIBED);
      if (!indexes.length && !job.failure) continue;
      let pods: V1Pod[] = [];
      try {
        pods = await this.d.cluster.listJobPods(namespace, job.name);
      } catch {
        // Diagnostics are best effort: the failure is reported with what is known.
      }
      const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
      const targets = indexes.length ? indexes : [...new Set(failedPods.map(podIndex).filter((i): i is number => i !== null))].slice(0, MAX_FAILURES_DESCRIBED);
      for (const index of targets) result.push(await this.describeFailure(out, namespace, runId, job.stage, index, failedPods));
    }
    return result;
  }

  /**
   * Pods that will not start by themselves (an image that cannot be pulled, a Secret key missing,
   * nothing schedulable). Only looked at when a Job has had active but no ready pods for a while,
   * so a healthy run never pays for it.
   */
  private async stuckPods(namespace: string, runId: string, jobs: JobView[], now: number): Promise<StuckPod[]> {
    const out: StuckPod[] = [];
    const suspects = jobs.filter((j) => j.runId === runId && !j.complete && !j.failure && !j.suspended && !j.deleting && j.active > 0 && j.ready === 0 && j.startTime && now - Date.parse(j.startTime) > STUCK_AFTER_MS);
    for (const job of suspects) {
      let pods: V1Pod[];
      try {
        pods = await this.d.cluster.listJobPods(namespace, job.name);
      } catch {
        continue; // diagnostics are best effort
      }
      for (const p of pods) {
        if (p.status?.phase !== 'Pending' || p.metadata?.deletionTimestamp) continue;
        const waiting = p.status.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason && STUCK_REASONS.has(w.reason));
        const unschedulable = p.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
        if (waiting) out.push({ pod: p.metadata?.name ?? '', reason: waiting.reason!, message: waiting.message ?? '' });
        else if (unschedulable) out.push({ pod: p.metadata?.name ?? '', reason: 'Unschedulable', message: unschedulable.message ?? '' });
      }
    }
    return out.slice(0, 5);
  }

  private async describeFailure(out: Storage, namespace: string, runId: string, stage: Stage, index: number, failedPods: V1Pod[]): Promise<ShardFailure> {
    const inputs = await this.d.runs.describeTask(out, runId, stage, index).catch(() => []);
    const pod = failedPods
      .filter((p) => podIndex(p) === index)
      .sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')))
      .at(-1);
    const f: ShardFailure = { stage, index, inputs };
    if (!pod) return f;
    f.pod = pod.metadata?.name;
    const term = pod.status?.containerStatuses?.find((c) => c.name === RUNNER_CONTAINER)?.state?.terminated;
    if (term?.exitCode !== undefined) f.exitCode = term.exitCode;
    if (term?.reason) f.reason = term.reason;
    try {
      f.logTail = await this.d.cluster.podLogTail(namespace, f.pod!, RUNNER_CONTAINER, LOG_TAIL_LINES);
    } catch {
      // The pod may be gone already; the message says so.
    }
    return f;
  }
}

function podIndex(p: V1Pod): number | null {
  const v = p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] ?? p.metadata?.labels?.['batch.kubernetes.io/job-completion-index'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}
