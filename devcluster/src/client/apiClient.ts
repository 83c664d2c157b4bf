// A small typed client of the Kubernetes REST API, used by the dev cluster's controllers and kubelet.
// They are ordinary API clients (an admin bearer token over HTTP/HTTPS), exactly like the real
// kube-controller-manager and kubelet, so nothing here knows the server's internals.
//
// Like client-go, a 429 (or a 5xx carrying Retry-After) is retried after the advertised delay a few
// times before it surfaces; every other error surfaces at once as an ApiError holding the server's
// metav1.Status, and the caller's work queue decides about retrying.
import http from 'node:http';
import https from 'node:https';
import { resourcePath, type Resource } from './resources.js';
import type { KubeList, KubeObject, Status, WatchEvent } from './types.js';

export interface ApiClientOptions {
  /** http(s)://host:port of the API server. */
  url: string;
  token?: string;
  /** PEM CA bundle for an https server. */
  ca?: string;
  userAgent?: string;
  /** Per-request timeout (not for watches). */
  timeoutMs?: number;
  /** Injected for tests; used between 429 retries. */
  sleep?: (ms: number) => Promise<void>;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status,
    readonly retryAfterSeconds?: number,
  ) {
    super(status.message ?? `HTTP ${code}`);
    this.name = 'ApiError';
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.reason !== 'AlreadyExists';
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean => e instanceof ApiError && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  resourceVersion?: string;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';

const contentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

interface RawResponse {
  code: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const MAX_THROTTLE_RETRIES = 5;

export class ApiClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = new URL(opts.url);
    this.agent = this.base.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca: opts.ca }) : new http.Agent({ keepAlive: true });
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  get url(): string {
    return this.opts.url;
  }

  /** Closes idle keep-alive sockets. Open watches end on their own abort signal. */
  close(): void {
    this.agent.destroy();
  }

  async get<T extends KubeObject>(r: Resource, namespace: string | undefined, name: string): Promise<T> {
    return this.json<T>('GET', resourcePath(r, namespace, name));
  }

  /** The object, or undefined when it does not exist. */
  async tryGet<T extends KubeObject>(r: Resource, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get<T>(r, namespace, name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Lists every page (following `continue`) and returns the items with the list's resourceVersion. */
  async list<T extends KubeObject>(r: Resource, namespace?: string, opts: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.json<KubeList<T>>('GET', resourcePath(r, namespace), {
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit ?? 500, continue: cont, resourceVersion: cont ? undefined : opts.resourceVersion },
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  async create<T extends KubeObject>(r: Resource, namespace: string | undefined, obj: T): Promise<T> {
    return this.json<T>('POST', resourcePath(r, namespace), { body: obj });
  }

  /** PUT of the whole object; a stale metadata.resourceVersion gets 409 Conflict. */
  async replace<T extends KubeObject>(r: Resource, obj: T): Promise<T> {
    return this.json<T>('PUT', resourcePath(r, obj.metadata.namespace, obj.metadata.name), { body: obj });
  }

  /** PUT of the status subresource. */
  async replaceStatus<T extends KubeObject>(r: Resource, obj: T): Promise<T> {
    return this.json<T>('PUT', resourcePath(r, obj.metadata.namespace, obj.metadata.name, 'status'), { body: obj });
  }

  async patch<T extends KubeObject>(r: Resource, namespace: string | undefined, name: string, patch: unknown, type: PatchType = 'merge', subresource?: string): Promise<T> {
    return this.json<T>('PATCH', resourcePath(r, namespace, name, subresource), { body: patch, contentType: contentTypes[type] });
  }

  /** DELETE; returns the object when deletion is pending (finalizers, grace period) or the Status. */
  async delete(r: Resource, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject | Status> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    return this.json<KubeObject | Status>('DELETE', resourcePath(r, namespace, name), { body });
  }

  /** DELETE that treats NotFound as done. */
  async deleteIfExists(r: Resource, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    try {
      await this.delete(r, namespace, name, opts);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** POST to a subresource such as `serviceaccounts/token` (TokenRequest). */
  async createSubresource<T>(r: Resource, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<T> {
    return this.json<T>('POST', resourcePath(r, namespace, name, subresource), { body });
  }

  /**
   * A watch stream as an async iterable of events. It ends when the server closes the stream
   * (timeoutSeconds, server stop, dropped watch) or the signal aborts; an ERROR event carries the
   * server's Status (410 Expired when the resourceVersion is too old) and is yielded as is.
   */
  async *watch<T extends KubeObject>(r: Resource, namespace: string | undefined, opts: WatchOptions, signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const query = {
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: opts.timeoutSeconds,
    };
    const res = await this.open('GET', resourcePath(r, namespace), { query, signal, stream: true });
    if (res.statusCode !== 200) {
      const body = await readBody(res);
      throw toApiError(res.statusCode ?? 0, res.headers, body);
    }
    res.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } catch (e) {
      if (signal?.aborted) return;
      // A server that goes away mid-stream ends the watch; the informer re-lists or re-watches.
      if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted') return;
      throw e;
    } finally {
      res.destroy();
    }
    const rest = buffered.trim();
    if (rest) yield JSON.parse(rest) as WatchEvent<T>;
  }

  /** A raw request returning the parsed JSON body; errors become ApiError. */
  async json<T>(method: string, path: string, opts: { query?: Record<string, string | number | undefined>; body?: unknown; contentType?: string } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.roundTrip(method, path, opts);
      if (res.code >= 200 && res.code < 300) return (res.body ? JSON.parse(res.body) : {}) as T;
      const err = toApiError(res.code, res.headers, res.body);
      const throttled = res.code === 429 || (res.code >= 500 && err.retryAfterSeconds !== undefined);
      if (!throttled || attempt >= MAX_THROTTLE_RETRIES) throw err;
      await this.sleep(Math.min(Math.max(err.retryAfterSeconds ?? 1, 0), 10) * 1000);
    }
  }

  private async roundTrip(method: string, path: string, opts: { query?: Record<string, string | number | undefined>; body?: unknown; contentType?: string }): Promise<RawResponse> {
    const res = await this.open(method, path, opts);
    const body = await readBody(res);
    return { code: res.statusCode ?? 0, headers: res.headers, body };
  }

  private open(method: string, path: string, opts: { query?: Record<string, string | number | undefined>; body?: unknown; contentType?: string; signal?: AbortSignal; stream?: boolean }): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.opts.userAgent ?? 'devcluster-runtime' };
    if (this.opts.token) headers.Authorization = `Bearer ${this.opts.token}`;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: this.agent, signal: opts.signal }, resolve);
      req.on('error', reject);
      if (!opts.stream) {
        req.setTimeout(this.opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${this.opts.timeoutMs ?? 30_000} ms`)));
      }
      req.end(payload);
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function toApiError(code: number, headers: http.IncomingHttpHeaders, body: string): ApiError {
  let status: Status;
  try {
    status = JSON.parse(body) as Status;
    if (typeof status !== 'object' || status === null) throw new Error('not an object');
  } catch {
    status = { kind: 'Status', status: 'Failure', code, message: body.trim() || `HTTP ${code}` };
  }
  const header = headers['retry-after'];
  const retryAfter = header !== undefined ? Number(header) : status.details?.retryAfterSeconds;
  return new ApiError(code, status, Number.isFinite(retryAfter) ? retryAfter : undefined);
}
