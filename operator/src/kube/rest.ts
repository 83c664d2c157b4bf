// A small Kubernetes REST client on top of client-node's KubeConfig (which owns authentication:
// tokens, token files, client certificates, CAs). It exists for what the generated clients lack:
// a timeout on every request (a paused or partitioned API server must not hang a reconcile), the
// exact patch content types, and errors that carry the API's Status (code, reason, message).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  /** Worth retrying: throttling, conflicts, server errors, timeouts and dropped connections. */
  get transient(): boolean {
    return this.code === 0 || this.code === 409 || this.code === 429 || this.code >= 500;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409 && err.reason !== 'AlreadyExists';
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: 'application/json' | 'application/merge-patch+json' | 'application/strategic-merge-patch+json' | 'application/json-patch+json';
  /** Return the body as text (pods/log). */
  text?: boolean;
  timeoutMs?: number;
}

export class KubeRest {
  private agent: http.Agent | undefined;
  private agentKey = '';

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly defaultTimeoutMs = 15_000,
  ) {}

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: https.RequestOptions = { method, headers: { Accept: opts.text ? '*/*' : 'application/json' } };
    // KubeConfig adds the Authorization header (re-reading a token file when it rotates) and the TLS material.
    await this.kubeConfig.applyToHTTPSOptions(options);
    const isHttps = url.protocol === 'https:';
    options.agent = this.agentFor(isHttps, options);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (body) (options.headers as Record<string, string | number>)['Content-Type'] = opts.contentType ?? 'application/json';
    if (body) (options.headers as Record<string, string | number>)['Content-Length'] = body.length;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;

    const { status, text, headers } = await new Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new KubeApiError(0, 'Timeout', `${method} ${url.pathname}: no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof KubeApiError ? err : new KubeApiError(0, 'ConnectionError', `${method} ${url.pathname}: ${err.message}`)));
      req.end(body);
    });
    if (status >= 200 && status < 300) {
      if (opts.text) return text as T;
      return (text ? JSON.parse(text) : {}) as T;
    }
    throw errorFrom(method, url.pathname, status, text, headers);
  }

  private agentFor(isHttps: boolean, o: https.RequestOptions): http.Agent {
    // One keep-alive agent per TLS identity: a new connection per request would cost a handshake each.
    const key = `${isHttps}|${String(o.ca ?? '')}|${String(o.cert ?? '')}|${o.rejectUnauthorized}`;
    if (!this.agent || key !== this.agentKey) {
      this.agent?.destroy();
      this.agentKey = key;
      this.agent = isHttps
        ? new https.Agent({ keepAlive: true, maxSockets: 32, ...(o.ca ? { ca: o.ca } : {}), ...(o.cert ? { cert: o.cert } : {}), ...(o.key ? { key: o.key } : {}), ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
    }
    return this.agent;
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function errorFrom(method: string, path: string, status: number, text: string, headers: http.IncomingHttpHeaders): KubeApiError {
  let reason = String(status);
  let message = text.slice(0, 500);
  try {
    const s = JSON.parse(text) as { kind?: string; reason?: string; message?: string };
    if (s.reason) reason = s.reason;
    if (s.message) message = s.message;
  } catch {
    // not a Status body
  }
  const retryAfter = Number(headers['retry-after']);
  return new KubeApiError(status, reason, `${method} ${path}: ${status} ${message}`, Number.isFinite(retryAfter) ? retryAfter : undefined);
}
