// The embedded S3 server's contract, through @aws-sdk/client-s3 exactly as the engine reaches it:
// every operation the project uses, S3's error codes, paging over more than 1,000 keys, ranges,
// multipart, checksums, signatures, concurrent writers of one key, and the folder layout (a restarted
// server, and plain s3rver, read what was written).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type ListObjectsV2CommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Options } from '../../../devcluster/src/s3/embeddedS3.js';
import { tempDir } from '../../helpers/paths.js';

const MiB = 1024 * 1024;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const pattern = (n: number, seed = 1) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
};

const dirs: string[] = [];
const servers: EmbeddedS3[] = [];
const clients: S3Client[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function server(opts: Partial<EmbeddedS3Options> = {}): Promise<EmbeddedS3> {
  const directory = opts.directory ?? tempDir('slake-s3-contract-');
  if (!opts.directory) dirs.push(directory);
  const s = await startEmbeddedS3({ ...opts, directory });
  servers.push(s);
  return s;
}

function client(s: EmbeddedS3, config: Partial<S3ClientConfig> = {}): S3Client {
  const c = new S3Client({
    endpoint: s.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    ...config,
  });
  clients.push(c);
  return c;
}

interface Failure {
  code: string;
  status: number | undefined;
  message: string;
}
async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    const e = err as { Code?: string; name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { code: e.Code ?? e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('expected the request to fail');
}

async function bodyOf(c: S3Client, Bucket: string, Key: string, Range?: string): Promise<{ bytes: Buffer; etag?: string; contentRange?: string; contentType?: string; status?: number }> {
  const r = await c.send(new GetObjectCommand({ Bucket, Key, Range }));
  return { bytes: Buffer.from(await r.Body!.transformToByteArray()), etag: r.ETag, contentRange: r.ContentRange, contentType: r.ContentType, status: r.$metadata.httpStatusCode };
}

async function listAll(c: S3Client, input: ListObjectsV2CommandInput): Promise<{ keys: string[]; prefixes: string[]; pages: number }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await c.send(new ListObjectsV2Command({ ...input, ContinuationToken: token }));
    pages++;
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
    assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated) assert.ok(token, 'a truncated page carries a continuation token');
  } while (token);
  return { keys, prefixes, pages };
}

