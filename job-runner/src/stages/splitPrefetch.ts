// Reads a scan shard's splits in order, fetching small ones ahead. A shard of 15k song files on S3
// would otherwise wait 15k × one GET latency (~10-30 ms) in sequence; with `window` small splits in
// flight the latency overlaps while parsing stays sequential, so the records, rejects and staged
// bytes come out in exactly the same order. Memory: at most `window` small splits held whole
// (each ≤ smallBytes stored, ≤ a few times that decompressed); big splits are streamed as they are read.
import type { ReadItem } from '../read/items.js';
import type { InputSplit } from '../run/types.js';

export interface PrefetchOptions {
  /** Small splits fetched ahead of the one being parsed. */
  window: number;
  /** Splits up to this many stored bytes are prefetched whole. */
  smallBytes: number;
}

export const DEFAULT_PREFETCH: PrefetchOptions = { window: 16, smallBytes: 1 << 20 };

export class SplitReader {
  private readonly ahead = new Map<number, Promise<ReadItem[]>>();

  constructor(
    private readonly splits: readonly InputSplit[],
    private readonly read: (split: InputSplit) => AsyncIterable<ReadItem>,
    private readonly opts: PrefetchOptions = DEFAULT_PREFETCH,
  ) {}

  private small(i: number): boolean {
    const s = this.splits[i]!;
    return s.end - s.start <= this.opts.smallBytes;
  }

  /** Starts fetching the small splits among the next `window` after `i`. */
  private prefetchAfter(i: number): void {
    for (let k = i + 1; k < this.splits.length && k <= i + this.opts.window; k++) {
      if (this.ahead.has(k) || !this.small(k)) continue;
      const p = collect(this.read(this.splits[k]!));
      p.catch(() => undefined); // surfaced when the split is consumed
      this.ahead.set(k, p);
    }
  }

  /** The items of split `i`; call in increasing order of i. */
  async *items(i: number): AsyncGenerator<ReadItem, void, undefined> {
    this.prefetchAfter(i);
    const fetched = this.ahead.get(i);
    if (fetched) {
      this.ahead.delete(i);
      yield* await fetched;
      return;
    }
    yield* this.read(this.splits[i]!);
  }
}

async function collect(items: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}
