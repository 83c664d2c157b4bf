// PutObject, GetObject/HeadObject, DeleteObject and AbortMultipartUpload, served straight from the
// object store (objectStore.ts) instead of s3rver's Koa stack.
import { createReadStream, rm, stat } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { decodeAwsChunked } from './awsChunked.js';
import { CHECKSUM_NAMES, type BodyDigests, type ChecksumName } from './checksums.js';
import { noSuchBucket, noSuchKey, preconditionFailed, S3Error } from './errors.js';
import { UPLOADS_DIR } from './layout.js';
import { closeFd, readAtSync, type ObjectStore, type WriteCondition } from './objectStore.js';
import { bareEtag, evaluateConditions, parseRange, storedMetadata } from './requests.js';
import { header, readBody, sendEmpty, type Exchange } from './respond.js';

const statP = promisify(stat);
const rmP = promisify(rm);

/** Bodies up to this size are read into memory before they are written; larger ones stream. */
const BUFFERED_BODY = 1024 * 1024;
/** S3's limit for a single PutObject. */
const MAX_PUT = 5 * 1024 ** 3;
/** Ranges up to this size are read whole and sent in one write; larger ones stream from the file. */
const BUFFERED_READ = 1024 * 1024;

export async function putObject(x: Exchange, store: ObjectStore): Promise<void> {
  const { req, res } = x;
  const declared = header(req, 'content-length');
  const contentLength = declared === undefined ? undefined : Number(declared);
  if (contentLength !== undefined && contentLength > MAX_PUT) {
    throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: contentLength, MaxSizeAllowed: MAX_PUT });
  }
  const metadata = storedMetadata(req.headers);
  const payloadHash = header(req, 'x-amz-content-sha256') ?? '';
  const chunked = payloadHash.startsWith('STREAMING-') || /(^|,)\s*aws-chunked\s*(,|$)/.test(header(req, 'content-encoding') ?? '');
  const expected = expectedChecksums(x, chunked);
  const trailers = new Map<string, string>();
  const body =
    chunked ? decodeAwsChunked(req, trailers)
    : contentLength !== undefined && contentLength <= BUFFERED_BODY ? await readBody(req, BUFFERED_BODY)
    : req;
  const sha256Hex = /^[0-9a-fA-F]{64}$/.test(payloadHash) ? payloadHash.toLowerCase() : undefined;
  const decodedLength = header(req, 'x-amz-decoded-content-length');

  const { version, digests } = await store.put(x.bucket, x.key, {
    body,
    metadata,
    condition: writeCondition(x),
    digests: { sha256Hex: sha256Hex !== undefined, checksums: expected.names },
    verify(d) {
      if (chunked && decodedLength !== undefined && Number(decodedLength) !== d.size) {
        throw new S3Error('IncompleteBody', `The decoded body has ${d.size} bytes; x-amz-decoded-content-length says ${decodedLength}.`);
      }
      if (sha256Hex !== undefined && d.sha256Hex !== sha256Hex) {
        throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
          ClientComputedContentSHA256: sha256Hex,
          S3ComputedContentSHA256: d.sha256Hex!,
        });
      }
      verifyDigests(d, header(req, 'content-md5'), { ...expected.values, ...checksumTrailers(trailers) });
    },
  });
  const echo: Record<string, string> = { ETag: JSON.stringify(version.md5) };
  for (const name of expected.names) if (digests.checksums[name]) echo[`x-amz-checksum-${name}`] = digests.checksums[name]!;
  sendEmpty(res, 200, echo);
}

/** The flexible checksums a PutObject asked to verify: as headers, or (aws-chunked) as trailers. */
function expectedChecksums(x: Exchange, chunked: boolean): { names: ChecksumName[]; values: Partial<Record<ChecksumName, string>> } {
  const names: ChecksumName[] = [];
  const values: Partial<Record<ChecksumName, string>> = {};
  for (const name of CHECKSUM_NAMES) {
    const v = header(x.req, `x-amz-checksum-${name}`);
    if (v !== undefined) {
      names.push(name);
      values[name] = v;
    }
  }
  if (chunked) {
    for (const t of (header(x.req, 'x-amz-trailer') ?? '').split(',')) {
      const name = t.trim().toLowerCase().replace(/^x-amz-checksum-/, '') as ChecksumName;
      if (CHECKSUM_NAMES.includes(name) && !names.includes(name)) names.push(name);
    }
  }
  return { names, values };
}

