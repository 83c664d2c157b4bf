// The embedded S3 server's request handler: every request's SigV4 signature is verified here, and
// a request that is not SigV4-signed with a known key (header or presigned query) is refused with
// 403 AccessDenied before anything else looks at it; the only exception is a CORS preflight, which
// S3 answers without credentials and which reads and changes nothing. s3rver itself checks no V2
// signature and lets anonymous requests read, write and delete anything, so nothing unsigned may
// reach it. The operations the engine lives on (PutObject, GetObject, HeadObject, DeleteObject,
// ListObjectsV2, DeleteObjects, HeadBucket, AbortMultipartUpload) are answered directly from the
// object store, and everything else (bucket creation, multipart uploads, copies, ListObjects v1,
// CORS, presigned URLs) goes to s3rver's Koa app, whose store is patched to the same object store
// (s3rverStore.ts), so both paths see one consistent set of objects.
//
// Why: s3rver spends ~1.3 ms of CPU per small PUT (a dozen Koa middlewares, two config-file reads
// per request, three files written per object); this path spends a fraction of that.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { deleteObjects, headBucket, listObjectsV2 } from './bucketHandlers.js';
import { S3Error } from './errors.js';
import { abortMultipartUpload, deleteObject, getObject, putObject } from './objectHandlers.js';
import type { ObjectStore } from './objectStore.js';
import { isUsableBucketName, parseTarget } from './requests.js';
import { nextRequestId, sendError, type Exchange } from './respond.js';
import { parseQuery, type SigV4Verifier } from './sigv4.js';

export type Route = 'putObject' | 'getObject' | 'deleteObject' | 'abortMultipartUpload' | 'listObjectsV2' | 'deleteObjects' | 'headBucket';

const HANDLERS: Record<Route, (x: Exchange, store: ObjectStore) => Promise<void>> = {
  putObject,
  getObject,
  deleteObject,
  abortMultipartUpload,
  listObjectsV2,
  deleteObjects,
  headBucket,
};

const LIST_V2_PARAMS = new Set(['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'fetch-owner', 'encoding-type']);

/**
 * Which operation the fast path answers, or null for s3rver. `names` are the query parameter names
 * (the SDK's `x-id` marker left out), `headers` the lower-cased request headers.
 */
export function routeOf(method: string, key: string, names: readonly string[], query: ReadonlyMap<string, string>, headers: Readonly<Record<string, unknown>>): Route | null {
  const only = (...allowed: string[]) => names.every((n) => allowed.includes(n));
  if (key !== '') {
    switch (method) {
      case 'PUT':
        return only() && !('x-amz-copy-source' in headers) && !('x-amz-website-redirect-location' in headers) ? 'putObject' : null;
      case 'GET':
      case 'HEAD':
        return only() ? 'getObject' : null;
      case 'DELETE':
        return only() ? 'deleteObject' : names.length === 1 && names[0] === 'uploadId' ? 'abortMultipartUpload' : null;
      default:
        return null;
    }
  }
  switch (method) {
    case 'GET':
      return query.get('list-type') === '2' && names.every((n) => LIST_V2_PARAMS.has(n)) ? 'listObjectsV2' : null;
    case 'POST':
      return names.length === 1 && names[0] === 'delete' ? 'deleteObjects' : null;
    case 'HEAD':
      return only() ? 'headBucket' : null;
    default:
      return null;
  }
}

export interface FastPathOptions {
  store: ObjectStore;
  verifier: SigV4Verifier;
  /** Where requests the fast path does not answer go (s3rver's Koa callback). */
  fallback: RequestListener;
  log: (line: string) => void;
}

export function createRequestHandler(opts: FastPathOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, verifier, fallback, log } = opts;
  return (req, res) => {
    const requestId = nextRequestId();
    res.setHeader('x-amz-request-id', requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    try {
      const auth = verifier.verify({ method, rawPath, rawQuery, rawHeaders: req.rawHeaders });
      if (auth.kind !== 'v4' && !isCorsPreflight(method, req.headers)) throw unauthenticated(auth.kind);
      const { bucket, key } = parseTarget(rawPath);
      // s3rver joins bucket names into paths unchecked (`..` would leave its folder): refuse them for both paths.
      if (bucket !== '' && !isUsableBucketName(bucket)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
      const pairs = parseQuery(rawQuery);
      const query = new Map<string, string>();
      for (const [k, v] of pairs) if (!query.has(k)) query.set(k, v);
      const names = [...query.keys()].filter((n) => n !== 'x-id');
      const route = auth.kind === 'v4' && !auth.presigned && bucket !== '' && req.headers.origin === undefined ? routeOf(method, key, names, query, req.headers) : null;
      if (route === null) {
        fallback(req, res);
        return;
      }
      const x: Exchange = { req, res, requestId, bucket, key, query };
      HANDLERS[route](x, store).catch((err: unknown) => sendError(x, err, log));
    } catch (err) {
      sendError({ req, res, requestId }, err, log);
    }
  };
}

/** OPTIONS with Origin and Access-Control-Request-Method: answered from the bucket's CORS rules alone. */
export function isCorsPreflight(method: string, headers: Readonly<Record<string, unknown>>): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/** S3's answer to a request it cannot attribute to a key of this server (all its buckets are private). */
function unauthenticated(kind: 'anonymous' | 'other'): S3Error {
  const how =
    kind === 'anonymous'
      ? 'the request is not signed (no Authorization header, no X-Amz-Signature query): anonymous access is not allowed'
      : 'the request is signed with AWS Signature Version 2, which this server does not accept';
  return new S3Error('AccessDenied', `Access Denied: ${how}; sign it with Signature Version 4 (AWS4-HMAC-SHA256) using the credentials from the dev cluster's env file (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`);
}
