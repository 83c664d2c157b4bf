// Runs the shards 0..n-1 of one stage, K at a time, through an executor. A shard that exits 1
// (retryable) is run again, up to `retries` times, as a Job's backoffLimitPerIndex would; exit 3
// (permanent) or running out of retries stops the stage: running shards are stopped (SIGTERM) and
// the error names the shard and its last log message.
import type { Stage } from '../run/layout.js';
import type { ShardProgress } from '../stages/shardContext.js';
import type { ShardExecutor, ShardHandle } from './shardExecutor.js';

export interface PoolEvents {
  onShardStart?: (index: number, attempt: number) => void;
  onShardProgress?: (index: number, p: ShardProgress) => void;
  onShardDone?: (index: number) => void;
}

export class ShardFailed extends Error {
  constructor(
    readonly stage: Stage,
    readonly index: number,
    readonly code: number,
    detail: string,
  ) {
    super(`${stage} shard ${index} failed (exit ${code}${code === 3 ? ', permanent' : ''}): ${detail}`);
    this.name = 'ShardFailed';
  }
}

export async function runShardPool(opts: {
  stage: Stage;
  shards: number;
  parallel: number;
  retries: number;
  argvFor: (index: number) => string[];
  executor: ShardExecutor;
  events?: PoolEvents;
  /** Aborting stops the running shards and starts no more (Ctrl-C on `sparkify-lake run`). */
  signal?: AbortSignal;
}): Promise<void> {
  const { stage, shards, executor, events, signal } = opts;
  let next = 0;
  let failure: Error | null = null;
  const running = new Set<ShardHandle>();
  const onAbort = () => {
    failure ??= new Error(`interrupted during the ${stage} stage`);
    for (const h of running) h.stop();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const runOne = async (index: number) => {
    for (let attempt = 1; ; attempt++) {
      if (failure) return;
      events?.onShardStart?.(index, attempt);
      const handle = executor(opts.argvFor(index), (p) => events?.onShardProgress?.(index, p));
      running.add(handle);
      const { code, log } = await handle.done;
      running.delete(handle);
      if (code === 0) {
        events?.onShardDone?.(index);
        return;
      }
      if (failure) return;
      if (code === 3 || attempt > opts.retries) {
        failure = new ShardFailed(stage, index, code, lastError(log));
        for (const h of running) h.stop();
        return;
      }
    }
  };
  const lane = async () => {
    while (!failure && next < shards) await runOne(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, shards)) }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
}

/** The message of the shard's last error log line, or its last line. */
export function lastError(log: readonly string[]): string {
  for (let i = log.length - 1; i >= 0; i--) {
    try {
      const entry = JSON.parse(log[i]!) as { level?: string; message?: string };
      if (entry.level === 'error' && entry.message) return entry.message.replace(/^shard failed: /, '');
    } catch {
      // not a JSON log line (stderr of a crash): fall through
    }
  }
  return log.length > 0 ? log[log.length - 1]! : 'no output';
}
