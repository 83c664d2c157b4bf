// AWS Signature Version 4 verification for S3 (header and presigned-query forms). s3rver 3.7.1
// checks only the access key id of a V4 request; this checks the signature itself, so a wrong
// secret is refused with SignatureDoesNotMatch as AWS refuses it.
//
// Canonical request, S3 flavour: the URI is the path percent-decoded and re-encoded once (RFC 3986
// unreserved characters kept, '/' kept, no dot-segment normalisation); query parameters decoded,
// re-encoded and sorted; the signed headers' values trimmed with inner whitespace runs collapsed;
// the payload hash is the x-amz-content-sha256 header as sent (verified against the body elsewhere).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from './errors.js';

export interface RequestToVerify {
  method: string;
  /** The path as received, still percent-encoded. */
  rawPath: string;
  /** The query string as received, without '?'. */
  rawQuery: string;
  /** Node's rawHeaders: name, value, name, value, ... */
  rawHeaders: readonly string[];
}

export type AuthOutcome =
  | { kind: 'anonymous' }
  /** Not V4 (e.g. V2 signatures): refused by the caller (fastPath.ts), as s3rver would not check them. */
  | { kind: 'other' }
  | { kind: 'v4'; accessKeyId: string; presigned: boolean };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;

export class SigV4Verifier {
  private readonly signingKeys = new Map<string, Buffer>();

  constructor(
    /** access key id → secret access key */
    private readonly credentials: ReadonlyMap<string, string>,
    private readonly now: () => number = Date.now,
  ) {}

