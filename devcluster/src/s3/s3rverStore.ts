// Points s3rver's own object code at our object store, so the requests s3rver still answers
// (multipart completion, copies, POST uploads, ListObjects v1, DeleteBucket's emptiness check) read
// and write objects exactly as the fast path does: atomically, under the same per-key locks, with
// the same ETag cache, in S3 key order. Patched at runtime on s3rver 3.7.1's FilesystemStore
// prototype; its bucket and configuration methods stay as they are.
import { createReadStream } from 'node:fs';
import type { createRequire } from 'node:module';
import { S3Error } from './errors.js';
import { listPage } from './listing.js';
import { closeFd, type ObjectStore, type ObjectVersion } from './objectStore.js';
import { storedMetadata } from './requests.js';

type Require = ReturnType<typeof createRequire>;
type S3ObjectClass = new (bucket: string, key: string, content: unknown, metadata: Record<string, unknown>) => { range?: { start: number; end: number } };
type S3rverErrorClass = new (code: string, message: string, detail?: Record<string, unknown>) => Error;

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: Record<string, string>;
}

export function patchS3rverStore(require: Require, store: ObjectStore): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: Record<string, unknown> };
  const S3Object = require('s3rver/lib/models/object') as S3ObjectClass;
  const S3rverError = require('s3rver/lib/models/error') as S3rverErrorClass;

  /** s3rver's metadata shape: stored headers plus etag (quoted), last-modified, content-length. */
  const s3rverMetadata = (v: ObjectVersion) => ({ ...v.metadata, etag: JSON.stringify(v.md5), 'last-modified': v.lastModified.toUTCString(), 'content-length': v.size });
  // s3rver's error middleware turns foreign errors into a generic 500: hand it its own kind.
  const translate = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof S3Error) throw new S3rverError(err.code, err.message, err.detail);
      throw err;
    }
  };
  const notFound = () => Object.assign(new Error('ENOENT: no such object'), { code: 'ENOENT' });

  const p = FilesystemStore.prototype;
  p.getMetadata = (bucket: string, key: string) =>
    translate(async () => {
      const v = await store.head(bucket, key);
      if (!v) throw notFound(); // s3rver expects getMetadata to throw for a missing object
      return s3rverMetadata(v);
    });
  p.existsObject = (bucket: string, key: string) => translate(async () => (await store.head(bucket, key)) !== null);
  p.getObject = (bucket: string, key: string, options?: { start?: number; end?: number }) =>
    translate(async () => {
      const opened = await store.open(bucket, key);
      if (!opened) return null;
      const metadata = s3rverMetadata(opened.version);
      // s3rver's own range semantics (its controller parses the header), kept as they were.
      const lastByte = Math.max(0, opened.version.size - 1);
      const range = { start: options?.start ?? 0, end: Math.min(options?.end || Infinity, lastByte) };
      const ranged = options !== undefined && (options.start !== undefined || Boolean(options.end));
      if (range.start < 0 || range.end < range.start) {
        await closeFd(opened.fd);
        const object = new S3Object(bucket, key, null, metadata);
        if (ranged) object.range = range;
        return object;
      }
      const object = new S3Object(bucket, key, createReadStream('', { fd: opened.fd, start: range.start, end: range.end }), metadata);
      if (ranged) object.range = range;
      return object;
    });
  p.putObject = (object: S3rverObject) =>
    translate(async () => {
      const body = Buffer.isBuffer(object.content) ? object.content : (object.content as AsyncIterable<Uint8Array>);
      const { version } = await store.put(object.bucket, object.key, { body, metadata: storedMetadata(object.metadata) });
      return { size: version.size, md5: version.md5 };
    });
  p.copyObject = (srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacementMetadata?: Record<string, string>) =>
    translate(async () => {
      const src = await store.open(srcBucket, srcKey);
      if (!src) throw notFound();
      let body: Buffer | AsyncIterable<Uint8Array>;
      if (src.content) {
        body = src.content;
        await closeFd(src.fd);
      } else body = createReadStream('', { fd: src.fd });
      const metadata = replacementMetadata ? storedMetadata(replacementMetadata) : src.version.metadata;
      const { version } = await store.put(destBucket, destKey, { body, metadata });
      return s3rverMetadata(version);
    });
  p.deleteObject = (bucket: string, key: string) => translate(async () => void (await store.delete(bucket, key)));
  p.listObjects = (bucket: string, options: { delimiter?: string; startAfter?: string; prefix?: string; maxKeys?: number }) =>
    translate(async () => {
      const page = await listPage(store, bucket, {
        prefix: options.prefix ?? '',
        delimiter: options.delimiter ?? '',
        startAfter: options.startAfter ?? '',
        maxKeys: options.maxKeys ?? Infinity,
      });
      return {
        objects: page.objects.map(({ key, version }) => new S3Object(bucket, key, null, s3rverMetadata(version))),
        commonPrefixes: page.commonPrefixes,
        isTruncated: page.isTruncated,
      };
    });
}
