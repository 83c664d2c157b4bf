// A rate-limited work queue as client-go's: keys (namespace/name), never the event payload.
// - Duplicates collapse: a key queued twice is processed once.
// - One reconcile at a time per key: a key added while it is being processed is processed again
//   right after, never concurrently.
// - Failures are retried with capped exponential backoff per key; success forgets the key's failures.
// - addAfter(key, ms) schedules a later sync (backoff between pod retries, deadlines, TTLs).
// Time comes in as an injected scheduler so tests drive it exactly.

export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface WorkQueueOptions {
  name: string;
  /** Keys processed at the same time (different keys only). */
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  scheduler?: Scheduler;
  log?: (line: string) => void;
}

export type SyncHandler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; handle: unknown }>();
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly scheduler: Scheduler;

  constructor(
    private readonly handler: SyncHandler,
    private readonly opts: WorkQueueOptions,
  ) {
    this.scheduler = opts.scheduler ?? realScheduler;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending addAfter for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.scheduler.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.scheduler.clearTimeout(existing.handle);
    const handle = this.scheduler.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, handle });
  }

  /** Retries the key after its next backoff step: base·2^failures, capped. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min((this.opts.baseBackoffMs ?? 5) * 2 ** n, this.opts.maxBackoffMs ?? 30_000);
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued or processing (timers may still be pending). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.scheduler.clearTimeout(t.handle);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 1;
    while (!this.stopped && this.processing.size < limit && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
    if (this.queue.length === 0 && this.processing.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.forget(key);
    } catch (e) {
      if (!this.stopped) {
        const delay = this.addRateLimited(key);
        this.opts.log?.(`${this.opts.name}: sync ${key} failed, retrying in ${delay} ms: ${(e as Error).message}`);
      }
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
