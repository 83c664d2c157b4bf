// The run's quality gate (pure): too many rejected records fail the run before anything is built.
import type { RecordCounts, RunSpec, ScanReceipt } from '../run/types.js';
import { lakeLayout } from '../run/layout.js';
import { sumRecords } from './manifest.js';

export type QualityVerdict = { ok: true } | { ok: false; message: string };

export function checkQuality(spec: RunSpec, receipts: ScanReceipt[]): QualityVerdict {
  const records = sumRecords(receipts.map((r) => r.records));
  const ratio = records.read === 0 ? 0 : records.rejected / records.read;
  if (ratio <= spec.quality.maxRejectRatio) return { ok: true };
  return {
    ok: false,
    message:
      `rejected ${records.rejected} of ${records.read} records (${percent(ratio)}), over the limit of ` +
      `${percent(spec.quality.maxRejectRatio)} (${limitSetting(spec.origin)}). Top reasons: ${topReasons(records, 5)}. ` +
      `The rejected records are in ${spec.output.replace(/\/?$/, '/')}${lakeLayout.rejectsPrefix(spec.runId)}; ` +
      'fix the input, or raise the limit if these rejects are expected.',
  };
}

/**
 * How the person reading the message sets the limit: `sparkify-lake run` takes a flag; the operator
 * (origin `operator/<namespace>/<name>`) shows the message in the lake job's condition, where the
 * resource's field is meant, so its wording stays as it was.
 */
function limitSetting(origin: string): string {
  return origin === 'cli' ? '--max-reject-ratio' : 'quality.maxRejectRatio';
}

export function topReasons(records: RecordCounts, n: number): string {
  const entries = Object.entries(records.rejectedByReason).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (entries.length === 0) return 'none';
  return entries.slice(0, n).map(([reason, count]) => `${reason} ${count}`).join(', ');
}

/** 0.05 → `5%`, 0.0269 → `2.7%`, 0.1321 → `13%`: two significant digits at most. */
export function percent(x: number): string {
  const p = x * 100;
  return `${p === 0 ? 0 : Number(p.toPrecision(2))}%`;
}