function checksumTrailers(trailers: Map<string, string>): Partial<Record<ChecksumName, string>> {
  const out: Partial<Record<ChecksumName, string>> = {};
  for (const name of CHECKSUM_NAMES) {
    const v = trailers.get(`x-amz-checksum-${name}`);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Content-MD5 and x-amz-checksum-* against what the body hashed to: BadDigest on a mismatch. */
export function verifyDigests(d: BodyDigests, contentMd5: string | undefined, checksums: Partial<Record<ChecksumName, string>>): void {
  if (contentMd5 !== undefined) {
    if (Buffer.from(contentMd5, 'base64').length !== 16) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': contentMd5 });
    if (contentMd5 !== d.md5Base64) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', { ExpectedDigest: contentMd5, CalculatedDigest: d.md5Base64 });
    }
  }
  for (const [name, want] of Object.entries(checksums) as [ChecksumName, string][]) {
    const got = d.checksums[name];
    if (got !== undefined && got !== want) {
      throw new S3Error('BadDigest', `The ${name.toUpperCase()} you specified did not match the calculated checksum.`, { ExpectedChecksum: want, CalculatedChecksum: got });
    }
  }
}

/** Conditional writes: If-None-Match: * (create only) and If-Match: <etag> (replace that version only). */
function writeCondition(x: Exchange): WriteCondition | undefined {
  const ifNoneMatch = header(x.req, 'if-none-match');
  const ifMatch = header(x.req, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  }
  return { ...(ifNoneMatch !== undefined ? { ifNoneMatchAny: true } : {}), ...(ifMatch !== undefined ? { ifMatch: bareEtag(ifMatch) } : {}) };
}

/** GetObject and HeadObject: conditions, one byte range, stored headers. */
export async function getObject(x: Exchange, store: ObjectStore): Promise<void> {
  const { req, res } = x;
  const opened = await store.open(x.bucket, x.key);
  if (!opened) throw (await store.bucketExists(x.bucket)) ? noSuchKey(x.key) : noSuchBucket(x.bucket);
  let fdOwned = true;
  try {
    const v = opened.version;
    const etag = JSON.stringify(v.md5);
    const lastModified = v.lastModified.toUTCString();
    const condition = evaluateConditions(
      { ifMatch: header(req, 'if-match'), ifNoneMatch: header(req, 'if-none-match'), ifModifiedSince: header(req, 'if-modified-since'), ifUnmodifiedSince: header(req, 'if-unmodified-since') },
      v.md5,
      v.lastModified,
    );
    if (condition === 'precondition-failed') throw preconditionFailed(header(req, 'if-match') !== undefined ? 'If-Match' : 'If-Unmodified-Since');
    if (condition === 'not-modified') {
      res.writeHead(304, { ETag: etag, 'Last-Modified': lastModified });
      res.end();
      return;
    }
    const range = parseRange(header(req, 'range'), v.size);
    if (range.kind === 'unsatisfiable') {
      throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: header(req, 'range') ?? '', ActualObjectSize: v.size });
    }
    const start = range.kind === 'range' ? range.start : 0;
    const end = range.kind === 'range' ? range.end : v.size - 1; // inclusive; -1 for an empty object
    const length = end - start + 1;
    const headers: Record<string, string | number> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': v.metadata['content-type'] ?? 'binary/octet-stream',
      'Content-Length': length,
      ETag: etag,
      'Last-Modified': lastModified,
    };
    for (const [name, value] of Object.entries(v.metadata)) if (name !== 'content-type' && name !== 'x-amz-storage-class') headers[name] = value;
    const storageClass = v.metadata['x-amz-storage-class'];
    if (storageClass && storageClass !== 'STANDARD') headers['x-amz-storage-class'] = storageClass;
    if (range.kind === 'range') headers['Content-Range'] = `bytes ${start}-${end}/${v.size}`;
    res.writeHead(range.kind === 'range' ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
    } else if (opened.content) {
      res.end(opened.content.subarray(start, end + 1));
    } else if (length <= BUFFERED_READ) {
      res.end(readAtSync(opened.fd, start, length));
    } else {
      fdOwned = false; // the stream closes it
      await pipeline(createReadStream('', { fd: opened.fd, start, end, highWaterMark: 256 * 1024 }), res).catch((err: unknown) => {
        // A client that goes away mid-body is not an error of ours.
        if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
      });
    }
  } finally {
    if (fdOwned) await closeFd(opened.fd);
  }
}

export async function deleteObject(x: Exchange, store: ObjectStore): Promise<void> {
  if (!(await store.bucketExists(x.bucket))) throw noSuchBucket(x.bucket);
  await store.delete(x.bucket, x.key);
  sendEmpty(x.res, 204);
}

/** s3rver 3.7.1 has no AbortMultipartUpload (405); its uploads live in <bucket>/._S3rver_uploads/<id>. */
export async function abortMultipartUpload(x: Exchange, store: ObjectStore): Promise<void> {
  if (!(await store.bucketExists(x.bucket))) throw noSuchBucket(x.bucket);
  const uploadId = x.query.get('uploadId') ?? '';
  const dir = join(store.bucketPath(x.bucket), UPLOADS_DIR, uploadId);
  const exists = /^[0-9a-f]{1,64}$/.test(uploadId) && (await statP(dir).then((s) => s.isDirectory(), () => false));
  if (!exists) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
  }
  await rmP(dir, { recursive: true, force: true });
  sendEmpty(x.res, 204);
}
