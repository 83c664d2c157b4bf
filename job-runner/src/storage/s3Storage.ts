// Storage on S3 (AWS, MinIO, s3rver, …) through @aws-sdk/client-s3.
//
// Every request goes through one path: a per-instance semaphore (bounded concurrency), then our
// retry policy (the SDK's own retries are off so that one schedule, with an injectable clock,
// governs everything), then error mapping to StorageError with an actionable message.
// Streams survive a connection dropped mid-body: they resume with a ranged GET from the last byte
// received, pinned to the object's ETag so a concurrent overwrite cannot splice two versions.
// The S3Client is not the instance's own: it is leased from a pool shared by every storage with the
// same client configuration (s3Clients.ts), taken on the first request and given back by close().
import type * as S3Sdk from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { checkKey, checkRange } from './keys.js';
import { partsOf, uploadParts, type MultipartCalls } from './multipart.js';
import type { S3Settings } from './options.js';
import { systemClock, withRetry, type RetryClock, type RetryOutcome } from './retry.js';
import { s3Sdk, sharedS3Clients, type S3ClientLease, type S3ClientPool } from './s3Clients.js';
import { classifyS3Error, isTransientS3Error, toStorageError, type S3Context } from './s3Errors.js';
import { Semaphore } from './semaphore.js';
import { StorageError, type ByteRange, type ObjectInfo, type Storage } from './storage.js';

/**
 * A storage dropped without close() gives its lease back when it is garbage collected, so a
 * forgotten close costs a client's lifetime, not a leak. (An operation in flight references the
 * storage, so a storage in use is never collected.)
 */
const leaseFinalizer = new FinalizationRegistry<S3ClientLease>((lease) => lease.release());

/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;

type Body = Readable & { destroy(err?: Error): void };

interface OpenBody {
  body: Body;
  release: () => void;
  etag: string | undefined;
  /** Which bytes of the body are the ones asked for (see servedWindow). */
  skip: number;
  limit: number;
}

export class S3Storage implements Storage {
  readonly root: string;
  private readonly sdk = s3Sdk();
  private readonly pool: S3ClientPool;
  private lease: S3ClientLease | null = null;
  /** Public operations in flight (a stream counts until it ends or is destroyed). */
  private ops = 0;
  /** close() was called while operations were in flight: give the lease back when they end. */
  private closeWhenIdle = false;
  private readonly sem: Semaphore;
  private readonly ctx: S3Context;
  private readonly clock: RetryClock;
  private bucketSeen = false;
  /** Set when the server turned DeleteObjects down: single deletes from then on. */
  private batchDeleteUnsupported = false;

  constructor(
    readonly bucket: string,
    /** '' or ending with '/' */
    readonly prefix: string,
    private readonly settings: S3Settings,
    opts: { clock?: RetryClock; source?: string; credentialsFrom?: string; clients?: S3ClientPool } = {},
  ) {
    this.root = `s3://${bucket}/${prefix}`;
    this.clock = opts.clock ?? systemClock;
    this.pool = opts.clients ?? sharedS3Clients;
    this.sem = new Semaphore(settings.maxConcurrency);
    this.ctx = {
      root: this.root,
      bucket,
      endpointLabel: settings.endpoint ?? `AWS S3 (${settings.region})`,
      source: opts.source,
      credentialsFrom: opts.credentialsFrom,
    };
  }

  /** The shared client, leased on first use (again after close(): a closed storage stays usable). */
  get client(): S3Sdk.S3Client {
    if (!this.lease) {
      this.lease = this.pool.acquire(this.settings);
      leaseFinalizer.register(this, this.lease, this);
    }
    return this.lease.client;
  }

  /**
   * Gives the shared client back: it is destroyed (its sockets closed) when no storage holds it.
   * Operations in flight finish first: the lease is returned when the last one ends. Idempotent. A
   * request made afterwards leases a client again, so closing a storage that someone still uses is
   * never an error, only a lost warm connection.
   */
  close(): void {
    if (this.ops > 0) this.closeWhenIdle = true;
    else this.returnLease();
  }

  /** The same as close() (the name this class had before clients were shared). */
  destroy(): void {
    this.close();
  }

  private returnLease(): void {
    this.closeWhenIdle = false;
    const lease = this.lease;
    if (!lease) return;
    this.lease = null;
    leaseFinalizer.unregister(this);
    lease.release();
  }

