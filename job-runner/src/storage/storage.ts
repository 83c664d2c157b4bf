// The storage seam of the engine: one small interface, two implementations (S3 and local folders).
// Keys are always relative to the storage root and '/'-separated, so the engine never builds a
// bucket-qualified key by hand; the implementation owns how a key maps to S3 or to a path.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  /** Key relative to the storage root, '/'-separated, never starting with '/'. */
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
}

/** A byte range of an object: start inclusive, end exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface Storage {
  /** The root as a URI a person recognises: `s3://bucket/prefix/` or an absolute folder path. */
  readonly root: string;
  /** Every object under `prefix` (recursive), sorted by key. Missing prefixes yield nothing. */
  list(prefix?: string): AsyncIterable<ObjectInfo>;
  /** Null when the object does not exist. */
  head(key: string): Promise<ObjectInfo | null>;
  /** The whole object, or a byte range of it. Throws StorageError{kind:'not-found'} when missing. */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /** Streams the object (or a range) with bounded memory. */
  stream(key: string, range?: ByteRange): Promise<Readable>;
  /** Writes a whole object (multipart above the implementation's part size). Overwrites. */
  put(key: string, body: Buffer | Uint8Array | string, opts?: { contentType?: string }): Promise<void>;
  /** Writes an object from a stream with bounded memory (multipart on S3). Overwrites. */
  putStream(key: string, body: AsyncIterable<Uint8Array> | Readable, opts?: { contentType?: string }): Promise<void>;
  /** Deletes keys; missing keys are not an error. Batched by the implementation. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Optional: removes what writers killed mid-write left under `prefix` (invisible to `list`) whose
   * last write is older than `olderThan`; returns how many. Local folders leave temp files; S3 keeps
   * incomplete multipart uploads, which a bucket lifecycle rule (AbortIncompleteMultipartUpload)
   * expires, so S3Storage does not implement it.
   */
  removeStaleWrites?(prefix: string, olderThan: Date): Promise<number>;
  /**
   * Optional: gives back what the instance holds beyond itself. S3 storages share one client per
   * configuration (endpoint, region, credentials, addressing) and hold it from their first request
   * until close(); the client is destroyed when no storage holds it. Operations in flight finish
   * first; a request made after close() takes the client again. Local folders hold nothing. A
   * storage dropped without close() gives the client back when it is garbage collected.
   */
  close?(): void;
}

/**
 * What went wrong, in terms a caller can act on. `transient` errors (throttling, 5xx, network)
 * were already retried with backoff by the implementation; seeing one means retries ran out.
 */
export type StorageErrorKind =
  | 'not-found' // the object does not exist
  | 'no-bucket' // the bucket does not exist
  | 'access-denied' // credentials rejected or not allowed
  | 'unreachable' // endpoint cannot be reached (DNS, connection refused, TLS)
  | 'throttled' // 429/503 SlowDown after retries
  | 'server' // 5xx after retries
  | 'invalid' // a bad URI or argument
  | 'io'; // local file system error (permissions, disk full, ...)

export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}
