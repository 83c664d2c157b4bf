// HTTP plumbing: request bodies (JSON or YAML, size-limited), JSON responses, Status errors, and the
// content negotiation clients use to ask for Tables or metadata-only objects.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeProtobuf } from './protobuf.js';
import { ApiError, badRequest, internalError, notAcceptable, requestEntityTooLarge, status, unsupportedMediaType } from './errors.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw requestEntityTooLarge(MAX_BODY_BYTES);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/** Decodes a request body of a JSON or YAML media type (protobuf and CBOR are refused with 415). */
export function decodeBody(raw: Buffer, type: string, accepted: string[]): unknown {
  if (type === PROTOBUF && accepted.includes(PROTOBUF)) return decodeProtobuf(raw);
  if (!accepted.includes(type)) throw unsupportedMediaType(type, accepted.filter((t) => t !== PROTOBUF));
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  if (type.endsWith('yaml')) {
    try {
      return parseYaml(text, { maxAliasCount: 100 });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export interface Negotiated {
  /** What the client asked the body to be. */
  as: 'object' | 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';
}

/** Picks the first acceptable representation from the Accept header (JSON only). */
export function negotiate(accept: string | undefined): Negotiated {
  if (!accept) return { as: 'object' };
  let plainOk = false;
  for (const part of accept.split(',')) {
    const [type0, ...params] = part.split(';').map((s) => s.trim());
    const type = type0!.toLowerCase();
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*' && type !== 'application/yaml') continue;
    if (p.as === 'Table' && (p.g === 'meta.k8s.io' || !p.g)) return { as: 'Table' };
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && (p.g === 'meta.k8s.io' || !p.g)) return { as: p.as };
    if (!p.as) plainOk = true;
  }
  if (!plainOk) throw notAcceptable(['application/json', 'application/yaml', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
  return { as: 'object' };
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body) + '\n';
  res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown, log?: (line: string) => void): void {
  let err: ApiError;
  if (e instanceof ApiError) err = e;
  else {
    log?.(`internal error: ${(e as Error)?.stack ?? String(e)}`);
    err = internalError((e as Error)?.message ?? String(e));
  }
  sendJson(res, err.code, err.status, err.headers);
}

export function success(message?: string): object {
  const s: Record<string, unknown> = { ...status(200, '', '') };
  s.status = 'Success';
  delete s.reason;
  if (message) s.message = message;
  else delete s.message;
  return s;
}

/** `Warning: 299 - "text"` headers, as apiserver sends for unknown fields and deprecations. */
export function warningHeaders(warnings: string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}
