// Rejected records: reason codes, the quarantine sample, and the conservation counters.
//
// Every record read ends in exactly one of accepted or rejected (docs/schema-on-read.md), so the
// counter has no way to count a record twice or not at all: `accept()` and `reject()` are the only
// ways to count, and each counts the read as well.
import type { RecordCounts } from '../run/types.js';

/** In the order the checks run: the first failing check names the reason. */
export const REJECT_REASONS = [
  'line-too-long',
  'invalid-json',
  'not-an-object',
  'missing-song_id',
  'partition-value-too-long',
  'missing-ts',
  'invalid-ts',
  'missing-user-id',
  'truncated-gzip',
  'corrupt-gzip',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** One quarantined record, as the sink receives it. */
export interface RejectedRecord {
  reason: RejectReason;
  /** Source object key, relative to its root (as in InputObject.key). */
  source: string;
  /** The source's ordinal in the run's input list. */
  ordinal: number;
  /** 1-based line number when known (a byte-range split that starts past 0 knows offsets only). */
  line: number | null;
  /** Byte offset of the record in the (decompressed) object. */
  offset: number;
  /** The record's bytes, cut at maxRejectSampleBytes (at a UTF-8 boundary). A copy: the sink may keep it. */
  raw: Buffer;
  /** Length of the whole record in bytes. */
  rawBytes: number;
  truncated: boolean;
  /**
   * What went wrong and what to do, when the reason alone does not say it: set for the object-level
   * rejects (a broken gzip stream names the failed check, the bytes decoded and "re-upload").
   */
  message?: string;
}

export type RejectSink = (reject: RejectedRecord) => void;

/**
 * A copy of buf[s, e) cut to at most `max` bytes. The cut backs off to a UTF-8 character boundary,
 * so the sample's text never ends in a broken character that was whole in the record.
 */
export function rawSample(buf: Uint8Array, s: number, e: number, max: number): { raw: Buffer; truncated: boolean } {
  if (e - s <= max) return { raw: Buffer.from(buf.subarray(s, e)), truncated: false };
  let cut = s + max;
  // Back over continuation bytes (at most 3) to the start of the character the cut would split.
  for (let k = 0; k < 3 && cut > s && (buf[cut] & 0xc0) === 0x80; k++) cut--;
  return { raw: Buffer.from(buf.subarray(s, cut)), truncated: true };
}

/** The quarantine line of docs/schema-on-read.md: `{"source","line","offset","reason","raw","rawBytes","truncated"[,"message"]}`. */
export function rejectJsonLine(r: RejectedRecord): string {
  return (
    JSON.stringify({
      source: r.source,
      line: r.line,
      offset: r.offset,
      reason: r.reason,
      raw: r.raw.toString('utf8'),
      rawBytes: r.rawBytes,
      truncated: r.truncated,
      ...(r.message !== undefined ? { message: r.message } : {}),
    }) + '\n'
  );
}

export class RecordCounter {
  private accepted = 0;
  private rejected = 0;
  private readonly byReason = new Map<RejectReason, number>();

  accept(): void {
    this.accepted++;
  }

  reject(reason: RejectReason): void {
    this.rejected++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
  }

  counts(): RecordCounts {
    const rejectedByReason: Record<string, number> = {};
    for (const reason of REJECT_REASONS) {
      const n = this.byReason.get(reason);
      if (n) rejectedByReason[reason] = n;
    }
    return { read: this.accepted + this.rejected, accepted: this.accepted, rejected: this.rejected, rejectedByReason };
  }
}

/** Sum of record counts (per shard, per run); conservation is preserved by construction. */
export function mergeCounts(a: RecordCounts, b: RecordCounts): RecordCounts {
  const rejectedByReason: Record<string, number> = { ...a.rejectedByReason };
  for (const [k, v] of Object.entries(b.rejectedByReason)) rejectedByReason[k] = (rejectedByReason[k] ?? 0) + v;
  return { read: a.read + b.read, accepted: a.accepted + b.accepted, rejected: a.rejected + b.rejected, rejectedByReason };
}
