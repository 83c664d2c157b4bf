// Options of openStorage, and how S3 settings are resolved from them and the environment. Pure:
// the environment is a parameter, so the precedence rules are tested without touching process.env.
import { StorageError } from './storage.js';
import { DEFAULT_RETRY_POLICY, type RetryClock, type RetryPolicy } from './retry.js';
import type { S3ClientPool } from './s3Clients.js';

export interface OpenStorageOptions {
  /** S3 endpoint URL (MinIO, s3rver, …). Else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Else AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
  region?: string;
  /** Else SPARKIFY_S3_FORCE_PATH_STYLE, else true when a custom endpoint is set. */
  forcePathStyle?: boolean;
  /** Else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Max concurrent requests per storage instance (default 16). */
  maxConcurrency?: number;
  /** Retry schedule for throttling, 5xx and network errors. */
  retry?: Partial<RetryPolicy>;
  /** Injected time, sleep and randomness (tests). */
  clock?: RetryClock;
  /** Multipart part size in bytes (default 8 MiB, S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once per multipart upload (default 4). */
  partConcurrency?: number;
  /** Where the URI came from, named in error messages: e.g. `spec.output`, `--out`. */
  source?: string;
  /**
   * Where credentials come from, named in access errors (default: `AWS_ACCESS_KEY_ID/… or the
   * Secret`, right for pods and the operator; the CLI passes CREDENTIALS_FROM_ENV of s3Errors.ts).
   */
  credentialsFrom?: string;
  /** The environment to read AWS_* from (default process.env). */
  env?: Record<string, string | undefined>;
  /**
   * Where the S3 client comes from (default: the process's shared pool, one client per client
   * configuration). Tests and measurements pass their own pool to keep a client to themselves.
   */
  clients?: S3ClientPool;
}

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  maxConcurrency: number;
  retry: RetryPolicy;
  partSize: number;
  partConcurrency: number;
}

export const DEFAULT_MAX_CONCURRENCY = 16;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_CONCURRENCY = 4;

export function resolveS3Settings(opts: OpenStorageOptions, env: Record<string, string | undefined>): S3Settings {
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  const endpoint = nonEmpty(opts.endpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined) checkEndpoint(endpoint);
  const region = nonEmpty(opts.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1';
  const forcePathStyle = opts.forcePathStyle ?? parseBool(env.SPARKIFY_S3_FORCE_PATH_STYLE, 'SPARKIFY_S3_FORCE_PATH_STYLE') ?? endpoint !== undefined;
  let credentials = opts.credentials;
  if (!credentials) {
    const id = nonEmpty(env.AWS_ACCESS_KEY_ID);
    const secret = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
    if ((id === undefined) !== (secret === undefined)) {
      throw new StorageError('invalid', `only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set: set both (or neither, to use the SDK's default credential chain)`, false);
    }
    if (id !== undefined && secret !== undefined) credentials = { accessKeyId: id, secretAccessKey: secret, ...(nonEmpty(env.AWS_SESSION_TOKEN) ? { sessionToken: nonEmpty(env.AWS_SESSION_TOKEN)! } : {}) };
  }
  const maxConcurrency = opts.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  const partConcurrency = opts.partConcurrency ?? DEFAULT_PART_CONCURRENCY;
  const retry = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  positiveInt(maxConcurrency, 'maxConcurrency');
  positiveInt(partConcurrency, 'partConcurrency');
  positiveInt(retry.maxAttempts, 'retry.maxAttempts');
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw new StorageError('invalid', `partSize must be at least ${MIN_PART_SIZE} bytes (S3's minimum part size), got ${partSize}`, false);
  }
  return { endpoint, region, forcePathStyle, credentials, maxConcurrency, retry, partSize, partConcurrency };
}

function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StorageError('invalid', `invalid S3 endpoint ${JSON.stringify(endpoint)}: want a URL like http://minio:9000`, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StorageError('invalid', `invalid S3 endpoint ${JSON.stringify(endpoint)}: the scheme must be http or https`, false);
  }
  if (url.username || url.password) {
    throw new StorageError('invalid', `invalid S3 endpoint: credentials do not belong in the URL (use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`, false);
  }
}

function parseBool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new StorageError('invalid', `${name}=${JSON.stringify(value)}: want true or false`, false);
}

function positiveInt(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1) throw new StorageError('invalid', `${name} must be a positive integer, got ${n}`, false);
}
