// The manifest of a run (pure): every file of every table, with per-table totals, plus the run's
// record counts and drift. It is the commit record: current.json points at exactly one manifest.
import { TABLES } from '../run/types.js';
import type { BuildReceipt, DriftReport, Manifest, OutputFile, RecordCounts, RunSpec, ScanReceipt, TableName, TableSummary } from '../run/types.js';

export function sumRecords(all: readonly RecordCounts[]): RecordCounts {
  const out: RecordCounts = { read: 0, accepted: 0, rejected: 0, rejectedByReason: {} };
  for (const r of all) {
    out.read += r.read;
    out.accepted += r.accepted;
    out.rejected += r.rejected;
    addCounts(out.rejectedByReason, r.rejectedByReason);
  }
  out.rejectedByReason = sortedCounts(out.rejectedByReason);
  return out;
}

export function mergeDrift(all: readonly DriftReport[]): DriftReport {
  const unknownFields: Record<string, number> = {};
  const coercions: Record<string, number> = {};
  for (const d of all) {
    addCounts(unknownFields, d.unknownFields);
    addCounts(coercions, d.coercions);
  }
  return { unknownFields: sortedCounts(unknownFields), coercions: sortedCounts(coercions) };
}

export function summarizeTables(files: readonly OutputFile[]): Record<TableName, TableSummary> {
  const tables = {} as Record<TableName, TableSummary>;
  const partitions = {} as Record<TableName, Set<string>>;
  for (const t of TABLES) {
    tables[t] = { rows: 0, partitions: 0, files: 0, bytes: 0 };
    partitions[t] = new Set();
  }
  for (const f of files) {
    const s = tables[f.table];
    s.rows += f.rows;
    s.files += 1;
    s.bytes += f.bytes;
    partitions[f.table].add(JSON.stringify(Object.entries(f.partition)));
  }
  for (const t of TABLES) tables[t].partitions = partitions[t].size;
  return tables;
}

export function buildManifest(spec: RunSpec, scan: readonly ScanReceipt[], build: readonly BuildReceipt[], committedAt: Date): Manifest {
  const files = build.flatMap((r) => r.files).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.key === files[i - 1]!.key) throw new Error(`two build receipts list the same file ${files[i]!.key}: the build plan overlaps`);
  }
  return {
    runId: spec.runId,
    committedAt: committedAt.toISOString(),
    spec: { songs: spec.songs, logs: spec.logs, output: spec.output, origin: spec.origin },
    records: sumRecords(scan.map((r) => r.records)),
    drift: mergeDrift(scan.map((r) => r.drift)),
    tables: summarizeTables(files),
    files,
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Keys in code-point order, so merged reports serialise the same whatever the receipt order. */
function sortedCounts(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
