// Response and body helpers shared by the embedded server's handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from './errors.js';
import { errorDocument } from './xml.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  bucket: string;
  key: string;
  /** decoded query parameters (the first value of each name) */
  query: Map<string, string>;
}

let requests = 0;
const idPrefix = (process.pid & 0xffff).toString(16).toUpperCase().padStart(4, '0');
export function nextRequestId(): string {
  return idPrefix + (++requests).toString(16).toUpperCase().padStart(12, '0');
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function sendXml(res: ServerResponse, status: number, xml: string): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** An error as S3 sends it: the XML document (no body for HEAD). Unexpected errors become InternalError. */
export function sendError(x: Pick<Exchange, 'req' | 'res' | 'requestId'>, err: unknown, log: (line: string) => void): void {
  const e =
    err instanceof S3Error
      ? err
      : new S3Error('InternalError', 'We encountered an internal error. Please try again.');
  if (!(err instanceof S3Error)) log(`embedded S3: internal error on ${x.req.method} ${x.req.url}: ${(err as Error)?.stack ?? String(err)}`);
  const { res } = x;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (x.req.method === 'HEAD') {
    sendEmpty(res, e.status);
  } else {
    if (e.code === 'InvalidRange' && e.detail.ActualObjectSize !== undefined) res.setHeader('Content-Range', `bytes */${e.detail.ActualObjectSize}`);
    sendXml(res, e.status, errorDocument(e.code, e.message, e.detail, x.requestId));
  }
  // A request whose body was not read (refused early) must not be parsed as the next request.
  if (!x.req.complete) x.req.resume();
}

/** A whole request body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: limit });
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
