// Reads staged segments back by byte range. Segments of one staged object that lie next to each
// other (one spill writes a month's buckets contiguously) are fetched with one ranged GET; a few GETs
// run at once. Returns the decoded batches in the order of `segments`.
import type { ColumnBatch } from '../columnar/batch.js';
import { concatBatches } from '../columnar/concat.js';
import { decodeSegment } from '../columnar/segment.js';
import type { StagedSegment } from '../run/types.js';
import type { Storage } from '../storage/storage.js';
import { emptyBatch } from '../columnar/values.js';
import type { BatchSchema } from '../columnar/batch.js';

/** Two segments closer than this are fetched in one request (the gap is read and dropped). */
const MAX_GAP = 64 * 1024;
const CONCURRENT_GETS = 8;

interface Range {
  key: string;
  start: number;
  end: number;
  members: number[];
}

export function coalesce(segments: readonly StagedSegment[]): Range[] {
  const order = segments.map((_, i) => i).sort((a, b) => {
    const x = segments[a]!;
    const y = segments[b]!;
    return x.key < y.key ? -1 : x.key > y.key ? 1 : x.offset - y.offset;
  });
  const ranges: Range[] = [];
  for (const i of order) {
    const s = segments[i]!;
    const last = ranges[ranges.length - 1];
    if (last && last.key === s.key && s.offset - last.end <= MAX_GAP && s.offset >= last.start) {
      last.end = Math.max(last.end, s.offset + s.length);
      last.members.push(i);
    } else {
      ranges.push({ key: s.key, start: s.offset, end: s.offset + s.length, members: [i] });
    }
  }
  return ranges;
}

export async function readSegments(out: Storage, segments: readonly StagedSegment[], onBytes?: (n: number) => void): Promise<ColumnBatch[]> {
  const batches: ColumnBatch[] = new Array(segments.length);
  const ranges = coalesce(segments);
  let next = 0;
  const worker = async () => {
    while (next < ranges.length) {
      const r = ranges[next++]!;
      const bytes = await out.get(r.key, { start: r.start, end: r.end });
      if (bytes.length !== r.end - r.start) {
        throw new Error(`staged object ${out.root}${r.key} is shorter than its receipt says (wanted bytes ${r.start}-${r.end}, got ${bytes.length}); re-run the scan shard`);
      }
      onBytes?.(bytes.length);
      for (const i of r.members) {
        const s = segments[i]!;
        const view = bytes.subarray(s.offset - r.start, s.offset - r.start + s.length);
        const batch = decodeSegment(view, s.rows);
        batches[i] = batch;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_GETS, ranges.length) }, worker));
  return batches;
}

/** All segments as one batch (an empty batch of `schema` when there are none). */
export async function readStaged(out: Storage, segments: readonly StagedSegment[], schema: BatchSchema, onBytes?: (n: number) => void): Promise<ColumnBatch> {
  const batches = (await readSegments(out, segments, onBytes)).filter((b) => b.length > 0);
  if (batches.length === 0) return emptyBatch(schema);
  return concatBatches(batches);
}
