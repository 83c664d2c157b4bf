// How S3 failures become StorageErrors: which are worth retrying, and a message a person can act on.
// Pure functions of the error the SDK (or Node's HTTP stack) raised. Messages name the URI and the
// endpoint, never credentials.
import { StorageError, type StorageErrorKind } from './storage.js';
import type { RetryOutcome } from './retry.js';

export interface S3Context {
  /** `s3://bucket/prefix/` */
  root: string;
  bucket: string;
  /** `http://127.0.0.1:4568` or `AWS S3 (us-east-1)`. */
  endpointLabel: string;
  /** Where the URI came from (`spec.output`, `--out`), for hints. */
  source?: string;
  /**
   * Where the credentials come from, named in access errors: a pod or the operator gets them from a
   * Secret (the default), a person on a laptop from the environment (CREDENTIALS_FROM_ENV).
   */
  credentialsFrom?: string;
}

/** The default hint: the job-runner pods and the operator read credentials from a Secret. */
export const CREDENTIALS_FROM_SECRET = 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the Secret';
/** For a person at a shell (`sparkify-lake run`, `inspect`, `generate`). */
export const CREDENTIALS_FROM_ENV = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or a profile in ~/.aws/credentials';

export interface Failure {
  kind: StorageErrorKind;
  transient: boolean;
  status?: number;
  /** S3 error code (`SlowDown`, `NoSuchKey`) or Node error code (`ECONNREFUSED`). */
  code?: string;
  detail: string;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed while sending',
  ECONNABORTED: 'connection aborted',
  UND_ERR_SOCKET: 'socket error',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the response ended',
};

const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'ProvisionedThroughputExceededException', 'BandwidthLimitExceeded']);
// Credentials S3 saw and refused. Not CredentialsProviderError: that one means the SDK found no
// credentials at all and sent no request (classifyS3Error and toStorageError say so separately).
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'AuthorizationHeaderMalformed', 'InvalidSecurity']);
const TRANSIENT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'OperationAborted']);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  errors?: unknown[];
  cause?: unknown;
}

/** What kind of failure `err` is. */
export function classifyS3Error(err: unknown): Failure {
  if (err instanceof StorageError) return { kind: err.kind, transient: err.transient, detail: err.message };
  const e = (err ?? {}) as SdkLikeError;
  const status = e.$metadata?.httpStatusCode;
  const netCode = networkCode(e);
  if (netCode) return { kind: 'unreachable', transient: true, code: netCode, detail: NETWORK_CODES[netCode] ?? netCode.toLowerCase() };
  if (e.name === 'TimeoutError' || (e.name === 'RequestTimeout' && status === undefined)) return { kind: 'unreachable', transient: true, code: 'TimeoutError', detail: `timed out (${e.message ?? ''})` };
  const code = e.Code ?? (e.name && e.name !== 'Error' && e.name !== 'Unknown' && e.name !== 'UnknownError' ? e.name : undefined);
  if (code === 'CredentialsProviderError') return { kind: 'access-denied', transient: false, code, detail: 'no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' };
  if (status === undefined && code === undefined) return { kind: 'server', transient: false, detail: e.message ?? String(err) };
  const detail = `${status ?? '?'}${code ? ' ' + code : ''}`;
  if (code && THROTTLE_CODES.has(code)) return { kind: 'throttled', transient: true, status, code, detail };
  if (status === 429) return { kind: 'throttled', transient: true, status, code, detail };
  if (code === 'NoSuchBucket') return { kind: 'no-bucket', transient: false, status, code, detail };
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return { kind: 'not-found', transient: false, status, code, detail };
  if ((code && CREDENTIAL_CODES.has(code)) || code === 'AccessDenied' || status === 403 || status === 401) return { kind: 'access-denied', transient: false, status, code, detail };
  // 501: the server lacks the feature; asking again will not help.
  if (code === 'NotImplemented' || status === 501) return { kind: 'invalid', transient: false, status, code, detail: `${detail}: not supported by this S3 server` };
  if (code && TRANSIENT_CODES.has(code)) return { kind: 'server', transient: true, status, code, detail };
  if (status !== undefined && status >= 500) return { kind: status === 503 ? 'throttled' : 'server', transient: true, status, code, detail };
  return { kind: 'invalid', transient: false, status, code, detail: `${detail}${e.message && e.message !== code ? `: ${e.message}` : ''}` };
}

function networkCode(e: SdkLikeError): string | undefined {
  for (let cur: SdkLikeError | undefined = e, depth = 0; cur && depth < 4; cur = cur.cause as SdkLikeError | undefined, depth++) {
    if (cur.code && cur.code in NETWORK_CODES) return cur.code;
    // Node's happy-eyeballs connect reports an AggregateError of per-address errors.
    const first = Array.isArray(cur.errors) ? (cur.errors[0] as SdkLikeError | undefined) : undefined;
    if (first?.code && first.code in NETWORK_CODES) return first.code;
    if (cur.message === 'socket hang up' || cur.message === 'aborted') return 'ECONNRESET';
  }
  return undefined;
}

export function isTransientS3Error(err: unknown): boolean {
  return classifyS3Error(err).transient;
}

/**
 * The StorageError for a failed operation. `op` is a verb phrase (`read`, `list`, `write`),
 * `target` the full URI of what was touched.
 */
export function toStorageError(err: unknown, op: string, target: string, ctx: S3Context, outcome?: RetryOutcome): StorageError {
  if (err instanceof StorageError) return err;
  const f = classifyS3Error(err);
  const tries = outcome && outcome.attempts > 1 ? ` after ${outcome.attempts} attempts over ${(outcome.elapsedMs / 1000).toFixed(1)} s` : '';
  const fix = ctx.source ?? `the URI ${ctx.root}`;
  const creds = ctx.credentialsFrom ?? CREDENTIALS_FROM_SECRET;
  let message: string;
  switch (f.kind) {
    case 'no-bucket':
      message = `bucket "${ctx.bucket}" does not exist at ${ctx.endpointLabel} (create it, or fix ${fix})`;
      break;
    case 'not-found':
      message = `object ${target} does not exist`;
      break;
    case 'access-denied':
      message = f.code === 'CredentialsProviderError'
        ? `no S3 credentials for ${ctx.root} (no request was sent): set ${creds}`
        : f.code && CREDENTIAL_CODES.has(f.code)
          ? `S3 rejected the credentials for ${ctx.root} (${f.code}; check ${creds})`
          : `S3 denied ${op} on ${target} (${f.detail}): check ${creds}, and that they may access bucket "${ctx.bucket}"`;
      break;
    case 'unreachable':
      message = `cannot reach S3 endpoint ${ctx.endpointLabel}: ${f.detail} (${op} ${target}${tries})`;
      break;
    case 'throttled':
      message = `S3 kept throttling ${op} ${target} (${f.detail})${tries || ''}; lower the concurrency or retry later`;
      break;
    case 'server':
      message = `S3 at ${ctx.endpointLabel} failed to ${op} ${target} (${f.detail})${tries}`;
      break;
    default:
      message = `S3 refused to ${op} ${target}: ${f.detail}`;
  }
  return new StorageError(f.kind, message, f.transient, { cause: scrub(err) });
}

/**
 * The SDK attaches the raw HTTP response to service errors; keep only what helps debugging so that
 * nothing request-related (headers, signatures) travels with the error into logs.
 */
function scrub(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & SdkLikeError & { $response?: unknown; $fault?: string; $metadata?: unknown };
  const copy = new Error(e.message);
  copy.name = e.name;
  Object.assign(copy, { code: e.code, $fault: e.$fault, $metadata: e.$metadata });
  return copy;
}
