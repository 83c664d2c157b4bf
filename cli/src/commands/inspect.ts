// `sparkify-lake inspect <uri>`: what is committed at an output root: tables, partitions, rows,
// bytes, the last run and its rejects by reason.
import { parseArgs } from 'node:util';
import { formatBytes, readLakeStatus, TABLES, type LakeStatus } from '../../../job-runner/src/index.js';
import { openCliStorage } from '../cliStorage.js';
import type { Command } from './command.js';

const USAGE = 'usage: sparkify-lake inspect <output uri> [--json]';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "show a lake's committed tables, partitions, rows, bytes, last run and rejects",
  async run(argv) {
    let uri: string;
    let json: boolean;
    try {
      const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      if (positionals.length !== 1) throw new Error('give exactly one output URI');
      uri = positionals[0]!;
      json = values.json ?? false;
    } catch (err) {
      console.error(`sparkify-lake inspect: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    try {
      const out = openCliStorage(uri);
      const status = await readLakeStatus(out);
      if (!status) {
        console.error(`sparkify-lake inspect: no committed lake at ${out.root} (no _lake/current.json); build one with \`sparkify-lake run --songs … --logs … --out ${uri}\``);
        return 1;
      }
      console.log(json ? JSON.stringify(inspectJson(status)) : inspectText(status));
      return 0;
    } catch (err) {
      console.error(`sparkify-lake inspect: ${(err as Error).message}`);
      return 1;
    }
  },
};

export function inspectJson(s: LakeStatus) {
  const m = s.manifest;
  const partitions: Record<string, string[]> = {};
  for (const f of m.files) {
    const list = (partitions[f.table] ??= []);
    const p = Object.entries(f.partition).map(([k, v]) => `${k}=${v}`).join('/');
    if (p && !list.includes(p)) list.push(p);
  }
  return {
    output: m.spec.output,
    runId: m.runId,
    committedAt: m.committedAt,
    origin: m.spec.origin,
    inputs: { songs: m.spec.songs, logs: m.spec.logs },
    records: m.records,
    tables: m.tables,
    partitions,
    drift: m.drift,
  };
}

/** The most frequent DRIFT_SHOWN entries, and how many more `--json` would list. */
export const DRIFT_SHOWN = 5;

function countsLine(label: string, counts: Record<string, number>): string[] {
  const all = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (all.length === 0) return [];
  const shown = all.slice(0, DRIFT_SHOWN).map(([k, v]) => `${k} ${v}`);
  const more = all.length - DRIFT_SHOWN;
  return [`${label}: ${shown.join(', ')}${more > 0 ? `, +${more} more (--json lists them all)` : ''}`];
}

export function inspectText(s: LakeStatus): string {
  const m = s.manifest;
  const rows = TABLES.map((t) => [t, m.tables[t].rows.toLocaleString('en-US'), String(m.tables[t].partitions), String(m.tables[t].files), formatBytes(m.tables[t].bytes)]);
  const header = ['table', 'rows', 'partitions', 'files', 'bytes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const reasons = Object.entries(m.records.rejectedByReason);
  return [
    `lake ${m.spec.output}`,
    `last run ${m.runId}, committed ${m.committedAt} by ${m.spec.origin}`,
    `inputs: songs ${m.spec.songs}, logs ${m.spec.logs}`,
    `records: ${m.records.read.toLocaleString('en-US')} read, ${m.records.accepted.toLocaleString('en-US')} accepted, ${m.records.rejected.toLocaleString('en-US')} rejected`,
    ...(reasons.length > 0 ? ['rejects by reason:', ...reasons.map(([k, v]) => `  ${k.padEnd(16)} ${v}`), `  (records in _lake/runs/${m.runId}/rejects/)`] : []),
    ...countsLine('coercions', m.drift.coercions),
    ...countsLine('unknown fields', m.drift.unknownFields),
    '',
    fmt(header),
    ...rows.map(fmt),
  ].join('\n');
}
