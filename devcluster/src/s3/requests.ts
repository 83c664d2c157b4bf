// Pure request semantics of the object operations: which bucket and key a path names, byte ranges,
// conditional headers, and which request headers are stored with an object. No I/O here.
import { S3Error } from './errors.js';
import type { StoredMetadata } from './objectStore.js';

/** Bucket and key of a path-style request path (still percent-encoded); key '' for bucket requests. */
export function parseTarget(rawPath: string): { bucket: string; key: string } {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const slash = path.indexOf('/');
  try {
    return slash < 0 ? { bucket: decodeURIComponent(path), key: '' } : { bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", { URI: rawPath });
  }
}

/** Bucket names the server can hold as a folder (S3's rules are stricter for creating them). */
export function isUsableBucketName(bucket: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket) && !bucket.includes('..');
}

export type RangeOutcome = { kind: 'whole' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * An HTTP Range header against an object of `size` bytes, as S3 answers it: one `bytes=` range
 * (`a-b`, `a-`, `-n`), inclusive ends clamped to the object, 416 when it starts past the end (any
 * range of an empty object), and a header S3 does not understand (several ranges, bad syntax,
 * b < a) ignored: the whole object.
 */
export function parseRange(header: string | undefined, size: number): RangeOutcome {
  if (header === undefined) return { kind: 'whole' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}

export interface ConditionalHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/**
 * RFC 9110 §13.2.2 order, which is also S3's: If-Match (412), else If-Unmodified-Since (412);
 * then If-None-Match (304), else If-Modified-Since (304). Dates compare at the second, as
 * Last-Modified is sent; unparseable dates are ignored.
 */
export function evaluateConditions(h: ConditionalHeaders, md5: string, lastModified: Date): 'proceed' | 'not-modified' | 'precondition-failed' {
  const seconds = Math.floor(lastModified.getTime() / 1000);
  if (h.ifMatch !== undefined) {
    if (!etagListMatches(h.ifMatch, md5)) return 'precondition-failed';
  } else if (h.ifUnmodifiedSince !== undefined) {
    const t = Date.parse(h.ifUnmodifiedSince);
    if (!Number.isNaN(t) && seconds > Math.floor(t / 1000)) return 'precondition-failed';
  }
  if (h.ifNoneMatch !== undefined) {
    if (etagListMatches(h.ifNoneMatch, md5)) return 'not-modified';
  } else if (h.ifModifiedSince !== undefined) {
    const t = Date.parse(h.ifModifiedSince);
    if (!Number.isNaN(t) && seconds <= Math.floor(t / 1000)) return 'not-modified';
  }
  return 'proceed';
}

/** `*` or a comma-separated list of (possibly weak, possibly unquoted) ETags containing this MD5. */
export function etagListMatches(list: string, md5: string): boolean {
  if (list.trim() === '*') return true;
  return list.split(',').some((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, '') === md5);
}

/** The ETag an If-Match on a write names (quotes and W/ removed), as the hex MD5 it compares with. */
export function bareEtag(value: string): string {
  return value.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'content-type', 'expires', 'x-amz-storage-class', 'x-amz-website-redirect-location'];
const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'EXPRESS_ONEZONE'];

/** The request headers S3 keeps with an object (as s3rver stores them), x-amz-meta-* included. */
export function storedMetadata(headers: Record<string, string | string[] | undefined>): StoredMetadata {
  const out: StoredMetadata = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (name.startsWith('x-amz-meta-')) out[name] = value;
    else if (STORED_HEADERS.includes(name)) out[name] = value;
  }
  // aws-chunked is the transfer framing of the upload, not an encoding of the stored bytes.
  if (out['content-encoding'] !== undefined) {
    const kept = out['content-encoding'].split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked');
    if (kept.length) out['content-encoding'] = kept.join(',');
    else delete out['content-encoding'];
  }
  const storageClass = out['x-amz-storage-class'];
  if (storageClass !== undefined && !STORAGE_CLASSES.includes(storageClass)) throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid');
  return out;
}
