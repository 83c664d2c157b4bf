// An HTTP proxy in front of an S3 server (s3rver in tests) that fails some requests the way S3 does
// under stress, so the engine and the operator can be tested against "S3 returns 503s" for real:
//   slowdown       503 with S3's <Error><Code>SlowDown</Code>… XML body
//   internal       500 InternalError
//   reset          the connection is dropped before any response
//   reset-mid-body the response starts, then the connection drops after `midBodyBytes` body bytes
//   not-implemented 501 NotImplemented, as an S3-compatible server lacking a feature answers
// Which requests fail: the first `failFirst` eligible ones, then a seeded `failRate` fraction, so a
// failing run reproduces from its seed. Everything else is forwarded untouched (headers included,
// so request signatures stay valid). Traffic only ever goes to the loopback target given.
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FlakyMode = 'slowdown' | 'internal' | 'reset' | 'reset-mid-body' | 'not-implemented';

export interface FlakyOptions {
  /** Fail the first N eligible requests. */
  failFirst: number;
  /** Then fail this fraction (0..1) of eligible requests, drawn from a seeded generator. */
  failRate: number;
  seed: number;
  mode: FlakyMode;
  /** For reset-mid-body: body bytes sent before the connection drops. */
  midBodyBytes: number;
  /** Which requests may fail (default: all). */
  eligible: (req: { method: string; url: string }) => boolean;
}

export interface FlakyStats {
  requests: number;
  failed: number;
  forwarded: number;
  /** Failures by method, e.g. { GET: 3, PUT: 1 }. */
  failedByMethod: Record<string, number>;
}

export interface FlakyS3Proxy {
  /** http://127.0.0.1:PORT — use as the S3 endpoint. */
  endpoint: string;
  readonly stats: FlakyStats;
  /** Change the failure settings on the fly (e.g. to stop failing). Resets the failFirst counter. */
  configure(opts: Partial<FlakyOptions>): void;
  close(): Promise<void>;
}

const DEFAULTS: FlakyOptions = { failFirst: 0, failRate: 0, seed: 1, mode: 'slowdown', midBodyBytes: 1024, eligible: () => true };

export async function startFlakyS3Proxy(target: string, options: Partial<FlakyOptions> = {}): Promise<FlakyS3Proxy> {
  const targetUrl = new URL(target);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(targetUrl.hostname)) throw new Error(`flaky proxy targets loopback only, got ${target}`);
  let opts: FlakyOptions = { ...DEFAULTS, ...options };
  let rand = mulberry32(opts.seed);
  let eligibleSeen = 0;
  const stats: FlakyStats = { requests: 0, failed: 0, forwarded: 0, failedByMethod: {} };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();

  const shouldFail = (req: IncomingMessage): boolean => {
    if (!opts.eligible({ method: req.method ?? 'GET', url: req.url ?? '/' })) return false;
    eligibleSeen++;
    if (eligibleSeen <= opts.failFirst) return true;
    return opts.failRate > 0 && rand() < opts.failRate;
  };

  const server = createServer((req, res) => {
    stats.requests++;
    if (shouldFail(req)) {
      stats.failed++;
      const m = req.method ?? 'GET';
      stats.failedByMethod[m] = (stats.failedByMethod[m] ?? 0) + 1;
      fail(req, res, opts);
      return;
    }
    stats.forwarded++;
    forward(req, res, null);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function forward(req: IncomingMessage, res: ServerResponse, cutAfter: number | null): void {
    const upstream = httpRequest(
      { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
        if (cutAfter === null) {
          up.pipe(res);
          return;
        }
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= cutAfter) return;
          const part = chunk.subarray(0, cutAfter - sent);
          sent += part.length;
          res.write(part);
          if (sent >= cutAfter) {
            // Let the bytes leave, then drop the connection mid-body.
            res.socket?.end();
            setImmediate(() => res.socket?.destroy());
            up.destroy();
          }
        });
        up.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  }

  function fail(req: IncomingMessage, res: ServerResponse, o: FlakyOptions): void {
    if (o.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (o.mode === 'reset-mid-body') {
      if ((req.method ?? 'GET') === 'GET') forward(req, res, o.midBodyBytes);
      else req.socket.destroy();
      return;
    }
    const [status, code, message] =
      o.mode === 'internal' ? [500, 'InternalError', 'We encountered an internal error. Please try again.']
      : o.mode === 'not-implemented' ? [501, 'NotImplemented', 'A header you provided implies functionality that is not implemented.']
      : [503, 'SlowDown', 'Please reduce your request rate.'];
    // Read the request body first, as S3 does, so the client is not cut off mid-upload.
    req.resume();
    req.on('end', () => {
      const body = req.method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>FLAKY${stats.failed}</RequestId></Error>`;
      res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), 'x-amz-request-id': `FLAKY${stats.failed}` });
      res.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    configure(next) {
      opts = { ...opts, ...next };
      if (next.seed !== undefined) rand = mulberry32(opts.seed);
      eligibleSeen = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
