// Storage on S3 (AWS, MinIO, s3rver, …) through @aws-sdk/client-s3.
//
// Every request goes through one path: a per-instance semaphore (bounded concurrency), then our
// retry policy (the SDK's own retries are off so that one schedule, with an injectable clock,
// governs everything), then error mapping to StorageError with an actionable message.
// Streams survive a connection dropped mid-body: they resume with a ranged GET from the last byte
// received, pinned to the object's ETag so a concurrent overwrite cannot splice two versions.
import type * as S3Sdk from '@aws-sdk/client-s3';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { checkKey, checkRange } from './keys.js';
import { partsOf, uploadParts, type MultipartCalls } from './multipart.js';
import type { S3Settings } from './options.js';
import { systemClock, withRetry, type RetryClock, type RetryOutcome } from './retry.js';
import { classifyS3Error, isTransientS3Error, toStorageError, type S3Context } from './s3Errors.js';
import { Semaphore } from './semaphore.js';
import { StorageError, type ByteRange, type ObjectInfo, type Storage } from './storage.js';

/**
 * The SDK, loaded on the first S3Storage: a shard of a local run (and the operator's plain planning)
 * never needs it, and loading it costs ~0.15 s of CPU per process. `require` keeps openStorage
 * synchronous; the SDK ships CommonJS builds.
 */
let sdk: typeof S3Sdk | null = null;
function s3Sdk(): typeof S3Sdk {
  sdk ??= createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3Sdk;
  return sdk;
}

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
  readonly client: S3Sdk.S3Client;
  private readonly sdk = s3Sdk();
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
    opts: { clock?: RetryClock; source?: string } = {},
  ) {
    this.root = `s3://${bucket}/${prefix}`;
    this.clock = opts.clock ?? systemClock;
    this.sem = new Semaphore(settings.maxConcurrency);
    this.ctx = {
      root: this.root,
      bucket,
      endpointLabel: settings.endpoint ?? `AWS S3 (${settings.region})`,
      source: opts.source,
    };
    const agent = { keepAlive: true, maxSockets: settings.maxConcurrency };
    this.client = new this.sdk.S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.credentials,
      maxAttempts: 1,
      // s3rver (and some gateways) store streamed bodies with aws-chunked framing otherwise.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 120_000, httpAgent: agent, httpsAgent: agent },
    });
  }

  /** Closes idle sockets. The instance must not be used afterwards. */
  destroy(): void {
    this.client.destroy();
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
    const first = await this.openBody(key, start, range?.end, undefined);
    if (!first) return Readable.from([], { objectMode: false });
    return Readable.from(this.resumingChunks(key, first, start, range?.end), { objectMode: false });
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

  private async *resumingChunks(key: string, first: OpenBody, start: number, end: number | undefined): AsyncGenerator<Buffer, void, undefined> {
    let cur: OpenBody | null = first;
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
          cur = null;
          resumes++;
          if (!isTransientS3Error(err) || resumes >= this.settings.retry.maxAttempts) throw this.fail(err, 'read', key, { attempts: resumes, elapsedMs: this.clock.now() - started });
          if (end !== undefined && pos >= end) return;
          cur = await this.openBody(key, pos, end, etag);
        }
      }
    } finally {
      if (cur) {
        cur.release();
        cur.body.destroy();
      }
    }
  }

  async put(key: string, body: Buffer | Uint8Array | string, opts?: { contentType?: string }): Promise<void> {
    checkKey(key, this.root);
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (bytes.length <= this.settings.partSize) return this.putObject(key, bytes, opts?.contentType);
    const size = this.settings.partSize;
    async function* slices(): AsyncGenerator<Buffer> {
      for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size);
    }
    await uploadParts(this.multipartCalls(key, opts?.contentType), slices(), this.settings.partConcurrency);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable, opts?: { contentType?: string }): Promise<void> {
    checkKey(key, this.root);
    const parts = partsOf(body, this.settings.partSize)[Symbol.asyncIterator]();
    const first = await parts.next();
    if (first.done) return this.putObject(key, Buffer.alloc(0), opts?.contentType);
    const second = await parts.next();
    if (second.done) return this.putObject(key, first.value, opts?.contentType);
    async function* all(): AsyncGenerator<Buffer> {
      yield first.value as Buffer;
      yield second.value as Buffer;
      for (let r = await parts.next(); !r.done; r = await parts.next()) yield r.value;
    }
    try {
      await uploadParts(this.multipartCalls(key, opts?.contentType), all(), this.settings.partConcurrency);
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