  private begin(): void {
    this.ops++;
    this.closeWhenIdle = false; // used again after close(): it keeps the client until the next close
  }

  private end(): void {
    this.ops--;
    if (this.ops === 0 && this.closeWhenIdle) this.returnLease();
  }

  private async tracked<T>(fn: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await fn();
    } finally {
      this.end();
    }
  }

  private target(key: string): string {
    return this.root + key;
  }

  /** One request with the semaphore held, retried per policy, errors mapped. */
  private async call<T>(op: string, key: string, attempt: () => Promise<T>): Promise<T> {
    return withRetry(
      () => this.sem.run(attempt),
      isTransientS3Error,
      this.settings.retry,
      this.clock,
      (err, outcome) => this.fail(err, op, key, outcome),
    );
  }

  private fail(err: unknown, op: string, key: string, outcome?: RetryOutcome): StorageError {
    return toStorageError(err, op, this.target(key), this.ctx, outcome);
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    checkKey(prefix, this.root, 'prefix');
    this.begin();
    try {
      yield* this.listPages(prefix);
    } finally {
      this.end();
    }
  }

  private async *listPages(prefix: string): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.client.send(new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token, MaxKeys: 1000 })),
      );
      this.bucketSeen = true;
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(this.prefix)) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) throw new StorageError('server', `S3 at ${this.ctx.endpointLabel} returned a truncated listing of ${this.target(prefix)} without a continuation token`, false);
    } while (token);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    checkKey(key, this.root);
    return this.tracked(() => this.headObject(key));
  }

  private async headObject(key: string): Promise<ObjectInfo | null> {
    try {
      const r = await this.call('read', key, () => this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })));
      this.bucketSeen = true;
      return { key, size: r.ContentLength ?? 0, etag: r.ETag, lastModified: r.LastModified };
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'not-found') {
        // A HEAD response has no body: a missing bucket also reads as a bare 404. Ask once.
        await this.checkBucket();
        return null;
      }
      throw err;
    }
  }

  private async checkBucket(): Promise<void> {
    if (this.bucketSeen) return;
    try {
      await this.call('read', '', () => this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket })));
      this.bucketSeen = true;
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'not-found') {
        throw this.fail(Object.assign(new Error('NoSuchBucket'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), 'read', '');
      }
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    checkKey(key, this.root);
    checkRange(range, this.target(key));
    if (range && range.end <= range.start) return Buffer.alloc(0);
    return this.tracked(() => this.getObject(key, range));
  }

  private async getObject(key: string, range: ByteRange | undefined): Promise<Buffer> {
    // The body is read inside the retried call: a connection dropped mid-body is retried whole.
    const got = await this.call('read', key, async () => {
      try {
        const r = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: rangeHeader(range) }));
        const body = await readAll(r.Body as Body, r.ContentLength);
        const w = servedWindow(range?.start ?? 0, range?.end, r.ContentRange);
        return w.skip === 0 && w.limit >= body.length ? body : body.subarray(w.skip, w.skip + w.limit);
      } catch (err) {
        if (isInvalidRange(err)) return Buffer.alloc(0);
        throw err;
      }
    });
    this.bucketSeen = true;
    return got;
  }

  async stream(key: string, range?: ByteRange): Promise<Readable> {
    checkKey(key, this.root);
    checkRange(range, this.target(key));
    if (range && range.end <= range.start) return Readable.from([], { objectMode: false });
    const start = range?.start ?? 0;
    this.begin();
    let first: OpenBody | null;
    try {
      first = await this.openBody(key, start, range?.end, undefined);
    } catch (err) {
      this.end();
      throw err;
    }
    if (!first) {
      this.end();
      return Readable.from([], { objectMode: false });
    }
    const body = { cur: first as OpenBody | null, started: false, settled: false };
    const settle = () => {
      if (body.settled) return;
      body.settled = true;
      if (body.cur) {
        body.cur.release();
        body.cur.body.destroy();
        body.cur = null;
      }
      this.end();
    };
    const readable = Readable.from(this.resumingChunks(key, body, start, range?.end, settle), { objectMode: false });
    // A stream destroyed before its first read never starts the generator, whose finally would give
    // back the semaphore slot and the response body: do it here (measured: a slot was lost before).
    readable.once('close', () => {
      if (!body.started) settle();
    });
    return readable;
  }

  /** A GET whose body is being read holds its semaphore slot until the body ends or is destroyed. */
  private async openBody(key: string, start: number, end: number | undefined, etag: string | undefined): Promise<OpenBody | null> {
    return withRetry(
      async () => {
        const release = await this.sem.acquire();
        try {
          const r = await this.client.send(
            new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: rangeHeader(start === 0 && end === undefined ? undefined : { start, end: end ?? Infinity }), IfMatch: etag }),
          );
          this.bucketSeen = true;
          return { body: r.Body as Body, release, etag: r.ETag, ...servedWindow(start, end, r.ContentRange) };
        } catch (err) {
          release();
          if (isInvalidRange(err)) return null;
          throw err;
        }
      },
      isTransientS3Error,
      this.settings.retry,
      this.clock,
      (err, outcome) => {
        if (etag && classifyS3Error(err).code === 'PreconditionFailed') {
          return new StorageError('server', `object ${this.target(key)} changed while it was being read (ETag ${etag} no longer matches); rerun to read the new version`, false, { cause: err });
        }
        return this.fail(err, 'read', key, outcome);
      },
    );
  }

  private async *resumingChunks(
    key: string,
    body: { cur: OpenBody | null; started: boolean },
    start: number,
    end: number | undefined,
    settle: () => void,
  ): AsyncGenerator<Buffer, void, undefined> {
    body.started = true;
    let cur = body.cur;
    let pos = start;
    let resumes = 0;
    const started = this.clock.now();
    try {
      while (cur) {
        try {
          let { skip, limit } = cur;
          for await (const raw of cur.body as AsyncIterable<Buffer>) {
            let chunk = raw;
            if (skip > 0) {
              const n = Math.min(skip, chunk.length);
              skip -= n;
              chunk = chunk.subarray(n);
            }
            if (chunk.length > limit) chunk = chunk.subarray(0, limit);
            limit -= chunk.length;
            pos += chunk.length;
            if (chunk.length > 0) yield chunk;
            if (limit === 0) break;
          }
          return;
        } catch (err) {
          cur.release();
          cur.body.destroy();
          const etag = cur.etag;
          cur = body.cur = null;
          resumes++;
          if (!isTransientS3Error(err) || resumes >= this.settings.retry.maxAttempts) throw this.fail(err, 'read', key, { attempts: resumes, elapsedMs: this.clock.now() - started });
          if (end !== undefined && pos >= end) return;
          cur = body.cur = await this.openBody(key, pos, end, etag);
        }
      }
    } finally {
      settle();
    }
  }

  async put(key: string, body: Buffer | Uint8Array | string, opts?: { contentType?: string }): Promise<void> {
    checkKey(key, this.root);
    return this.tracked(() => this.putBytes(key, body, opts?.contentType));
  }

  private async putBytes(key: string, body: Buffer | Uint8Array | string, contentType: string | undefined): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (bytes.length <= this.settings.partSize) return this.putObject(key, bytes, contentType);
    const size = this.settings.partSize;
    async function* slices(): AsyncGenerator<Buffer> {
      for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size);
    }
    await uploadParts(this.multipartCalls(key, contentType), slices(), this.settings.partConcurrency);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable, opts?: { contentType?: string }): Promise<void> {
    checkKey(key, this.root);
    return this.tracked(() => this.putParts(key, body, opts?.contentType));
  }

  private async putParts(key: string, body: AsyncIterable<Uint8Array> | Readable, contentType: string | undefined): Promise<void> {
    const parts = partsOf(body, this.settings.partSize)[Symbol.asyncIterator]();
    const first = await parts.next();
    if (first.done) return this.putObject(key, Buffer.alloc(0), contentType);
    const second = await parts.next();
    if (second.done) return this.putObject(key, first.value, contentType);
    async function* all(): AsyncGenerator<Buffer> {
      yield first.value as Buffer;
      yield second.value as Buffer;
      for (let r = await parts.next(); !r.done; r = await parts.next()) yield r.value;
    }
    try {
      await uploadParts(this.multipartCalls(key, contentType), all(), this.settings.partConcurrency);
    } finally {
      await parts.return(undefined);
    }
  }

  private async putObject(key: string, body: Buffer, contentType: string | undefined): Promise<void> {
    await this.call('write', key, () =>
      this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentLength: body.length, ContentType: contentType })),
    );
    this.bucketSeen = true;
  }

  private multipartCalls(key: string, contentType: string | undefined): MultipartCalls {
    const Bucket = this.bucket;
    const Key = this.prefix + key;
    return {
      create: async () => {
        const r = await this.call('write', key, () => this.client.send(new this.sdk.CreateMultipartUploadCommand({ Bucket, Key, ContentType: contentType })));
        if (!r.UploadId) throw new StorageError('server', `S3 at ${this.ctx.endpointLabel} started a multipart upload of ${this.target(key)} without an upload id`, false);
        return r.UploadId;
      },
      uploadPart: async (UploadId, PartNumber, body) => {
        const r = await this.call('write', key, () => this.client.send(new this.sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: body.length })));
        if (!r.ETag) throw new StorageError('server', `S3 at ${this.ctx.endpointLabel} accepted part ${PartNumber} of ${this.target(key)} without an ETag`, false);
        return r.ETag;
      },
      complete: async (UploadId, Parts) => {
        await this.call('write', key, () => this.client.send(new this.sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } })));
      },
      abort: async (UploadId) => {
        await this.call('write', key, () => this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })));
      },
    };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) checkKey(key, this.root);
    return this.tracked(() => this.deleteKeys(keys));
  }

  private async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      if (!this.batchDeleteUnsupported) {
        try {
          await this.deleteBatch(batch);
          continue;
        } catch (err) {
          if (!batchDeleteRefused(err)) throw err;
          this.batchDeleteUnsupported = true;
        }
      }
      await this.deleteOneByOne(batch);
    }
  }

  private async deleteBatch(batch: string[]): Promise<void> {
    const r = await this.call('delete', batch[0]!, () =>
      this.client.send(new this.sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.prefix + k })), Quiet: true } })),
    );
    const errors = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (errors.length > 0) {
      const e = errors[0]!;
      const key = (e.Key ?? '').startsWith(this.prefix) ? (e.Key ?? '').slice(this.prefix.length) : (e.Key ?? '');
      const err = this.fail(Object.assign(new Error(e.Message ?? e.Code ?? 'delete failed'), { name: e.Code ?? 'Unknown', $metadata: {} }), 'delete', key);
      throw new StorageError(err.kind, `${err.message} (${errors.length} of ${batch.length} keys in the batch failed)`, err.transient, { cause: err });
    }
  }

  private async deleteOneByOne(batch: string[]): Promise<void> {
    // The semaphore bounds the requests; starting them all at once just queues them there.
    await Promise.all(
      batch.map((key) =>
        this.call('delete', key, () => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }))).catch((err: unknown) => {
          if (err instanceof StorageError && err.kind === 'not-found') return;
          throw err;
        }),
      ),
    );
  }
}

