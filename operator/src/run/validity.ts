// Why a lake job cannot run, as Invalid verdicts a person can act on: rules the CRD schema cannot
// express, S3 settings that are nowhere configured, and a credentials Secret that is missing,
// incomplete or unreadable. Pure: the observer has already looked at the Secret.
import { parseQuantity } from '../../../job-runner/src/index.js';
import type { LakeJobSpec } from '../crd/types.js';
import { SECRET_KEYS } from './jobs.js';
import type { SecretObservation } from './observed.js';
import { credentialsSetting, type ResolvedStorage } from './storage.js';

export interface Invalidity {
  reason: string;
  message: string;
  /** Look again after invalidRetryMs: the cause lies outside the spec (a Secret may appear). */
  retry?: boolean;
}

const KEYS = `${SECRET_KEYS.accessKeyId} and ${SECRET_KEYS.secretAccessKey}`;

export function validateSpec(spec: LakeJobSpec): Invalidity | null {
  let target: number;
  try {
    target = parseQuantity(spec.sharding.targetShardBytes, 'spec.sharding.targetShardBytes');
  } catch (err) {
    return { reason: 'InvalidSpec', message: (err as Error).message };
  }
  if (target < 1024) return { reason: 'InvalidSpec', message: `spec.sharding.targetShardBytes ${JSON.stringify(spec.sharding.targetShardBytes)} is below 1Ki: shards that small cost more in pod start-up than they save` };
  const out = withSlash(spec.output);
  for (const [field, uri] of [['spec.source.songs', spec.source.songs], ['spec.source.logs', spec.source.logs]] as const) {
    const src = withSlash(uri);
    if (out.startsWith(src) || src.startsWith(out)) {
      return { reason: 'OutputOverlapsInput', message: `spec.output ${spec.output} and ${field} ${uri} overlap: the lake would be read back as input by the next run; write it under a separate prefix` };
    }
  }
  return null;
}

/**
 * Neither the lake job nor the operator names a credentials Secret. Not retried: only an edit of
 * the spec (a new generation) or an operator restarted with a default can change that.
 */
export function storageNotConfigured(namespace: string): Invalidity {
  return {
    reason: 'StorageNotConfigured',
    message:
      `no S3 credentials: set spec.storage.credentialsSecret to a Secret in namespace "${namespace}" holding ${KEYS} ` +
      `(and spec.storage.endpoint, region, forcePathStyle for a store other than AWS us-east-1), ` +
      `or install the operator with defaults for every lake job (Helm values s3.credentialsSecret, s3.endpoint, s3.region, s3.forcePathStyle)`,
  };
}

export function secretProblem(secret: SecretObservation | undefined, storage: ResolvedStorage, namespace: string): Invalidity | null {
  const name = storage.credentialsSecret;
  if (!secret || secret.state === 'found') return null;
  if (secret.state === 'missing') return { reason: 'SecretNotFound', message: `Secret "${name}" (${credentialsSetting(storage)}) not found in namespace "${namespace}": create it with the keys ${KEYS}`, retry: true };
  if (secret.state === 'incomplete') return { reason: 'SecretKeyMissing', message: `Secret "${name}" in namespace "${namespace}" lacks ${secret.missingKeys.join(' and ')}: it must hold ${KEYS}`, retry: true };
  return { reason: 'SecretForbidden', message: `cannot read Secret "${name}" in namespace "${namespace}": ${secret.message}`, retry: true };
}

function withSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/**
 * The API server refused a stage Job for good. 422/400: a field the CRD cannot check (the runner's
 * resources, tolerations, affinity are passed through as written); 403: RBAC, a ResourceQuota or an
 * admission policy of the namespace. The API's own message names the field or the rule.
 */
export function jobRefusal(code: number, jobName: string, apiMessage: string): Invalidity & { reason: 'JobRejected' | 'JobForbidden' } {
  if (code === 403) {
    return { reason: 'JobForbidden', message: `the API server forbade creating Job ${jobName}: ${apiMessage} (check the operator's RBAC for this namespace — the chart's watchNamespaces — and its ResourceQuotas and admission policies)`, retry: true };
  }
  return { reason: 'JobRejected', message: `the API server rejected Job ${jobName}: ${apiMessage} (the Job is built from spec.runner — resources, nodeSelector, tolerations, affinity — and spec.sharding: fix the field it names)`, retry: true };
}