/** Every path under a folder, relative, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(rel + e.name + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(join(d, e.name), rel + e.name + '/');
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out.sort();
}

const utf8Sort = (keys: string[]) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('embedded S3 contract (fast path in front of s3rver)', () => {
  let s3: EmbeddedS3;
  let c: S3Client;
  let n = 0;
  /** A fresh bucket per case. */
  const bucket = async () => {
    const name = `case-${++n}`;
    await c.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  };
  before(async () => {
    s3 = await server();
    c = client(s3);
  });

  interface Case {
    name: string;
    run(b: string): Promise<void>;
  }
  const cases: Case[] = [
    {
      name: 'PutObject/GetObject: exact bytes, ETag = MD5, stored headers and user metadata',
      async run(b) {
        const data = pattern(70_000);
        const put = await c.send(new PutObjectCommand({ Bucket: b, Key: 'a/b.bin', Body: data, ContentType: 'application/vnd.apache.parquet', CacheControl: 'no-cache', Metadata: { run: 'r1' } }));
        assert.equal(put.ETag, `"${md5(data)}"`);
        const r = await c.send(new GetObjectCommand({ Bucket: b, Key: 'a/b.bin' }));
        assert.ok(Buffer.from(await r.Body!.transformToByteArray()).equals(data));
        assert.equal(r.ETag, `"${md5(data)}"`);
        assert.equal(r.ContentType, 'application/vnd.apache.parquet');
        assert.equal(r.CacheControl, 'no-cache');
        assert.deepEqual(r.Metadata, { run: 'r1' });
        assert.equal(r.ContentLength, data.length);
        assert.equal(r.AcceptRanges, 'bytes');
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: Buffer.alloc(0) }));
        const empty = await bodyOf(c, b, 'empty');
        assert.equal(empty.bytes.length, 0);
        assert.equal(empty.etag, `"${md5(Buffer.alloc(0))}"`);
      },
    },
    {
      name: 'PutObject with a streamed body of unknown length (WHEN_REQUIRED) stores exactly its bytes',
      async run(b) {
        const data = pattern(3 * MiB + 5, 2);
        const chunks = Array.from({ length: Math.ceil(data.length / 100_000) }, (_, i) => data.subarray(i * 100_000, (i + 1) * 100_000));
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'streamed', Body: Readable.from(chunks) }));
        const got = await bodyOf(c, b, 'streamed');
        assert.ok(got.bytes.equals(data));
        assert.equal(got.etag, `"${md5(data)}"`);
      },
    },
    {
      name: "the SDK's default checksums work: aws-chunked bodies are decoded, CRC32 verified",
      async run(b) {
        const defaults = client(s3, { requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
        const data = pattern(2 * MiB + 3, 3);
        const chunks = Array.from({ length: 21 }, (_, i) => data.subarray(i * 100_000, (i + 1) * 100_000));
        await defaults.send(new PutObjectCommand({ Bucket: b, Key: 'chunked', Body: Readable.from(chunks), ContentLength: data.length }));
        assert.ok((await bodyOf(c, b, 'chunked')).bytes.equals(data), 'stored without the aws-chunked framing');
        const small = Buffer.from('{"song_id":"SOX"}');
        const put = await defaults.send(new PutObjectCommand({ Bucket: b, Key: 'small.json', Body: small }));
        assert.ok(put.ChecksumCRC32, 'the checksum is echoed');
        assert.ok((await bodyOf(defaults, b, 'small.json')).bytes.equals(small));
      },
    },
    {
      name: 'a wrong Content-MD5 or CRC32 is BadDigest and leaves the previous version in place',
      async run(b) {
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
        const badMd5 = await failure(c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v2', ContentMD5: Buffer.alloc(16).toString('base64') })));
        assert.deepEqual([badMd5.code, badMd5.status], ['BadDigest', 400]);
        const badCrc = await failure(c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v2', ChecksumCRC32: 'AAAAAA==' })));
        assert.deepEqual([badCrc.code, badCrc.status], ['BadDigest', 400]);
        const goodMd5 = createHash('md5').update('v3').digest('base64');
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'fresh', Body: 'v3', ContentMD5: goodMd5 }));
        assert.equal((await bodyOf(c, b, 'k')).bytes.toString(), 'v1');
        assert.equal((await bodyOf(c, b, 'fresh')).bytes.toString(), 'v3');
      },
    },
    {
      name: 'a body that does not match its signed x-amz-content-sha256 is refused',
      async run(b) {
        const tamper = client(s3);
        tamper.middlewareStack.add(
          (next) => async (args) => {
            const req = args.request as { body?: unknown };
            if (Buffer.isBuffer(req.body) || req.body instanceof Uint8Array) req.body = Buffer.from('HELLO');
            return next(args);
          },
          { step: 'deserialize', name: 'swap-body-after-signing' },
        );
        const f = await failure(tamper.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('hello') })));
        assert.deepEqual([f.code, f.status], ['XAmzContentSHA256Mismatch', 400]);
        assert.equal((await failure(c.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })))).status, 404);
      },
    },
    {
      name: 'multipart upload: parts assembled in order; AbortMultipartUpload removes an upload',
      async run(b) {
        const p1 = pattern(5 * MiB, 4);
        const p2 = pattern(123_457, 5);
        const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big/m.bin', ContentType: 'text/plain' }));
        const [e2, e1] = await Promise.all([
          c.send(new UploadPartCommand({ Bucket: b, Key: 'big/m.bin', UploadId, PartNumber: 2, Body: p2 })),
          c.send(new UploadPartCommand({ Bucket: b, Key: 'big/m.bin', UploadId, PartNumber: 1, Body: p1 })),
        ]);
        await c.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'big/m.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
        const got = await bodyOf(c, b, 'big/m.bin');
        assert.ok(got.bytes.equals(Buffer.concat([p1, p2])));
        assert.equal(got.contentType, 'text/plain');
        const head = await c.send(new HeadObjectCommand({ Bucket: b, Key: 'big/m.bin' }));
        assert.equal(head.ContentLength, p1.length + p2.length);
        assert.equal(head.ETag, got.etag);
        assert.deepEqual((await listAll(c, { Bucket: b })).keys, ['big/m.bin'], 'no upload scratch space is listed');

        const aborted = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'gone' }));
        await c.send(new UploadPartCommand({ Bucket: b, Key: 'gone', UploadId: aborted.UploadId, PartNumber: 1, Body: p2 }));
        await c.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'gone', UploadId: aborted.UploadId }));
        const again = await failure(c.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'gone', UploadId: aborted.UploadId })));
        assert.deepEqual([again.code, again.status], ['NoSuchUpload', 404]);
        assert.equal((await failure(c.send(new HeadObjectCommand({ Bucket: b, Key: 'gone' })))).status, 404);
      },
    },
    {
      name: 'ranged GETs: single ranges as S3 serves them (206 + Content-Range, 416, ignored syntax)',
      async run(b) {
        const data = pattern(1000, 6);
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: data }));
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: Buffer.alloc(0) }));
        const big = pattern(3 * MiB, 7);
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big }));
        const table: [string, string, number, string | undefined, Buffer | string][] = [
          ['r', 'bytes=0-0', 206, 'bytes 0-0/1000', data.subarray(0, 1)],
          ['r', 'bytes=10-19', 206, 'bytes 10-19/1000', data.subarray(10, 20)],
          ['r', 'bytes=990-5000', 206, 'bytes 990-999/1000', data.subarray(990)],
          ['r', 'bytes=995-', 206, 'bytes 995-999/1000', data.subarray(995)],
          ['r', 'bytes=-3', 206, 'bytes 997-999/1000', data.subarray(997)],
          ['r', 'bytes=1000-1001', 416, undefined, 'InvalidRange'],
          ['r', 'bytes=5-2', 200, undefined, data],
          ['empty', 'bytes=0-', 416, undefined, 'InvalidRange'],
          ['big', `bytes=${MiB}-${2 * MiB + 10}`, 206, `bytes ${MiB}-${2 * MiB + 10}/${3 * MiB}`, big.subarray(MiB, 2 * MiB + 11)],
        ];
        for (const [key, range, status, contentRange, want] of table) {
          if (typeof want === 'string') {
            const f = await failure(bodyOf(c, b, key, range));
            assert.deepEqual([f.code, f.status], [want, status], range);
          } else {
            const got = await bodyOf(c, b, key, range);
            assert.equal(got.status, status, range);
            assert.equal(got.contentRange, contentRange, range);
            assert.ok(got.bytes.equals(want), range);
          }
        }
      },
    },
    {
      name: 'HeadObject, and S3 errors for missing objects and buckets',
      async run(b) {
        const before = Date.now();
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'h', Body: 'abc', ContentType: 'text/csv', Metadata: { k: 'v' } }));
        const head = await c.send(new HeadObjectCommand({ Bucket: b, Key: 'h' }));
        assert.deepEqual([head.ContentLength, head.ETag, head.ContentType, head.Metadata], [3, `"${md5(Buffer.from('abc'))}"`, 'text/csv', { k: 'v' }]);
        assert.ok(Math.abs(head.LastModified!.getTime() - before) < 5_000);
        assert.deepEqual(Object.values(await failure(c.send(new HeadObjectCommand({ Bucket: b, Key: 'nope' })))).slice(0, 2), ['NotFound', 404]);
        const nokey = await failure(c.send(new GetObjectCommand({ Bucket: b, Key: 'no/such' })));
        assert.deepEqual([nokey.code, nokey.status], ['NoSuchKey', 404]);
        for (const [op, send] of [
          ['GetObject', () => c.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' }))],
          ['PutObject', () => c.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'x', Body: 'x' }))],
          ['PutObject streamed', () => c.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'x', Body: Readable.from([Buffer.alloc(2 * MiB)]) }))],
          ['ListObjectsV2', () => c.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' }))],
          ['DeleteObject', () => c.send(new DeleteObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' }))],
          ['DeleteObjects', () => c.send(new DeleteObjectsCommand({ Bucket: 'no-such-bucket', Delete: { Objects: [{ Key: 'x' }] } }))],
        ] as const) {
          const f = await failure(send());
          assert.deepEqual([f.code, f.status], ['NoSuchBucket', 404], op);
        }
        assert.equal((await failure(c.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })))).status, 404);
        assert.equal((await c.send(new HeadBucketCommand({ Bucket: b }))).$metadata.httpStatusCode, 200);
        assert.ok(!existsSync(join(s3.directory, 'no-such-bucket')), 'a failed write does not create the bucket');
      },
    },
    {
      name: 'conditional GETs: If-Match 412, If-None-Match and If-Modified-Since 304',
      async run(b) {
        const put = await c.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'abc' }));
        const cases: [Record<string, unknown>, number][] = [
          [{ IfMatch: put.ETag }, 200],
          [{ IfMatch: '"0123"' }, 412],
          [{ IfNoneMatch: put.ETag }, 304],
          [{ IfNoneMatch: '"0123"' }, 200],
          [{ IfModifiedSince: new Date(Date.now() + 60_000) }, 304],
          [{ IfUnmodifiedSince: new Date(Date.now() - 3_600_000) }, 412],
        ];
        for (const [cond, status] of cases) {
          const got = await c.send(new GetObjectCommand({ Bucket: b, Key: 'c', ...cond })).then(
            async (r) => (await r.Body!.transformToString(), r.$metadata.httpStatusCode),
            (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
          );
          assert.equal(got, status, JSON.stringify(cond));
        }
      },
    },
    {
      name: 'conditional PUTs: If-None-Match: * creates only; If-Match replaces only that version',
      async run(b) {
        const first = await c.send(new PutObjectCommand({ Bucket: b, Key: 'once', Body: 'v1', IfNoneMatch: '*' }));
        const dup = await failure(c.send(new PutObjectCommand({ Bucket: b, Key: 'once', Body: 'v2', IfNoneMatch: '*' })));
        assert.deepEqual([dup.code, dup.status], ['PreconditionFailed', 412]);
        const stale = await failure(c.send(new PutObjectCommand({ Bucket: b, Key: 'once', Body: 'v2', IfMatch: '"00000000000000000000000000000000"' })));
        assert.deepEqual([stale.code, stale.status], ['PreconditionFailed', 412]);
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'once', Body: 'v3', IfMatch: first.ETag }));
        assert.equal((await bodyOf(c, b, 'once')).bytes.toString(), 'v3');
        const missing = await failure(c.send(new PutObjectCommand({ Bucket: b, Key: 'never', Body: 'x', IfMatch: first.ETag })));
        assert.deepEqual([missing.code, missing.status], ['NoSuchKey', 404]);
        // Only one of many racing creators wins.
        const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => c.send(new PutObjectCommand({ Bucket: b, Key: 'race', Body: `w${i}`, IfNoneMatch: '*' }))));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      },
    },
    {
      name: 'ListObjectsV2 pages past 1000 keys in S3 key order, whatever the page size',
      async run(b) {
        const keys = [
          ...Array.from({ length: 1200 }, (_, i) => `many/${String(i).padStart(5, '0')}.json`),
          'many/00001.json b', 'many/00001.json-b', 'many', 'many b', 'many-b', 'many0', 'é/1', 'ｱ', '😀', 'Z', 'a/b/c/d/e',
        ];
        let next = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (next < keys.length) {
            const k = keys[next++]!;
            await c.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
          }
        }));
        const want = utf8Sort(keys);
        const all = await listAll(c, { Bucket: b });
        assert.deepEqual(all.keys, want);
        assert.equal(all.pages, 2);
        const small = await listAll(c, { Bucket: b, MaxKeys: 97 });
        assert.deepEqual(small.keys, want);
        assert.equal(small.pages, Math.ceil(keys.length / 97));
        const page = await c.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'many/', MaxKeys: 2 }));
        assert.deepEqual(page.Contents?.map((o) => [o.Key, o.Size, o.ETag, o.StorageClass]), [
          ['many/00000.json', 15, `"${md5(Buffer.from('many/00000.json'))}"`, 'STANDARD'],
          ['many/00001.json', 15, `"${md5(Buffer.from('many/00001.json'))}"`, 'STANDARD'],
        ]);
        assert.ok(page.Contents!.every((o) => o.LastModified instanceof Date));
      },
    },
    {
      name: 'ListObjectsV2: prefixes, delimiters, start-after; common prefixes count toward MaxKeys',
      async run(b) {
        const keys = ['a', 'a b', 'a-b', 'a/1', 'a/2/x', 'a/2/y', 'a0', 'b/1', 'b/2', 'c', 'd/e/f'];
        for (const k of keys) await c.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }));
        const table: [string, Omit<ListObjectsV2CommandInput, 'Bucket'>, { keys: string[]; prefixes: string[] }][] = [
          ['delimiter /', { Delimiter: '/' }, { keys: ['a', 'a b', 'a-b', 'a0', 'c'], prefixes: ['a/', 'b/', 'd/'] }],
          ['delimiter / paged by 1', { Delimiter: '/', MaxKeys: 1 }, { keys: ['a', 'a b', 'a-b', 'a0', 'c'], prefixes: ['a/', 'b/', 'd/'] }],
          ['prefix a/ delimiter /', { Prefix: 'a/', Delimiter: '/' }, { keys: ['a/1'], prefixes: ['a/2/'] }],
          ['prefix a (not a folder)', { Prefix: 'a' }, { keys: ['a', 'a b', 'a-b', 'a/1', 'a/2/x', 'a/2/y', 'a0'], prefixes: [] }],
          ['prefix a delimiter /', { Prefix: 'a', Delimiter: '/' }, { keys: ['a', 'a b', 'a-b', 'a0'], prefixes: ['a/'] }],
          ['delimiter -', { Delimiter: '-' }, { keys: ['a', 'a b', 'a/1', 'a/2/x', 'a/2/y', 'a0', 'b/1', 'b/2', 'c', 'd/e/f'], prefixes: ['a-'] }],
          ['start-after a/1', { StartAfter: 'a/1' }, { keys: ['a/2/x', 'a/2/y', 'a0', 'b/1', 'b/2', 'c', 'd/e/f'], prefixes: [] }],
          ['start-after b/ with delimiter', { StartAfter: 'b/', Delimiter: '/' }, { keys: ['c'], prefixes: ['d/'] }],
          ['missing prefix', { Prefix: 'zz/' }, { keys: [], prefixes: [] }],
        ];
        for (const [name, input, want] of table) {
          const got = await listAll(c, { Bucket: b, ...input });
          assert.deepEqual({ keys: got.keys, prefixes: got.prefixes }, want, name);
        }
        const first = await c.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/', MaxKeys: 5 }));
        assert.deepEqual([first.Contents?.length, first.CommonPrefixes?.length, first.KeyCount, first.IsTruncated], [4, 1, 5, true]);
      },
    },
    {
      name: 'ListObjectsV2: fetch-owner, encoding-type=url, max-keys 0, and refused arguments',
      async run(b) {
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'sp ace/pl+us%', Body: 'x' }));
        const owned = await c.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
        assert.deepEqual(owned.Contents?.[0]?.Owner, { ID: '123456789000', DisplayName: 'S3rver' });
        const encoded = await c.send(new ListObjectsV2Command({ Bucket: b, EncodingType: 'url' }));
        assert.equal(decodeURIComponent(encoded.Contents![0]!.Key!), 'sp ace/pl+us%');
        const none = await c.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 0 }));
        assert.deepEqual([none.KeyCount, none.IsTruncated, none.Contents], [0, false, undefined]);
        const forged = await failure(c.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: 'bm90IG91cnM=' })));
        assert.deepEqual([forged.code, forged.status], ['InvalidArgument', 400]);
        const otherBucket = await c.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 1 }));
        void otherBucket;
      },
    },
    {
      name: 'DeleteObjects: 1000 keys, quiet and verbose, missing keys, XML-special keys; no empty folders left',
      async run(b) {
        const keys = Array.from({ length: 1000 }, (_, i) => `songs/year=${i % 7}/artist_id=AR${i}/part-0.parquet`);
        const odd = ['x&y<z>"\'', 'cr\rlf\nkey', 'tab\tkey ', ' lead', 'ü/ñ'];
        let next = 0;
        const all = [...keys, ...odd];
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (next < all.length) {
            const k = all[next++]!;
            await c.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }));
          }
        }));
        assert.deepEqual((await listAll(c, { Bucket: b })).keys, utf8Sort(all));
        const quiet = await c.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
        assert.deepEqual([quiet.Deleted, quiet.Errors], [undefined, undefined]);
        const verbose = await c.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [...odd, 'never/was'].map((Key) => ({ Key })) } }));
        assert.deepEqual(verbose.Deleted?.map((d) => d.Key), [...odd, 'never/was']);
        assert.deepEqual((await listAll(c, { Bucket: b })).keys, []);
        assert.deepEqual(filesUnder(join(s3.directory, b)), [], 'the folders of deleted keys are gone');
      },
    },
    {
      name: 'DeleteObject: 204 for present and missing keys',
      async run(b) {
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'd/x', Body: 'x' }));
        assert.equal((await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'd/x' }))).$metadata.httpStatusCode, 204);
        assert.equal((await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'd/x' }))).$metadata.httpStatusCode, 204);
        assert.equal((await failure(c.send(new HeadObjectCommand({ Bucket: b, Key: 'd/x' })))).status, 404);
        assert.deepEqual(filesUnder(join(s3.directory, b)), []);
      },
    },
    {
      name: 'credentials: a wrong access key is InvalidAccessKeyId, a wrong secret SignatureDoesNotMatch (403), on every operation',
      async run(b) {
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
        for (const [credentials, code] of [
          [{ accessKeyId: 'AKIAWRONG', secretAccessKey: 'S3RVER' }, 'InvalidAccessKeyId'],
          [{ accessKeyId: 'S3RVER', secretAccessKey: 'not-the-secret' }, 'SignatureDoesNotMatch'],
        ] as const) {
          const bad = client(s3, { credentials });
          for (const [op, send] of [
            ['GetObject', () => bad.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))],
            ['PutObject', () => bad.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'evil' }))],
            ['ListObjectsV2', () => bad.send(new ListObjectsV2Command({ Bucket: b }))],
            ['DeleteObjects', () => bad.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k' }] } }))],
            ['DeleteObject', () => bad.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))],
            ['CreateBucket', () => bad.send(new CreateBucketCommand({ Bucket: `${b}-x` }))],
            ['CreateMultipartUpload', () => bad.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'm' }))],
          ] as const) {
            const f = await failure(send());
            assert.deepEqual([f.code, f.status], [code, 403], op);
          }
          assert.equal((await failure(bad.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })))).status, 403);
        }
        assert.equal((await bodyOf(c, b, 'k')).bytes.toString(), 'x', 'nothing was changed');
      },
    },
    {
      name: 'a request changed after signing is SignatureDoesNotMatch; a skewed clock is RequestTimeTooSkewed',
      async run(b) {
        const tamper = (change: (req: { headers: Record<string, string>; path: string }) => void) => {
          const t = client(s3);
          t.middlewareStack.add(
            (next) => async (args) => {
              change(args.request as { headers: Record<string, string>; path: string });
              return next(args);
            },
            { step: 'deserialize', name: 'tamper-after-signing' },
          );
          return t;
        };
        const header = await failure(tamper((r) => (r.headers['x-amz-meta-who'] = 'mallory')).send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', Metadata: { who: 'alice' } })));
        assert.deepEqual([header.code, header.status], ['SignatureDoesNotMatch', 403]);
        const path = await failure(tamper((r) => (r.path = r.path.replace('/k', '/other'))).send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })));
        assert.deepEqual([path.code, path.status], ['SignatureDoesNotMatch', 403]);
        const skewed = await failure(client(s3, { systemClockOffset: 20 * 60 * 1000 }).send(new GetObjectCommand({ Bucket: b, Key: 'k' })));
        assert.deepEqual([skewed.code, skewed.status], ['RequestTimeTooSkewed', 403]);
      },
    },
    {
      name: 'presigned URLs: a GET signed by the SDK works; a tampered one is refused',
      async run(b) {
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'p q/r.txt', Body: 'presigned' }));
        const url = new URL(s3.endpoint);
        // The SDK's own signer, configured as @aws-sdk/s3-request-presigner does (UNSIGNED-PAYLOAD).
        const signer = await (c.config.signer as unknown as () => Promise<{ presign(req: object, opts: object): Promise<{ query: Record<string, string> }> }>)();
        const payload = 'x-amz-content-sha256';
        const signed = await signer.presign(
          { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: `/${b}/p%20q/r.txt`, headers: { host: url.host, [payload]: 'UNSIGNED-PAYLOAD' }, query: {} },
          { expiresIn: 300, unsignableHeaders: new Set([payload]), unhoistableHeaders: new Set([payload]) },
        );
        const query = new URLSearchParams(signed.query).toString();
        const ok = await fetch(`${s3.endpoint}/${b}/p%20q/r.txt?${query}`);
        assert.equal(ok.status, 200);
        assert.equal(await ok.text(), 'presigned');
        const bad = await fetch(`${s3.endpoint}/${b}/p%20q/r.txt?${query.replace('X-Amz-Expires=300', 'X-Amz-Expires=600')}`);
        assert.equal(bad.status, 403);
        assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
      },
    },
    {
      name: 'requests not signed with SigV4 (anonymous, V2 header or V2 query) are AccessDenied (403, S3 XML) and change nothing',
      async run(b) {
        await c.send(new PutObjectCommand({ Bucket: b, Key: 'private.txt', Body: 'secret' }));
        const v2Header = { Authorization: 'AWS S3RVER:frJIUN8DYpKDtOLCwo//yllqDzg=', Date: new Date().toUTCString() };
        const v2Query = `AWSAccessKeyId=S3RVER&Expires=${Math.floor(Date.now() / 1000) + 300}&Signature=frJIUN8DYpKDtOLCwo%2F%2FyllqDzg%3D`;
        const table: [string, string, string, RequestInit?][] = [
          ['GetObject', 'GET', `/${b}/private.txt`],
          ['HeadObject', 'HEAD', `/${b}/private.txt`],
          ['ListObjectsV2', 'GET', `/${b}?list-type=2`],
          ['ListObjects (v1)', 'GET', `/${b}`],
          ['ListBuckets', 'GET', '/'],
          ['PutObject overwrite', 'PUT', `/${b}/private.txt`, { body: 'evil' }],
          ['PutObject new', 'PUT', `/${b}/planted.txt`, { body: 'evil' }],
          ['DeleteObject', 'DELETE', `/${b}/private.txt`],
          ['DeleteObjects', 'POST', `/${b}?delete`, { body: '<Delete><Object><Key>private.txt</Key></Object></Delete>' }],
          ['CreateBucket', 'PUT', `/${b}-planted`],
          ['DeleteBucket', 'DELETE', `/${b}`],
          ['CreateMultipartUpload', 'POST', `/${b}/m.txt?uploads`],
          ['PutBucketCors', 'PUT', `/${b}?cors`, { body: '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>' }],
          ['GetObject, V2 header', 'GET', `/${b}/private.txt`, { headers: v2Header }],
          ['PutObject, V2 header', 'PUT', `/${b}/private.txt`, { headers: v2Header, body: 'evil' }],
          ['GetObject, V2 query', 'GET', `/${b}/private.txt?${v2Query}`],
          ['DeleteObject, V2 query', 'DELETE', `/${b}/private.txt?${v2Query}`],
        ];
        for (const [op, method, path, init] of table) {
          const r = await fetch(`${s3.endpoint}${path}`, { method, ...init });
          const body = await r.text();
          assert.equal(r.status, 403, `${op}: ${body}`);
          if (method === 'HEAD') continue;
          assert.match(body, /^<\?xml[^>]*>\s*<Error><Code>AccessDenied<\/Code><Message>Access Denied: [^<]*Signature Version 4[^<]*<\/Message>/, op);
        }
        assert.equal((await bodyOf(c, b, 'private.txt')).bytes.toString(), 'secret', 'nothing was overwritten or deleted');
        assert.deepEqual((await listAll(c, { Bucket: b })).keys, ['private.txt'], 'nothing was planted');
        assert.equal((await failure(c.send(new HeadBucketCommand({ Bucket: `${b}-planted` })))).status, 404, 'no bucket was created');
        // A CORS preflight is the one request S3 answers without credentials: it reaches the bucket's
        // CORS rules (none here), never its objects.
        const preflight = await fetch(`${s3.endpoint}/${b}/private.txt`, { method: 'OPTIONS', headers: { Origin: 'http://example.test', 'Access-Control-Request-Method': 'GET' } });
        assert.match(await preflight.text(), /<Code>CORSResponse<\/Code>/);
      },
    },
    {
      name: 'presigned URLs: a PUT signed by the SDK writes the object; the same URL used for another key is refused',
      async run(b) {
        const url = new URL(s3.endpoint);
        const signer = await (c.config.signer as unknown as () => Promise<{ presign(req: object, opts: object): Promise<{ query: Record<string, string> }> }>)();
        const payload = 'x-amz-content-sha256';
        const signed = await signer.presign(
          { method: 'PUT', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: `/${b}/up.txt`, headers: { host: url.host, [payload]: 'UNSIGNED-PAYLOAD' }, query: {} },
          { expiresIn: 300, unsignableHeaders: new Set([payload]), unhoistableHeaders: new Set([payload]) },
        );
        const query = new URLSearchParams(signed.query).toString();
        const ok = await fetch(`${s3.endpoint}/${b}/up.txt?${query}`, { method: 'PUT', body: 'uploaded' });
        assert.equal(ok.status, 200, await ok.text());
        assert.equal((await bodyOf(c, b, 'up.txt')).bytes.toString(), 'uploaded');
        const other = await fetch(`${s3.endpoint}/${b}/other.txt?${query}`, { method: 'PUT', body: 'evil' });
        assert.equal(other.status, 403);
        assert.match(await other.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
        assert.deepEqual((await listAll(c, { Bucket: b })).keys, ['up.txt']);
      },
    },
    {
      name: 'concurrent PUTs of one key end with exactly one complete object; readers never see a mix',
      async run(b) {
        // Small bodies take the synchronous path, large ones stream to a temporary file: mix them.
        const bodies = Array.from({ length: 16 }, (_, i) => pattern(i % 2 ? 3000 + i : 1_500_000 + i * 1000, 10 + i));
        const etags = new Map(bodies.map((d) => [`"${md5(d)}"`, d]));
        let writing = true;
        const reads: Promise<number>[] = Array.from({ length: 6 }, async () => {
          let seen = 0;
          while (writing) {
            const got = await bodyOf(c, b, 'hot').catch((err: { Code?: string }) => {
              if (err.Code === 'NoSuchKey') return null;
              throw err;
            });
            if (!got) continue;
            assert.equal(`"${md5(got.bytes)}"`, got.etag, 'the ETag belongs to the bytes served');
            assert.ok(etags.get(got.etag!)?.equals(got.bytes), 'a complete body of one writer');
            seen++;
          }
          return seen;
        });
        await Promise.all(bodies.map((Body, i) => c.send(new PutObjectCommand({ Bucket: b, Key: 'hot', Body: i % 3 === 0 ? Readable.from([Body]) : Body }))));
        writing = false;
        assert.ok((await Promise.all(reads)).reduce((a, x) => a + x, 0) > 0, 'readers saw versions');
        const final = await bodyOf(c, b, 'hot');
        assert.ok(etags.get(final.etag!)?.equals(final.bytes));
        const listed = await c.send(new ListObjectsV2Command({ Bucket: b }));
        assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.ETag, o.Size]), [['hot', final.etag, final.bytes.length]]);
        assert.deepEqual(filesUnder(join(s3.directory, b)).filter((f) => f.includes('tmp')), [], 'no temporary files are left');
      },
    },
    {
      name: 'keys the folder layout cannot hold are refused with a reason, not aliased',
      async run(b) {
        for (const Key of ['a//b', 'a/./b', 'x/../../etc']) {
          const f = await failure(c.send(new PutObjectCommand({ Bucket: b, Key, Body: 'x' })));
          assert.deepEqual([f.code, f.status], ['InvalidArgument', 400], Key);
          assert.match(f.message, /cannot store/);
        }
        assert.deepEqual((await listAll(c, { Bucket: b, Prefix: '../' })).keys, []);
        assert.deepEqual(filesUnder(join(s3.directory, b)), []);
      },
    },
  ];
  for (const k of cases) test(k.name, async () => k.run(await bucket()));
});

