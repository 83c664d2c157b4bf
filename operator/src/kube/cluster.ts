// Everything the operator asks of the Kubernetes API, behind one small interface. The reconciler
// and the observer use only this, so unit tests can hand them an in-memory fake and the end-to-end
// tests the real thing (KubeCluster, over client-node's KubeConfig and the REST client).
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../crd/schema.js';
import type { LakeJobStatus, SparkifyLakeJob } from '../crd/types.js';
import type { EventSpec } from '../run/decide.js';
import { EventRecorder } from './eventRecorder.js';
import { isAlreadyExists, isNotFound, type KubeRest } from './rest.js';

export interface ClusterApi {
  /** PUT of the status subresource, conditional on the object's resourceVersion (409 when stale). */
  replaceLakeJobStatus(lakeJob: SparkifyLakeJob, status: LakeJobStatus): Promise<SparkifyLakeJob>;
  /** Merge patch of metadata.finalizers only, conditional on resourceVersion; never touches spec. */
  setLakeJobFinalizers(lakeJob: SparkifyLakeJob, finalizers: string[]): Promise<SparkifyLakeJob>;
  createJob(job: V1Job): Promise<'created' | 'exists'>;
  /** Foreground deletion: the Job object stays until its pods are gone. Missing is fine. */
  deleteJob(namespace: string, name: string): Promise<void>;
  setJobSuspend(namespace: string, name: string, suspend: boolean): Promise<void>;
  /** The Secret's data, decoded; null when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | null>;
  listJobPods(namespace: string, jobName: string): Promise<V1Pod[]>;
  podLogTail(namespace: string, pod: string, container: string, lines: number): Promise<string>;
  /** One Event per distinct (reason, message without timings); a repeat counts on it (eventRecorder.ts). */
  recordEvent(lakeJob: SparkifyLakeJob, event: EventSpec, now: Date): Promise<void>;
}

export const lakeJobPaths = {
  list: (namespace?: string) => (namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`),
  one: (namespace: string, name: string) => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}/${encodeURIComponent(name)}`,
};

export const jobPaths = {
  list: (namespace?: string) => (namespace ? `/apis/batch/v1/namespaces/${namespace}/jobs` : '/apis/batch/v1/jobs'),
  one: (namespace: string, name: string) => `/apis/batch/v1/namespaces/${namespace}/jobs/${encodeURIComponent(name)}`,
};

export class KubeCluster implements ClusterApi {
  private readonly events: EventRecorder;

  constructor(
    private readonly rest: KubeRest,
    component: string,
    instance: string,
  ) {
    this.events = new EventRecorder(rest, component, instance);
  }

  async replaceLakeJobStatus(lakeJob: SparkifyLakeJob, status: LakeJobStatus): Promise<SparkifyLakeJob> {
    const { metadata } = lakeJob;
    const body = { apiVersion: API_VERSION, kind: KIND, metadata: { name: metadata.name, namespace: metadata.namespace, resourceVersion: metadata.resourceVersion, uid: metadata.uid }, spec: lakeJob.spec, status };
    return this.rest.request<SparkifyLakeJob>('PUT', `${lakeJobPaths.one(metadata.namespace, metadata.name)}/status`, { body });
  }

  async setLakeJobFinalizers(lakeJob: SparkifyLakeJob, finalizers: string[]): Promise<SparkifyLakeJob> {
    const { metadata } = lakeJob;
    return this.rest.request<SparkifyLakeJob>('PATCH', lakeJobPaths.one(metadata.namespace, metadata.name), {
      body: { metadata: { finalizers, resourceVersion: metadata.resourceVersion } },
      contentType: 'application/merge-patch+json',
    });
  }

  async createJob(job: V1Job): Promise<'created' | 'exists'> {
    try {
      await this.rest.request('POST', jobPaths.list(job.metadata!.namespace!), { body: job });
      return 'created';
    } catch (err) {
      if (isAlreadyExists(err)) return 'exists';
      throw err;
    }
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    try {
      await this.rest.request('DELETE', jobPaths.one(namespace, name), { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async setJobSuspend(namespace: string, name: string, suspend: boolean): Promise<void> {
    await this.rest.request('PATCH', jobPaths.one(namespace, name), { body: { spec: { suspend } }, contentType: 'application/merge-patch+json' });
  }

  async readSecret(namespace: string, name: string): Promise<Record<string, string> | null> {
    try {
      const s = await this.rest.request<{ data?: Record<string, string>; stringData?: Record<string, string> }>('GET', `/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(name)}`);
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
      return out;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async listJobPods(namespace: string, jobName: string): Promise<V1Pod[]> {
    const list = await this.rest.request<{ items?: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, { query: { labelSelector: `batch.kubernetes.io/job-name=${jobName}` } });
    return list.items ?? [];
  }

  async podLogTail(namespace: string, pod: string, container: string, lines: number): Promise<string> {
    return this.rest.request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(pod)}/log`, { query: { container, tailLines: lines }, text: true });
  }

  async recordEvent(lakeJob: SparkifyLakeJob, event: EventSpec, now: Date): Promise<void> {
    await this.events.record(lakeJob.metadata, event, now);
  }
}
