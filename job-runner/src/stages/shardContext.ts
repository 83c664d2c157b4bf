// What a shard executor gets from whoever runs it (the pod entrypoint or the local runner): the
// output storage, a way to open the input roots, the run spec, an abort signal (SIGTERM) and
// progress/log callbacks. The same executors run in both places.
import type { RunSpec } from '../run/types.js';
import type { Storage } from '../storage/storage.js';

export interface ShardProgress {
  /** Input bytes read so far (scan) or staged bytes read (build). */
  bytes: number;
  /** Rows produced so far: accepted records (scan) or table rows written (build). */
  rows: number;
}

export interface ShardContext {
  out: Storage;
  storageFor: (uri: string) => Storage;
  spec: RunSpec;
  index: number;
  signal?: AbortSignal;
  onProgress?: (p: ShardProgress) => void;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Injected clock: the receipt's seconds. */
  now?: () => number;
}

/** Thrown when the shard was asked to stop (SIGTERM): no receipt is written. */
export class ShardAborted extends Error {
  constructor() {
    super('shard stopped before it finished (SIGTERM); it wrote no receipt and can be run again');
    this.name = 'ShardAborted';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ShardAborted();
}
