// client-node's informer (list, then watch from the list's resourceVersion, re-list on 410 Gone)
// with the one thing it lacks: it stops for good on any other error (a 500 on list, a refused
// connection, a 403 while RBAC is being applied). This wrapper restarts it after a capped backoff,
// so a flaky API server costs latency, never the operator's eyes.
import { ListWatch, Watch, type Informer, type KubeConfig, type KubernetesObject, type ListPromise, type ObjectCache } from '@kubernetes/client-node';
import type { Clock, Timer } from '../control/clock.js';
import type { KubeRest } from './rest.js';

export type InformerEvent = 'add' | 'update' | 'delete';

/** Any API object; kept loose because our CRD types carry timestamps as strings (as the wire does). */
export type WatchedObject = { metadata?: object };

export interface RestartingInformerOptions<T extends WatchedObject> {
  kubeConfig: KubeConfig;
  rest: KubeRest;
  /** Collection path, e.g. /apis/batch/v1/jobs or /apis/batch/v1/namespaces/ns/jobs. */
  path: string;
  labelSelector?: string;
  clock: Clock;
  onEvent(type: InformerEvent, obj: T): void;
  onError?(err: unknown, restartInMs: number): void;
  /**
   * What of each object to keep, applied to listed and watched objects before they are cached (as
   * client-go's SetTransform): the cache holds and the handlers see the result. Default: all of it.
   */
  transform?(obj: T): T;
  /**
   * Backoff between restarts: min(maxMs, baseMs · 2^n), reset by a successful list or any event.
   * Kept short (default 0.5 s → 5 s): while an informer is down the operator is blind.
   */
  baseMs?: number;
  maxMs?: number;
}

export class RestartingInformer<T extends WatchedObject> {
  private readonly informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  private restarts = 0;
  private timer: Timer | undefined;
  private stopped = false;
  private syncedOnce = false;
  /** Errors since start, for /healthz and metrics. */
  errors = 0;

  constructor(private readonly opts: RestartingInformerOptions<T>) {
    const list = async () => {
      const res = await opts.rest.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>('GET', opts.path, { query: { labelSelector: opts.labelSelector } });
      // A successful list means the API answers again: the next failure starts the backoff afresh.
      this.restarts = 0;
      const items = res.items ?? [];
      return { apiVersion: 'v1', kind: 'List', items: opts.transform ? items.map(opts.transform) : items, metadata: res.metadata ?? {} };
    };
    // makeInformer(), with the watch's objects transformed on their way into the cache.
    this.informer = new ListWatch<KubernetesObject>(opts.path, transformingWatch(new Watch(opts.kubeConfig), opts.transform), list as unknown as ListPromise<KubernetesObject>, false, opts.labelSelector);
    // Any event means the watch works again: the next failure starts the backoff afresh.
    const seen = (type: InformerEvent) => (o: KubernetesObject) => {
      this.restarts = 0;
      opts.onEvent(type, o as T);
    };
    this.informer.on('add', seen('add'));
    this.informer.on('update', seen('update'));
    this.informer.on('delete', seen('delete'));
    this.informer.on('error', (err) => this.restartLater(err));
  }

  /** Resolves once the first list has filled the cache (retrying until it does). */
  async start(): Promise<void> {
    this.stopped = false;
    for (;;) {
      try {
        await this.informer.start();
        if (this.informerHasListed()) break;
      } catch (err) {
        this.errors++;
        this.opts.onError?.(err, this.backoffMs());
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => this.opts.clock.setTimeout(resolve, this.backoffMs()));
      this.restarts++;
    }
    this.syncedOnce = true;
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace) as unknown as readonly T[];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace) as T | undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.informer.stop();
  }

  private informerHasListed(): boolean {
    // makeInformer's start() swallows a failed list into its error callback; the resource version
    // is set only after a list succeeded.
    return Boolean((this.informer as unknown as { latestResourceVersion?: () => string }).latestResourceVersion?.());
  }

  private backoffMs(): number {
    const base = this.opts.baseMs ?? 500;
    return Math.min(this.opts.maxMs ?? 5_000, base * 2 ** this.restarts);
  }

  private restartLater(err: unknown): void {
    this.errors++;
    if (this.stopped || !this.syncedOnce) return; // start() retries on its own until the first sync
    const ms = this.backoffMs();
    this.opts.onError?.(err, ms);
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimeout(() => {
      this.restarts++;
      if (!this.stopped) void this.informer.start().catch((e: unknown) => this.restartLater(e));
    }, ms);
  }
}

/** A Watch whose ADDED/MODIFIED/DELETED objects pass through `transform` (errors and bookmarks as they are). */
function transformingWatch<T>(watch: Watch, transform: ((obj: T) => T) | undefined): Watch {
  if (!transform) return watch;
  const wrapped: Pick<Watch, 'watch'> = {
    watch: (path, query, callback, done) =>
      watch.watch(path, query, (phase: string, obj: unknown, raw?: unknown) => callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? transform(obj as T) : obj, raw), done),
  };
  return wrapped as Watch;
}