describe('embedded S3 data folder', () => {
  async function fill(s: EmbeddedS3, cl: S3Client): Promise<Map<string, { data: Buffer; type: string }>> {
    await cl.send(new CreateBucketCommand({ Bucket: 'keep' }));
    const objects = new Map([
      ['small/a.json', { data: Buffer.from('{"a":1}'), type: 'application/json' }],
      ['big/b.bin', { data: pattern(2 * MiB + 1, 9), type: 'application/octet-stream' }],
      ['plain', { data: Buffer.from('plain'), type: 'text/plain' }],
    ]);
    for (const [Key, o] of objects) await cl.send(new PutObjectCommand({ Bucket: 'keep', Key, Body: o.data, ContentType: o.type }));
    void s;
    return objects;
  }
  async function check(cl: S3Client, objects: Map<string, { data: Buffer; type: string }>): Promise<void> {
    assert.deepEqual((await listAll(cl, { Bucket: 'keep' })).keys, utf8Sort([...objects.keys()]));
    for (const [key, o] of objects) {
      const got = await bodyOf(cl, 'keep', key);
      assert.ok(got.bytes.equals(o.data), key);
      assert.equal(got.etag, `"${md5(o.data)}"`, key);
      assert.equal(got.contentType, o.type, key);
    }
  }

  test('a restarted server sees the same objects, ETags and headers', async () => {
    const first = await server();
    const objects = await fill(first, client(first));
    await first.stop();
    const second = await server({ directory: first.directory });
    await check(client(second), objects);
  });

  test('the folder layout is still s3rver\'s: plain s3rver reads what we wrote, and we read what it wrote', async () => {
    const ours = await server();
    const objects = await fill(ours, client(ours));
    await ours.stop();
    const plain = await server({ directory: ours.directory, variant: 's3rver' });
    await check(client(plain), objects);
    const more = { data: pattern(10_000, 11), type: 'image/png' };
    await client(plain).send(new PutObjectCommand({ Bucket: 'keep', Key: 'from/s3rver.png', Body: more.data, ContentType: more.type }));
    await plain.stop();
    const back = await server({ directory: ours.directory });
    await check(client(back), new Map([...objects, ['from/s3rver.png', more]]));
  });

  test('a server killed during an upload keeps the previous version, never part of the new one', async () => {
    const s = await server();
    const cl = client(s);
    await cl.send(new CreateBucketCommand({ Bucket: 'kill' }));
    await cl.send(new PutObjectCommand({ Bucket: 'kill', Key: 'k', Body: 'v1' }));
    let release!: () => void;
    const stall = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield pattern(3 * MiB, 12);
      await stall; // the rest never comes before the kill
      yield pattern(MiB, 13);
    }
    const upload = cl.send(new PutObjectCommand({ Bucket: 'kill', Key: 'k', Body: Readable.from(slow()), ContentLength: 4 * MiB })).catch(() => 'failed');
    const tmpSeen = async () => {
      for (let i = 0; i < 200; i++) {
        if (filesUnder(join(s.directory, 'kill')).some((f) => f.includes('_tmp'))) return true;
        await new Promise((r) => setTimeout(r, 25));
      }
      return false;
    };
    assert.ok(await tmpSeen(), 'the upload reached the server');
    process.kill(s.pid, 'SIGKILL');
    release();
    assert.equal(await upload, 'failed');
    const again = await server({ directory: s.directory });
    const cl2 = client(again);
    assert.equal((await bodyOf(cl2, 'kill', 'k')).bytes.toString(), 'v1');
    assert.deepEqual((await listAll(cl2, { Bucket: 'kill' })).keys, ['k']);
  });
});
