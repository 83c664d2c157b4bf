// The stage Jobs, built by pure functions: the same lake job, run and stage always give the same
// manifest (no timestamps, no random names), so a restarted operator re-creating a Job gets
// AlreadyExists, which means "already done".
import type { V1EnvVar, V1Job, V1ResourceRequirements } from '@kubernetes/client-node';
import { shardArgs, type Stage } from '../../../job-runner/src/index.js';
import { API_VERSION, KIND } from '../crd/schema.js';
import type { SparkifyLakeJob } from '../crd/types.js';
import { jobName, labelValue } from './identity.js';
import type { JobView } from './observed.js';
import type { ResolvedStorage } from './storage.js';

export const MANAGED_BY = 'sparkify-lake-operator';
export const LABEL = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  lakeJob: 'lake.sparkify.io/lake-job',
  lakeJobUid: 'lake.sparkify.io/lake-job-uid',
  runId: 'lake.sparkify.io/run-id',
  stage: 'lake.sparkify.io/stage',
} as const;
/** Selects every Job this operator manages (the Job informer's label selector). */
export const MANAGED_JOBS_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;

export const RUNNER_CONTAINER = 'runner';
/** The job-runner's exit code for a permanent failure (bad task, input that cannot be quarantined). */
export const EXIT_PERMANENT = 3;
/** Non-root user of the runner image (images/job-runner.Dockerfile: node:24-bookworm-slim, USER 65532:65532). */
export const RUNNER_UID = 65532;
/**
 * The writable scratch space of a runner (the root filesystem is read-only): an emptyDir mounted at
 * /tmp, where Node's os.tmpdir() looks when TMPDIR is unset, so no path is baked into the env.
 */
export const SCRATCH_DIR = '/tmp';
/**
 * Cap of that scratch space (the kubelet evicts a pod over it), so a runner cannot fill the node's
 * disk. The engine itself writes nothing there (staging and outputs go to S3, HOME=/tmp is only for
 * tools that insist on a home); 256Mi leaves ample room for a Node diagnostic report or a library's
 * temporary file without ever evicting an honest shard. Not configurable: nothing needs more.
 */
export const SCRATCH_SIZE_LIMIT = '256Mi';
export const SECRET_KEYS = { accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY' } as const;

export interface StageJobInput {
  lakeJob: SparkifyLakeJob;
  /** spec.storage over the operator's defaults (storage.ts): what the runner pods connect with. */
  storage: ResolvedStorage;
  runId: string;
  stage: Stage;
  shards: number;
  /** Image used when the spec names none: ghcr.io/sparkify/sparkify-lake-job-runner:<version>. */
  defaultImage: string;
}

export function stageJob({ lakeJob, storage, runId, stage, shards, defaultImage }: StageJobInput): V1Job {
  const { metadata: meta, spec } = lakeJob;
  const labels = {
    [LABEL.name]: 'sparkify-lake',
    [LABEL.component]: 'job-runner',
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.lakeJob]: labelValue(meta.name),
    [LABEL.lakeJobUid]: meta.uid,
    [LABEL.runId]: runId,
    [LABEL.stage]: stage,
  };
  const env: V1EnvVar[] = [
    { name: 'AWS_REGION', value: storage.region },
    ...(storage.endpoint ? [{ name: 'AWS_ENDPOINT_URL', value: storage.endpoint }] : []),
    { name: 'SPARKIFY_S3_FORCE_PATH_STYLE', value: String(storage.forcePathStyle) },
    // Credentials only by reference: they never appear in the Job, its events or its logs.
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: storage.credentialsSecret, key: SECRET_KEYS.accessKeyId } } },
    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: storage.credentialsSecret, key: SECRET_KEYS.secretAccessKey } } },
  ];
  const runner = spec.runner;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(meta.name, runId, stage),
      namespace: meta.namespace,
      labels,
      annotations: { 'lake.sparkify.io/output': spec.output },
      ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      completionMode: 'Indexed',
      completions: shards,
      parallelism: Math.min(spec.sharding.parallelism, shards),
      // Retries are counted per shard, and one shard that runs out of them fails the Job at once
      // (maxFailedIndexes 0): a run with a lost shard cannot commit, so finishing the others is waste.
      backoffLimitPerIndex: spec.retry.backoffLimitPerIndex,
      maxFailedIndexes: 0,
      podFailurePolicy: {
        rules: [
          // Exit 3 is the runner saying "retrying cannot help" (a bad task, an input it cannot quarantine).
          { action: 'FailIndex', onExitCodes: { containerName: RUNNER_CONTAINER, operator: 'In', values: [EXIT_PERMANENT] } },
          // Evictions, preemptions and node loss are not the shard's fault: retry without counting.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      ttlSecondsAfterFinished: runner.ttlSecondsAfterFinished,
      suspend: spec.suspend,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUNNER_UID,
            runAsGroup: RUNNER_UID,
            fsGroup: RUNNER_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: RUNNER_CONTAINER,
              image: runner.image ?? defaultImage,
              imagePullPolicy: runner.imagePullPolicy,
              args: shardArgs(spec.output, runId, stage),
              env,
              ...(runner.resources ? { resources: resourcesOf(runner.resources) } : {}),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'scratch', mountPath: SCRATCH_DIR }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [{ name: 'scratch', emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } }],
          ...(runner.nodeSelector ? { nodeSelector: runner.nodeSelector } : {}),
          ...(runner.tolerations ? { tolerations: runner.tolerations } : {}),
          ...(runner.affinity ? { affinity: runner.affinity } : {}),
        },
      },
    },
  };
}

