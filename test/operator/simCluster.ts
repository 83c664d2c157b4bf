// A simulated cluster for reconciler tests: an in-memory API (optimistic concurrency, finalizers,
// conflict injection) plus a Job "controller" that runs the real job-runner shard code in-process
// against local folders standing in for S3 buckets. Fast and deterministic; the dev-cluster
// end-to-end tests run the same operator against real Kubernetes machinery.
import { Writable } from 'node:stream';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { openStorage, shardMain, type Storage } from '../../job-runner/src/index.js';
import type { ClusterApi } from '../../operator/src/kube/cluster.js';
import { KubeApiError } from '../../operator/src/kube/rest.js';
import type { LakeJobSpecInput, LakeJobStatus, SparkifyLakeJob } from '../../operator/src/crd/types.js';
import type { EventSpec } from '../../operator/src/run/decide.js';
import { jobView } from '../../operator/src/run/jobs.js';
import type { JobView } from '../../operator/src/run/observed.js';

/** Maps s3:// roots to local folders, so the engine and the operator can run on plain files. */
export function localS3(roots: Record<string, string>): (uri: string) => Storage {
  return (uri) => {
    const root = Object.keys(roots)
      .sort((a, b) => b.length - a.length)
      .find((r) => uri.startsWith(r) || `${uri}/` === r);
    if (!root) throw new Error(`no local folder for ${uri}`);
    return openStorage(`${roots[root]}/${uri.slice(root.length)}`);
  };
}

export class SimCluster implements ClusterApi {
  private rv = 1;
  readonly lakeJobs = new Map<string, SparkifyLakeJob>();
  readonly jobs = new Map<string, V1Job>();
  readonly secrets = new Map<string, Record<string, string>>();
  readonly events: EventSpec[] = [];
  readonly calls = { createJob: 0, created: 0, deleteJob: 0, statusWrites: 0 };
  /** The next N status writes answer 409 Conflict, as a real API server does for stale writes. */
  conflicts = 0;
  /** Shard indexes that fail permanently (exit 3) when their stage runs. */
  failIndexes: { stage: 'scan' | 'build'; index: number }[] = [];
  /** Validation of a Job beyond what the CRD can check, as the API server does: an error refuses it. */
  validateJob: (job: V1Job) => KubeApiError | undefined = () => undefined;

  constructor(private readonly storageFor: (uri: string) => Storage) {}

  createLakeJob(name: string, spec: LakeJobSpecInput, uid = `uid-${name}`): SparkifyLakeJob {
    const obj: SparkifyLakeJob = { apiVersion: 'lake.sparkify.io/v1alpha1', kind: 'SparkifyLakeJob', metadata: { name, namespace: 'ns', uid, generation: 1, resourceVersion: String(this.rv++) }, spec: spec as SparkifyLakeJob['spec'] };
    this.lakeJobs.set(`ns/${name}`, obj);
    return obj;
  }

  /** A spec update by a person: generation moves. */
  updateSpec(name: string, patch: Partial<LakeJobSpecInput>): void {
    const o = this.lakeJobs.get(`ns/${name}`)!;
    this.lakeJobs.set(`ns/${name}`, { ...o, spec: { ...o.spec, ...patch } as SparkifyLakeJob['spec'], metadata: { ...o.metadata, generation: o.metadata.generation + 1, resourceVersion: String(this.rv++) } });
  }

  deleteLakeJob(name: string): void {
    const o = this.lakeJobs.get(`ns/${name}`)!;
    if (!o.metadata.finalizers?.length) this.lakeJobs.delete(`ns/${name}`);
    else this.lakeJobs.set(`ns/${name}`, { ...o, metadata: { ...o.metadata, deletionTimestamp: new Date().toISOString(), resourceVersion: String(this.rv++) } });
  }

  get(name: string): SparkifyLakeJob | undefined {
    return this.lakeJobs.get(`ns/${name}`);
  }

  jobsOf(_ns: string, uid: string): JobView[] {
    return [...this.jobs.values()].filter((j) => j.metadata?.labels?.['lake.sparkify.io/lake-job-uid'] === uid).map((j) => jobView(j)!);
  }

