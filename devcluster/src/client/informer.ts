// List+watch with a local cache, as client-go's reflector and informer do:
//
//   list ──▶ replace cache (emit add/update/delete for the difference)
//     ▲         │
//     │         ▼
//   410 / error ◀── watch from the list's resourceVersion ──▶ stream ends ──▶ watch again from the last seen RV
//
// A 410 (resourceVersion too old) or any other failure re-lists after a short capped backoff, so the
// cache always converges on the server's state; handlers receive the difference, never duplicates.
import { ApiClient, isGone } from './apiClient.js';
import type { Resource } from './resources.js';
import type { KubeObject, Status } from './types.js';

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Watch requests ask the server to end the stream after this long (client-go uses 5–10 min). */
  watchTimeoutSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

export const objectKey = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata.name));

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private synced = false;
  private running: Promise<void> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly client: ApiClient,
    readonly resource: Resource,
    private readonly opts: InformerOptions = {},
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  /** Starts the loop; resolves once the first list has filled the cache. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.waitForSync();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  private waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const outcome = await this.watchOnce();
        if (outcome === 'gone') needList = true;
        failures = 0;
      } catch (e) {
        if (this.abort.signal.aborted) break;
        failures++;
        needList = needList || isGone(e) || failures > 1;
        this.opts.log?.(`informer ${this.resource.plural}: ${(e as Error).message}; retrying`);
        await this.sleep(Math.min(100 * 2 ** Math.min(failures, 5), 2000));
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.resource, this.opts.namespace, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector });
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj);
      seen.add(key);
      this.upsert(key, obj);
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emitDelete(old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** Returns 'gone' when the server said the resourceVersion is too old. */
  private async watchOnce(): Promise<'ended' | 'gone'> {
    const stream = this.client.watch<T>(
      this.resource,
      this.opts.namespace,
      { resourceVersion: this.resourceVersion, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, allowWatchBookmarks: true, timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 },
      this.abort.signal,
    );
    for await (const ev of stream) {
      if (ev.type === 'ERROR') {
        const status = ev.object as unknown as Status;
        if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') return 'gone';
        throw new Error(`watch error: ${status.message ?? JSON.stringify(status)}`);
      }
      const rv = ev.object.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (ev.type === 'BOOKMARK') continue;
      const key = objectKey(ev.object);
      if (ev.type === 'DELETED') {
        const old = this.cache.get(key);
        this.cache.delete(key);
        this.emitDelete(old ?? ev.object);
      } else {
        this.upsert(key, ev.object);
      }
    }
    return 'ended';
  }

  private upsert(key: string, obj: T): void {
    const old = this.cache.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.cache.set(key, obj);
    for (const h of this.handlers) {
      try {
        if (old) h.update?.(old, obj);
        else h.add?.(obj);
      } catch (e) {
        this.opts.log?.(`informer ${this.resource.plural}: handler failed: ${(e as Error).message}`);
      }
    }
  }

  private emitDelete(obj: T): void {
    for (const h of this.handlers) {
      try {
        h.delete?.(obj);
      } catch (e) {
        this.opts.log?.(`informer ${this.resource.plural}: handler failed: ${(e as Error).message}`);
      }
    }
  }
}