function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (!range) return undefined;
  return Number.isFinite(range.end) ? `bytes=${range.start}-${range.end - 1}` : `bytes=${range.start}-`;
}

/**
 * Which bytes of a GET response are the ones asked for. S3 answers a ranged GET with exactly the
 * range, but not every server does: s3rver 3.7.1 answers `bytes=0-0` with the whole object, and a
 * server may ignore Range altogether (200 with the full body). Content-Range says what was sent.
 */
export function servedWindow(start: number, end: number | undefined, contentRange: string | undefined): { skip: number; limit: number } {
  const want = end === undefined || !Number.isFinite(end) ? Infinity : end - start;
  const m = contentRange ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim()) : null;
  const servedFrom = m ? Number(m[1]) : 0; // no Content-Range: the body is the whole object
  if (servedFrom > start) throw Object.assign(new Error(`server sent ${contentRange} for a request from byte ${start}`), { name: 'InvalidRangeResponse', $metadata: { httpStatusCode: 206 } });
  return { skip: start - servedFrom, limit: want };
}

function isInvalidRange(err: unknown): boolean {
  const f = classifyS3Error(err);
  return f.status === 416 || f.code === 'InvalidRange';
}

/** Servers without multi-object delete answer 501/405, or demand a Content-MD5 we do not send. */
function batchDeleteRefused(err: unknown): boolean {
  const cause = err instanceof StorageError ? err.cause : err;
  const f = classifyS3Error(cause);
  return f.status === 501 || f.status === 405 || f.code === 'NotImplemented' || f.code === 'MethodNotAllowed' || f.code === 'MissingContentMD5';
}

async function readAll(body: Body, length: number | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    total += chunk.length;
  }
  if (length !== undefined && total !== length) {
    throw Object.assign(new Error(`response body ended after ${total} of ${length} bytes`), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  }
  return Buffer.concat(chunks, total);
}
