// Why a lake job cannot run, as Invalid verdicts a person can act on: rules the CRD schema cannot
// express, the operator's policy on runner images and S3 endpoints, S3 settings that are nowhere
// configured, and a credentials Secret that is missing, incomplete or unreadable. Pure: the
// observer has already looked at the Secret.
import { parseQuantity } from '../../../job-runner/src/index.js';
import type { LakeJobSpec } from '../crd/types.js';
import { canonicalImage, parseImageReference, repositoryAsWritten } from './imageReference.js';
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

// ── The operator's policy on what a lake job may name ──────────────────────────────────────────
// Creating a SparkifyLakeJob makes the operator create pods that get the namespace's S3 Secret as
// env, and send signed S3 requests from the operator's own pod. So who may create lake jobs could
// otherwise run any image with those credentials, or make the operator sign requests to any host.
// The runner image policy always applies (default: the repository of --runner-image); the endpoint
// policy only when an administrator lists origins (default: any, so existing setups keep working).

/** Patterns a person reads in a message: the first few, so a condition message stays short. */
const MAX_LISTED = 6;

/**
 * Why a runner image pattern is malformed (null when it is fine). A pattern is an exact reference
 * (`repo:tag`, `repo@digest`), a repository (`repo`: any tag or digest of it), or a prefix glob
 * with one trailing `*` (`ghcr.io/sparkify/*`; `*` alone allows any image).
 */
export function runnerImagePatternError(pattern: string): string | null {
  if (pattern.slice(0, -1).includes('*')) return `${JSON.stringify(pattern)}: "*" may only end a pattern (a prefix glob)`;
  if (pattern.endsWith('*')) return null;
  return parseImageReference(pattern) ? null : `${JSON.stringify(pattern)} is not an image reference (repo, repo:tag, repo@sha256:… or a prefix ending in *)`;
}

/** The policy when the administrator sets none: any tag or digest of the default image's repository. */
export function defaultRunnerImagePatterns(defaultImage: string): string[] {
  return [repositoryAsWritten(defaultImage)];
}

export function runnerImageAllowed(image: string, patterns: readonly string[]): boolean {
  const ref = parseImageReference(image);
  if (!ref) return false;
  const canonical = canonicalImage(ref);
  return patterns.some((p) => {
    if (p.endsWith('*')) {
      // As written or fully qualified: `sparkify/*` and `docker.io/sparkify/*` mean the same images.
      const prefix = p.slice(0, -1);
      return image.startsWith(prefix) || canonical.startsWith(prefix);
    }
    const want = parseImageReference(p);
    if (!want) return false;
    if (want.tag || want.digest) return canonicalImage(want) === canonical;
    return want.repository === ref.repository;
  });
}

/**
 * spec.runner.image against the policy. Leaving it out (or naming the operator's default exactly)
 * is always allowed: the administrator chose that image.
 */
export function runnerImageProblem(image: string | undefined, defaultImage: string, patterns: readonly string[]): Invalidity | null {
  if (image === undefined || image === defaultImage || runnerImageAllowed(image, patterns)) return null;
  const valid = parseImageReference(image) !== null;
  return {
    reason: 'RunnerImageNotAllowed',
    message:
      `spec.runner.image ${JSON.stringify(image)} ${valid ? 'is not allowed by this operator' : 'is not a valid image reference'}: ` +
      `allowed are ${listed(patterns.map(describePattern))} and the default ${defaultImage} (leave spec.runner.image out to use it); ` +
      `an administrator allows more images with the Helm value runner.allowedImages (operator flag --allowed-runner-images)`,
  };
}

function describePattern(p: string): string {
  if (p === '*') return 'any image';
  if (p.endsWith('*')) return `images starting with ${p.slice(0, -1)}`;
  const ref = parseImageReference(p);
  return ref && !ref.tag && !ref.digest ? `${p} (any tag or digest)` : p;
}

/** Why an entry of the endpoint policy is malformed (null when it is a URL origin). */
export function s3EndpointOriginError(origin: string): string | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return `${JSON.stringify(origin)} is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${JSON.stringify(origin)}: only http and https endpoints`;
  if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return `${JSON.stringify(origin)} is not a URL origin (scheme://host[:port], no path, user or query)`;
  return null;
}

/** `https://MinIO:443/` → `https://minio`: the form two spellings of one origin share. */
function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * spec.storage.endpoint against the policy: no list means any endpoint; a lake job that names no
 * endpoint uses the operator's default (--s3-endpoint) or AWS's own, both always allowed.
 */
export function s3EndpointProblem(endpoint: string | undefined, defaultEndpoint: string | undefined, origins: readonly string[]): Invalidity | null {
  if (!origins.length || endpoint === undefined) return null;
  const origin = originOf(endpoint);
  if (origin && (origin === (defaultEndpoint && originOf(defaultEndpoint)) || origins.some((o) => originOf(o) === origin))) return null;
  return {
    reason: 'S3EndpointNotAllowed',
    message:
      `spec.storage.endpoint ${JSON.stringify(endpoint)} is not allowed by this operator (no request was sent to it): ` +
      `allowed are ${listed(origins.map((o) => originOf(o) ?? o))}${defaultEndpoint ? ` and the default ${defaultEndpoint} (leave spec.storage.endpoint out to use it)` : ''}; ` +
      `an administrator allows more with the Helm value s3.allowedEndpoints (operator flag --allowed-s3-endpoints)`,
  };
}

function listed(items: string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}
