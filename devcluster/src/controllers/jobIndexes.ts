// Completion-index arithmetic of Indexed Jobs, the way Kubernetes' indexed_job_utils.go does it:
// sets of indexes as ordered, non-adjacent intervals, printed in the compressed form of
// `status.completedIndexes` / `status.failedIndexes` ("1,3-5,7": a pair of neighbours is written
// "1,2", three or more as a range).

export interface Interval {
  first: number;
  last: number;
}

/** Ordered, disjoint, non-adjacent intervals. */
export type Intervals = readonly Interval[];

/** Parses the compressed form; corrupt pieces are skipped and values ≥ completions are dropped, as upstream. */
export function parseIndexes(text: string | undefined, completions: number): Interval[] {
  if (!text) return [];
  const result: Interval[] = [];
  for (const piece of text.split(',')) {
    const [a, b] = piece.split('-');
    const first = toInt(a);
    if (first === undefined) continue;
    if (first >= completions) break;
    let last = first;
    if (b !== undefined) {
      const parsed = toInt(b);
      if (parsed === undefined) continue;
      last = Math.min(parsed, completions - 1);
    }
    const prev = result[result.length - 1];
    if (prev && prev.last === first - 1) prev.last = last;
    else result.push({ first, last });
  }
  return result;
}

function toInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

export function formatIndexes(intervals: Intervals): string {
  const parts: string[] = [];
  for (const iv of intervals) {
    if (iv.last === iv.first) parts.push(String(iv.first));
    else if (iv.last === iv.first + 1) parts.push(`${iv.first},${iv.last}`);
    else parts.push(`${iv.first}-${iv.last}`);
  }
  return parts.join(',');
}

/** Union of two interval lists. */
export function mergeIntervals(a: Intervals, b: Intervals): Interval[] {
  const all = [...a, ...b].sort((x, y) => x.first - y.first);
  const result: Interval[] = [];
  for (const iv of all) {
    const prev = result[result.length - 1];
    if (prev && iv.first <= prev.last + 1) prev.last = Math.max(prev.last, iv.last);
    else result.push({ first: iv.first, last: iv.last });
  }
  return result;
}

export function withIndexes(a: Intervals, indexes: Iterable<number>): Interval[] {
  return mergeIntervals(a, [...indexes].map((i) => ({ first: i, last: i })));
}

export function totalIndexes(a: Intervals): number {
  return a.reduce((n, iv) => n + iv.last - iv.first + 1, 0);
}

export function hasIndex(a: Intervals, ix: number): boolean {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]!.last >= ix) hi = mid;
    else lo = mid + 1;
  }
  return hi < a.length && a[hi]!.first <= ix;
}

/** The first `count` indexes below `completions` not covered by any of the given sets. */
export function firstPendingIndexes(covered: Intervals, count: number, completions: number): number[] {
  const result: number[] = [];
  let candidate = 0;
  for (const iv of covered) {
    for (; candidate < completions && result.length < count && candidate < iv.first; candidate++) result.push(candidate);
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && result.length < count; candidate++) result.push(candidate);
  return result;
}
