// The SparkifyLakeJob resource: the one place its shape is written down. The CRD YAML (crds/ and
// the chart's crds/) is rendered from these literals by crd.ts, and types.ts derives the TypeScript
// types from them; a test checks the committed YAML equals the rendering.
import type { Schema } from './openapi.js';

export const GROUP = 'lake.sparkify.io';
export const VERSION = 'v1alpha1';
export const KIND = 'SparkifyLakeJob';
export const PLURAL = 'sparkifylakejobs';
export const SINGULAR = 'sparkifylakejob';
export const SHORT_NAMES = ['slj'] as const;
export const CATEGORIES = ['sparkify'] as const;
export const API_VERSION = `${GROUP}/${VERSION}`;

// s3://bucket[/prefix]: bucket names as S3 allows them (3-63 chars, lowercase, digits, dots, dashes).
const S3_URI = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$';
// A size: a non-negative integer, or a decimal with a binary/decimal suffix (256Mi, 1Gi, 500M, 64k).
const SIZE = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';
// A Kubernetes resource quantity (for container resources), as the API server's own pattern.
const QUANTITY = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
// A DNS-1123 subdomain (names of Secrets).
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const quantityMap = {
  type: 'object',
  additionalProperties: { 'x-kubernetes-int-or-string': true, pattern: QUANTITY },
} as const satisfies Schema;

export const specSchema = {
  type: 'object',
  description: 'What to build: the raw inputs, the lake to write, and how to run the stages.',
  required: ['source', 'output'],
  properties: {
    source: {
      type: 'object',
      description: 'Where the raw JSON lives.',
      required: ['songs', 'logs'],
      properties: {
        songs: { type: 'string', pattern: S3_URI, maxLength: 1024, description: 'Root of the song files (one JSON object per file), e.g. s3://raw/song_data/.' },
        logs: { type: 'string', pattern: S3_URI, maxLength: 1024, description: 'Root of the event logs (JSON lines, optionally .gz), e.g. s3://raw/log_data/.' },
      },
    },
    output: { type: 'string', pattern: S3_URI, maxLength: 1024, description: 'Root of the lake: the five tables and _lake/ (manifests, runs) live under it.' },
    storage: {
      type: 'object',
      description: "How to reach S3. Each field left out takes the operator's default (the chart's s3 values), then the built-in one; the credentials come from a Secret in the same namespace.",
      properties: {
        endpoint: { type: 'string', pattern: '^https?://[^\\s/]+(/.*)?$', maxLength: 1024, description: "S3 endpoint URL for S3-compatible stores (MinIO, Ceph); default: the operator's --s3-endpoint, else AWS." },
        region: { type: 'string', minLength: 1, maxLength: 64, description: "S3 region; default: the operator's --s3-region, else us-east-1." },
        forcePathStyle: { type: 'boolean', description: "Address buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint> (MinIO and most S3-compatible stores need it); default: the operator's --s3-force-path-style, else false." },
        credentialsSecret: { type: 'string', pattern: DNS_SUBDOMAIN, maxLength: 253, description: "Name of a Secret in the same namespace with the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; default: the operator's --s3-credentials-secret. Without either the lake job is Invalid." },
      },
    },
    sharding: {
      type: 'object',
      default: {},
      description: 'How the work is split into shards (pods).',
      properties: {
        targetShardBytes: { 'x-kubernetes-int-or-string': true, pattern: SIZE, default: '256Mi', description: 'Target input bytes per shard (a size: 256Mi, 1Gi, 500M, or a number of bytes).' },
        maxShards: { type: 'integer', minimum: 1, maximum: 10000, default: 200, description: 'Upper bound on the number of shards (pods) of a stage.' },
        parallelism: { type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'How many shard pods of a stage run at once.' },
      },
    },
    runner: {
      type: 'object',
      default: {},
      description: 'The job-runner pods.',
      properties: {
        image: { type: 'string', minLength: 1, maxLength: 512, description: "Job-runner image; the operator's default (ghcr.io/sparkify/sparkify-lake-job-runner:<version>) when empty." },
        imagePullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'], default: 'IfNotPresent', description: 'Pull policy of the runner image.' },
        resources: {
          type: 'object',
          description: 'Compute resources of a runner container.',
          properties: { limits: quantityMap, requests: quantityMap },
        },
        nodeSelector: { type: 'object', additionalProperties: { type: 'string' }, description: 'Node labels the runner pods must match.' },
        tolerations: {
          type: 'array',
          maxItems: 64,
          description: 'Tolerations of the runner pods (core/v1 Toleration).',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              operator: { type: 'string', enum: ['Exists', 'Equal'] },
              value: { type: 'string' },
              effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
              tolerationSeconds: { type: 'integer' },
            },
          },
        },
        affinity: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Affinity of the runner pods (core/v1 Affinity), passed through as written.' },
        ttlSecondsAfterFinished: { type: 'integer', minimum: 0, maximum: 31536000, default: 86400, description: 'Seconds a finished stage Job (and its pods and logs) is kept.' },
      },
    },
    retry: {
      type: 'object',
      default: {},
      description: 'Retries of failed shard pods.',
      properties: {
        backoffLimitPerIndex: { type: 'integer', minimum: 0, maximum: 20, default: 2, description: 'Retries of one shard before the run fails (exit code 3 = permanent, never retried).' },
      },
    },
    quality: {
      type: 'object',
      default: {},
      description: 'Data-quality gate.',
      properties: {
        maxRejectRatio: { type: 'number', minimum: 0, maximum: 1, default: 0.01, description: 'Fail the run (before writing any table) when rejected/read records exceed this share.' },
      },
    },
    rerunToken: { type: 'string', maxLength: 63, description: 'Change it to rerun an unchanged spec (GitOps).' },
    suspend: { type: 'boolean', default: false, description: 'Pause the run: no new pods start; running shard pods are stopped and resume from their receipts.' },
  },
} as const satisfies Schema;

