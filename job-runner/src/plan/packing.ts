// Balanced packing of weighted items into a fixed number of bins: the core of both planners.
//
// Sorted LPT (longest processing time first): items by cost, largest first, each into the bin with the
// least load so far (a binary min-heap keyed by (load, bin index)). LPT is within 4/3 of the optimal
// makespan and, when items are small compared to the mean bin, within a hair of perfect balance.
// A short local-improvement pass then moves or swaps items between the fullest and the emptiest bin
// while that lowers the maximum: it repairs the few cases LPT leaves uneven (a handful of medium
// items). Everything is deterministic: ties break on the item's position in the input order.
//
// Costs live in a Float64Array and the order in a Uint32Array so that a million items pack in well
// under a second (no object per heap node, no closure per comparison in the hot loop).

export interface Packing {
  /** bins[b] = indexes of the items in bin b, in input order. Never empty unless there are no items. */
  bins: number[][];
  /** Load (sum of item costs) per bin. */
  loads: number[];
  /** max load / mean load; 1 for a perfect balance, 1 for no items. */
  skew: number;
}

/**
 * Packs `costs.length` items into `binCount` bins (fewer when there are fewer items: no empty bins).
 * `improveRounds` bounds the local-improvement pass.
 */
export function packBalanced(costs: Float64Array, binCount: number, improveRounds = 256): Packing {
  const n = costs.length;
  const bins = Math.max(1, Math.min(Math.floor(binCount), n));
  if (n === 0) return { bins: [], loads: [], skew: 1 };

  const order = sortedByCostDesc(costs);
  const assign = new Uint32Array(n);
  const loads = new Float64Array(bins);
  const heap = new MinLoadHeap(loads);
  for (let k = 0; k < n; k++) {
    const item = order[k]!;
    const bin = heap.peek();
    assign[item] = bin;
    loads[bin] = loads[bin]! + costs[item]!;
    heap.siftDownTop();
  }

  const members = membersOf(assign, bins);
  improve(members, loads, costs, improveRounds);
  const sortedMembers = members.map((m) => m.sort((a, b) => a - b));
  return { bins: sortedMembers, loads: Array.from(loads), skew: skewOf(Array.from(loads)) };
}

/** max / mean of positive loads; 1 when there is nothing to balance. */
export function skewOf(loads: readonly number[]): number {
  if (loads.length === 0) return 1;
  let max = 0;
  let sum = 0;
  for (const l of loads) {
    sum += l;
    if (l > max) max = l;
  }
  if (sum <= 0) return 1;
  return max / (sum / loads.length);
}

/** Item indexes by cost descending, ties by index ascending (a stable, total order). */
function sortedByCostDesc(costs: Float64Array): Uint32Array {
  const n = costs.length;
  // Sort (cost, index) pairs packed in one Float64Array of keys? Costs are arbitrary doubles, so
  // sort indexes with a comparator over the typed array; V8's TimSort does ~1M in a few hundred ms.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => costs[b]! - costs[a]! || a - b);
  return order;
}

function membersOf(assign: Uint32Array, bins: number): number[][] {
  const members: number[][] = Array.from({ length: bins }, () => []);
  for (let i = 0; i < assign.length; i++) members[assign[i]!]!.push(i);
  return members;
}

/**
 * Moves the best-fitting item from the fullest to the emptiest bin, or swaps a pair, while that lowers
 * the fuller of the two. Bounded by `rounds`; each round is O(items in the two bins).
 */
function improve(members: number[][], loads: Float64Array, costs: Float64Array, rounds: number): void {
  let total = 0;
  for (let b = 0; b < loads.length; b++) total += loads[b]!;
  for (let round = 0; round < rounds; round++) {
    let hi = 0;
    let lo = 0;
    for (let b = 1; b < loads.length; b++) {
      if (loads[b]! > loads[hi]!) hi = b;
      if (loads[b]! < loads[lo]!) lo = b;
    }
    const gap = loads[hi]! - loads[lo]!;
    // Within 0.1% of the mean is balanced enough: further moves would only churn.
    if (hi === lo || gap <= 0 || gap <= (total / loads.length) * 1e-3) return;
    // Moving cost c from hi to lo gives max(hi - c, lo + c): better than hi when 0 < c < gap.
    // The best single move takes c closest to gap / 2.
    const from = members[hi]!;
    let bestMove = -1;
    let bestMoveScore = Infinity;
    for (let k = 0; k < from.length; k++) {
      const c = costs[from[k]!]!;
      if (c > 0 && c < gap) {
        const score = Math.abs(gap / 2 - c);
        if (score < bestMoveScore) {
          bestMoveScore = score;
          bestMove = k;
        }
      }
    }
    if (bestMove >= 0 && from.length > 1) {
      const item = from[bestMove]!;
      from.splice(bestMove, 1);
      members[lo]!.push(item);
      loads[hi] = loads[hi]! - costs[item]!;
      loads[lo] = loads[lo]! + costs[item]!;
      continue;
    }
    // No useful move: try one swap (a from hi, b from lo) with 0 < ca - cb < gap, closest to gap / 2.
    const to = members[lo]!;
    if (from.length * to.length > 250_000) return;
    let best: [number, number] | null = null;
    let bestScore = Infinity;
    for (let i = 0; i < from.length; i++) {
      const ca = costs[from[i]!]!;
      for (let j = 0; j < to.length; j++) {
        const d = ca - costs[to[j]!]!;
        if (d > 0 && d < gap) {
          const score = Math.abs(gap / 2 - d);
          if (score < bestScore) {
            bestScore = score;
            best = [i, j];
          }
        }
      }
    }
    if (!best) return;
    const [i, j] = best;
    const a = from[i]!;
    const b = to[j]!;
    from[i] = b;
    to[j] = a;
    const d = costs[a]! - costs[b]!;
    loads[hi] = loads[hi]! - d;
    loads[lo] = loads[lo]! + d;
  }
}

/** A binary min-heap of bin indexes ordered by (load, index); the loads array is shared and mutated. */
class MinLoadHeap {
  private readonly heap: Uint32Array;

  constructor(private readonly loads: Float64Array) {
    // All loads start at 0, so index order is already a valid heap.
    this.heap = new Uint32Array(loads.length);
    for (let i = 0; i < loads.length; i++) this.heap[i] = i;
  }

  peek(): number {
    return this.heap[0]!;
  }

  /** Restores the heap after the top bin's load grew. */
  siftDownTop(): void {
    const h = this.heap;
    const n = h.length;
    let i = 0;
    const item = h[0]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r]!, h[l]!) ? r : l;
      if (!this.less(h[c]!, item)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = item;
  }

  private less(a: number, b: number): boolean {
    const la = this.loads[a]!;
    const lb = this.loads[b]!;
    return la < lb || (la === lb && a < b);
  }
}
