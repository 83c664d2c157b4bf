// The watch hub: a bounded history of store events (the apiserver's watch cache) and the live
// subscribers per storage key.
//
//   write ──▶ publish(ev) ──▶ ring (last N events) ──▶ subscribers of ev.storageKey
//
// A watch from resourceVersion X replays the retained events after X, then follows live ones. When X
// is older than the oldest retained event the history has a gap, and the watch must answer
// 410 Gone ("too old resource version") so the client re-lists — exactly the contract informers rely on.
import type { KObject } from './types.js';

export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  storageKey: string;
  object: KObject;
  /** The object before this event (MODIFIED, DELETED): selectors use it to turn updates into ADDED/DELETED. */
  previous?: KObject;
}

export type Subscriber = (ev: StoreEvent) => void;

export class WatchHub {
  private readonly ring: StoreEvent[] = [];
  private head = 0;
  /** Every event with rv <= compactedRv has been dropped from the history. */
  private compactedRv = 0;
  private readonly subs = new Map<string, Set<Subscriber>>();
  private readonly allSubs = new Set<Subscriber>();

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new Error('watch history capacity must be at least 1');
  }

  publish(ev: StoreEvent): void {
    if (this.ring.length < this.capacity) this.ring.push(ev);
    else {
      this.compactedRv = this.ring[this.head]!.rv;
      this.ring[this.head] = ev;
      this.head = (this.head + 1) % this.capacity;
    }
    const subs = this.subs.get(ev.storageKey);
    if (subs) for (const s of [...subs]) s(ev);
    for (const s of [...this.allSubs]) s(ev);
  }

  /** Every event of every storage key (the server's own controllers). */
  subscribeAll(fn: Subscriber): () => void {
    this.allSubs.add(fn);
    return () => {
      this.allSubs.delete(fn);
    };
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  /** Retained events of `storageKey` after `rv`, or undefined when the history no longer reaches back to `rv`. */
  since(storageKey: string, rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    const n = this.ring.length;
    // The ring is ordered by rv starting at `head`; binary search the first event after rv.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[(this.head + mid) % n]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < n; i++) {
      const ev = this.ring[(this.head + i) % n]!;
      if (ev.storageKey === storageKey) out.push(ev);
    }
    return out;
  }

  subscribe(storageKey: string, fn: Subscriber): () => void {
    let set = this.subs.get(storageKey);
    if (!set) this.subs.set(storageKey, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Forgets all history (tests: force the next watch from an old resourceVersion to get 410). */
  compact(upToRv: number): void {
    this.compactedRv = Math.max(this.compactedRv, upToRv);
    const ordered = [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)].filter((e) => e.rv > this.compactedRv);
    this.ring.length = 0;
    this.ring.push(...ordered);
    this.head = 0;
  }
}