const count = { type: 'integer', minimum: 0 } as const satisfies Schema;
const time = { type: 'string', format: 'date-time' } as const satisfies Schema;

export const PHASES = ['Pending', 'Planning', 'Scanning', 'Building', 'Committing', 'Succeeded', 'Failed'] as const;
export const CONDITION_TYPES = ['Running', 'Succeeded', 'Failed', 'Invalid', 'Suspended'] as const;

export const statusSchema = {
  type: 'object',
  description: 'The observed state of the lake job, recomputed from its Jobs and the run in S3.',
  properties: {
    observedGeneration: { type: 'integer', description: 'The generation this status describes.' },
    phase: { type: 'string', enum: PHASES },
    reason: { type: 'string', maxLength: 128, description: 'Why the lake job needs attention, in one CamelCase word (the Invalid or Failed reason, PodsCannotStart, Suspended); absent while all is well.' },
    message: { type: 'string', maxLength: 1024, description: 'One line for people: "Invalid: <reason>: <message>", the failure, the suspension, or what the run is doing.' },
    runId: { type: 'string', description: 'Current run: its files live under <output>/_lake/runs/<runId>/.' },
    specHash: { type: 'string', description: 'Hash of the spec (without suspend) the current run was started for.' },
    output: { type: 'string', description: 'Output root the current run writes to (where its staging data lives).' },
    progress: { type: 'string', description: 'Shards of the current stage with a receipt, e.g. 37/120.' },
    rows: { ...count, description: 'Rows landed in all tables by the current run.' },
    startTime: time,
    completionTime: time,
    lastSuccessfulRunId: { type: 'string' },
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status', 'lastTransitionTime'],
        properties: {
          type: { type: 'string', enum: CONDITION_TYPES },
          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
          reason: { type: 'string', maxLength: 1024 },
          message: { type: 'string', maxLength: 32768 },
          observedGeneration: { type: 'integer', minimum: 0 },
          lastTransitionTime: time,
        },
      },
    },
    plan: {
      type: 'object',
      properties: { shards: count, inputObjects: count, inputBytes: count, skew: { type: 'number', minimum: 0, description: 'Max shard cost / mean shard cost.' } },
    },
    stages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', enum: ['scan', 'build'] },
          job: { type: 'string' },
          total: count,
          completed: count,
          failed: count,
          active: count,
          startTime: time,
          completionTime: time,
        },
      },
    },
    tables: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string' }, partitions: count, partitionsLanded: count, rows: count, bytes: count },
      },
    },
    records: {
      type: 'object',
      properties: { read: count, accepted: count, rejected: count },
    },
  },
} as const satisfies Schema;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export const printerColumns: PrinterColumn[] = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Reason', type: 'string', jsonPath: '.status.reason', description: 'Why the lake job needs attention (Invalid/Failed reason, PodsCannotStart, Suspended); empty while all is well' },
  { name: 'Shards', type: 'integer', jsonPath: '.status.plan.shards', description: 'Scan shards of the current run' },
  { name: 'Progress', type: 'string', jsonPath: '.status.progress', description: 'Shards of the current stage done' },
  { name: 'Rows', type: 'integer', jsonPath: '.status.rows', description: 'Rows landed in the tables' },
  { name: 'Rejected', type: 'integer', jsonPath: '.status.records.rejected', description: 'Records quarantined' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Run', type: 'string', jsonPath: '.status.runId', priority: 1 },
  { name: 'Message', type: 'string', jsonPath: '.status.message', description: 'One line: what is wrong, or what the run is doing', priority: 1 },
];