/** Quantities may be written as numbers in the spec; the Pod API wants strings. */
function resourcesOf(r: { limits?: Record<string, string | number>; requests?: Record<string, string | number> }): V1ResourceRequirements {
  const strings = (m: Record<string, string | number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  return { ...(r.limits ? { limits: strings(r.limits) } : {}), ...(r.requests ? { requests: strings(r.requests) } : {}) };
}

/** A Job as decide() needs to see it. Accepts both the typed client's Dates and raw watch JSON strings. */
export function jobView(job: V1Job): JobView | null {
  const labels = job.metadata?.labels ?? {};
  const runId = labels[LABEL.runId];
  const stage = labels[LABEL.stage];
  if (!runId || (stage !== 'scan' && stage !== 'build')) return null;
  const status = job.status ?? {};
  const cond = (type: string) => status.conditions?.find((c) => c.type === type && c.status === 'True');
  const failed = cond('Failed');
  return {
    name: job.metadata?.name ?? '',
    uid: job.metadata?.uid ?? '',
    runId,
    stage,
    deleting: Boolean(job.metadata?.deletionTimestamp),
    suspended: Boolean(job.spec?.suspend),
    completions: job.spec?.completions ?? 0,
    active: status.active ?? 0,
    ready: status.ready ?? 0,
    terminating: status.terminating ?? 0,
    succeeded: status.succeeded ?? 0,
    failed: status.failed ?? 0,
    failedIndexes: parseIndexes(status.failedIndexes ?? ''),
    complete: Boolean(cond('Complete')),
    failure: failed ? { reason: failed.reason ?? 'Failed', message: failed.message ?? '' } : null,
    ...(status.startTime ? { startTime: isoTime(status.startTime) } : {}),
    ...(status.completionTime ? { completionTime: isoTime(status.completionTime) } : {}),
  };
}

/** `"1,3-5"` → [1, 3, 4, 5] (the Job API's compressed index-set form). */
export function parseIndexes(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const [a, b] = p.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    const end = b !== undefined && Number.isInteger(b) ? b : a;
    for (let i = a; i <= end; i++) out.push(i);
  }
  return out;
}

export function isoTime(t: Date | string): string {
  return typeof t === 'string' ? new Date(t).toISOString() : t.toISOString();
}