  verify(req: RequestToVerify): AuthOutcome {
    const headers = headerValues(req.rawHeaders);
    const authorization = headers.get('authorization')?.[0];
    const query = parseQuery(req.rawQuery);
    const presigned = query.some(([k]) => k === 'X-Amz-Algorithm');
    if (authorization === undefined && !presigned) return query.some(([k]) => k === 'Signature') ? { kind: 'other' } : { kind: 'anonymous' };
    if (authorization !== undefined && presigned) {
      throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified', { ArgumentName: 'Authorization' });
    }
    if (authorization !== undefined && !authorization.startsWith(ALGORITHM + ' ')) return { kind: 'other' };
    const parts = authorization !== undefined ? this.headerParts(authorization, headers) : this.queryParts(query);

    const secret = this.credentials.get(parts.accessKeyId);
    if (secret === undefined) {
      throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: parts.accessKeyId });
    }
    const canonical = canonicalRequest(req, query, headers, parts.signedHeaders, parts.payloadHash, presigned);
    const stringToSign = [ALGORITHM, parts.amzDate, parts.scope.join('/'), sha256Hex(canonical)].join('\n');
    const expected = createHmac('sha256', this.signingKey(secret, parts.scope)).update(stringToSign, 'utf8').digest();
    const provided = /^[0-9a-f]{64}$/.test(parts.signature) ? Buffer.from(parts.signature, 'hex') : Buffer.alloc(0);
    if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
      throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
        AWSAccessKeyId: parts.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: parts.signature,
        CanonicalRequest: canonical,
      });
    }
    return { kind: 'v4', accessKeyId: parts.accessKeyId, presigned };
  }

  private headerParts(authorization: string, headers: Map<string, string[]>): SignatureParts {
    const fields = new Map<string, string>();
    for (const piece of authorization.slice(ALGORITHM.length + 1).split(',')) {
      const eq = piece.indexOf('=');
      if (eq > 0) fields.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
    }
    for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
      if (!fields.has(name)) throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; missing ${name}.`);
    }
    const amzDate = headers.get('x-amz-date')?.[0];
    if (amzDate === undefined || Number.isNaN(parseAmzDate(amzDate))) {
      throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    }
    const skew = Math.abs(this.now() - parseAmzDate(amzDate));
    if (skew > MAX_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: amzDate,
        ServerTime: new Date(this.now()).toISOString().replace(/\.\d+/, ''),
        MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
      });
    }
    const payloadHash = headers.get('x-amz-content-sha256')?.[0];
    if (payloadHash === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    return { ...credentialScope(fields.get('Credential')!, amzDate, 'AuthorizationHeaderMalformed'), amzDate, signedHeaders: fields.get('SignedHeaders')!, signature: fields.get('Signature')!, payloadHash };
  }

  private queryParts(query: [string, string][]): SignatureParts {
    const q = new Map(query);
    if (q.get('X-Amz-Algorithm') !== ALGORITHM) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    for (const name of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires']) {
      if (!q.has(name)) {
        throw new S3Error('AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
      }
    }
    const amzDate = q.get('X-Amz-Date')!;
    const time = parseAmzDate(amzDate);
    if (Number.isNaN(time)) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
    const expires = Number(q.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 0 || expires > 604800) {
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be a non-negative integer of seconds, less than a week (604800)');
    }
    if (this.now() > time + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired', { 'X-Amz-Expires': expires });
    return { ...credentialScope(q.get('X-Amz-Credential')!, amzDate, 'AuthorizationQueryParametersError'), amzDate, signedHeaders: q.get('X-Amz-SignedHeaders')!, signature: q.get('X-Amz-Signature')!, payloadHash: 'UNSIGNED-PAYLOAD' };
  }

  private signingKey(secret: string, scope: string[]): Buffer {
    const id = `${secret}\n${scope.join('/')}`;
    let key = this.signingKeys.get(id);
    if (!key) {
      key = Buffer.from('AWS4' + secret, 'utf8');
      for (const part of scope) key = createHmac('sha256', key).update(part, 'utf8').digest();
      if (this.signingKeys.size > 64) this.signingKeys.clear();
      this.signingKeys.set(id, key);
    }
    return key;
  }
}

interface SignatureParts {
  accessKeyId: string;
  /** date, region, service, "aws4_request" */
  scope: string[];
  amzDate: string;
  signedHeaders: string;
  signature: string;
  payloadHash: string;
}

function credentialScope(credential: string, amzDate: string, code: string): { accessKeyId: string; scope: string[] } {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    throw new S3Error(code, `The credential ${JSON.stringify(credential)} is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  const [accessKeyId, date, region, service] = parts as [string, string, string, string, string];
  if (date !== amzDate.slice(0, 8)) throw new S3Error(code, `Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  if (service !== 's3') throw new S3Error(code, `The credential scope names service "${service}"; expecting "s3".`);
  return { accessKeyId, scope: [date, region, service, 'aws4_request'] };
}

/** 20130524T000000Z → epoch milliseconds (NaN when malformed). */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

export function canonicalRequest(
  req: RequestToVerify,
  query: [string, string][],
  headers: Map<string, string[]>,
  signedHeaders: string,
  payloadHash: string,
  presigned: boolean,
): string {
  const uri = req.rawPath.split('/').map((seg) => uriEncode(percentDecode(seg))).join('/');
  const canonicalQuery = query
    .filter(([k]) => !(presigned && k === 'X-Amz-Signature'))
    .map(([k, v]) => [uriEncode(Buffer.from(k, 'utf8')), uriEncode(Buffer.from(v, 'utf8'))] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${(headers.get(n) ?? []).map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`).join('');
  return [req.method, uri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
}

/** Lower-cased header name → values in arrival order. */
export function headerValues(rawHeaders: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const list = out.get(name);
    if (list) list.push(rawHeaders[i + 1]!);
    else out.set(name, [rawHeaders[i + 1]!]);
  }
  return out;
}

/** name/value pairs of a raw query string, percent-decoded ('+' stays '+', as SigV4 clients send %20). */
export function parseQuery(raw: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([percentDecode(k).toString('utf8'), percentDecode(v).toString('utf8')]);
  }
  return out;
}

/** Percent-decoding to bytes; a '%' not followed by two hex digits stays literal. */
export function percentDecode(s: string): Buffer {
  if (!s.includes('%')) return Buffer.from(s, 'utf8');
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x25 && i + 2 < raw.length && isHex(raw[i + 1]!) && isHex(raw[i + 2]!)) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16));
      i += 2;
    } else bytes.push(c);
  }
  return Buffer.from(bytes);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** RFC 3986 encoding of bytes: unreserved characters stay, every other byte is %XX. */
export function uriEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const unreserved = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