  async replaceLakeJobStatus(lj: SparkifyLakeJob, status: LakeJobStatus): Promise<SparkifyLakeJob> {
    const cur = this.lakeJobs.get(`ns/${lj.metadata.name}`);
    if (!cur) throw new KubeApiError(404, 'NotFound', 'not found');
    if (this.conflicts > 0 || cur.metadata.resourceVersion !== lj.metadata.resourceVersion) {
      this.conflicts = Math.max(0, this.conflicts - 1);
      throw new KubeApiError(409, 'Conflict', 'Operation cannot be fulfilled: the object has been modified');
    }
    this.calls.statusWrites++;
    const next = { ...cur, status: structuredClone(status), metadata: { ...cur.metadata, resourceVersion: String(this.rv++) } };
    this.lakeJobs.set(`ns/${lj.metadata.name}`, next);
    return structuredClone(next);
  }

  async setLakeJobFinalizers(lj: SparkifyLakeJob, finalizers: string[]): Promise<SparkifyLakeJob> {
    const cur = this.lakeJobs.get(`ns/${lj.metadata.name}`);
    if (!cur) throw new KubeApiError(404, 'NotFound', 'not found');
    if (cur.metadata.resourceVersion !== lj.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'stale');
    const next = { ...cur, metadata: { ...cur.metadata, finalizers, resourceVersion: String(this.rv++) } };
    if (next.metadata.deletionTimestamp && finalizers.length === 0) this.lakeJobs.delete(`ns/${lj.metadata.name}`);
    else this.lakeJobs.set(`ns/${lj.metadata.name}`, next);
    return structuredClone(next);
  }

  async createJob(job: V1Job): Promise<'created' | 'exists'> {
    this.calls.createJob++;
    const refused = this.validateJob(job);
    if (refused) throw refused;
    if (this.jobs.has(job.metadata!.name!)) return 'exists';
    this.calls.created++;
    this.jobs.set(job.metadata!.name!, { ...structuredClone(job), metadata: { ...job.metadata, uid: `job-${this.calls.created}` }, status: {} });
    return 'created';
  }

  async deleteJob(_ns: string, name: string): Promise<void> {
    this.calls.deleteJob++;
    this.jobs.delete(name);
  }

  async setJobSuspend(_ns: string, name: string, suspend: boolean): Promise<void> {
    const j = this.jobs.get(name);
    if (j) j.spec!.suspend = suspend;
  }

  async readSecret(_ns: string, name: string): Promise<Record<string, string> | null> {
    return this.secrets.get(name) ?? null;
  }

  async listJobPods(): Promise<V1Pod[]> {
    return [];
  }

  async podLogTail(): Promise<string> {
    return '';
  }

  async recordEvent(_lj: SparkifyLakeJob, e: EventSpec): Promise<void> {
    this.events.push(e);
  }

  /** Runs every not-yet-finished, unsuspended Job to its end: all indexes in-process, like pods. */
  async runJobs(opts: { upTo?: number } = {}): Promise<void> {
    for (const job of this.jobs.values()) {
      const st = job.status ?? {};
      if (st.conditions?.length || job.spec?.suspend) continue;
      const args = job.spec!.template.spec!.containers[0]!.args!;
      const stage = args[args.indexOf('--stage') + 1] as 'scan' | 'build';
      const total = job.spec!.completions!;
      const done = new Set<number>();
      const failed: number[] = [];
      for (let index = 0; index < Math.min(total, opts.upTo ?? total); index++) {
        if (this.failIndexes.some((f) => f.stage === stage && f.index === index)) {
          failed.push(index);
          continue;
        }
        const code = await shardMain(args, { env: { JOB_COMPLETION_INDEX: String(index) }, storageFor: this.storageFor, logStream: devNull() });
        if (code === 0) done.add(index);
        else failed.push(index);
      }
      st.succeeded = done.size;
      st.failed = failed.length;
      st.active = total - done.size - failed.length;
      if (failed.length) {
        st.failedIndexes = failed.join(',');
        st.conditions = [{ type: 'Failed', status: 'True', reason: 'FailedIndexes', message: 'Job has failed indexes' }];
      } else if (done.size === total) {
        st.conditions = [{ type: 'Complete', status: 'True' }];
        st.completionTime = new Date();
      }
      job.status = st;
    }
  }
}

function devNull(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
