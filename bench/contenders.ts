// The two contenders, each run as a subprocess and measured from outside (processTree.ts):
// `sparkify-lake run` (the real CLI, shards in worker processes) and the DuckDB peer (duckdbEtl.js).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { measure, type Measured } from './processTree.js';
import type { TableName } from '../job-runner/src/index.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliBin = join(repoRoot, 'bin', 'sparkify-lake.js');
const peerJs = fileURLToPath(new URL('./duckdbEtl.js', import.meta.url));

export interface ContenderResult {
  name: string;
  ok: boolean;
  /** Why it failed, or why it did not run ("pending"). */
  message?: string;
  seconds: number;
  peakTreeRssBytes: number;
  rows: Partial<Record<TableName, number>>;
  measured?: Measured;
  /** The CLI's --json summary (ours) or the peer's step timings. */
  details?: unknown;
}

function lastJsonLine(stdout: string): unknown {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  return line ? JSON.parse(line) : null;
}

export interface OursOptions {
  songs: string;
  logs: string;
  out: string;
  parallel?: number;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Remove a local output folder first (a benchmark measures a fresh build). */
  clean?: boolean;
}

export async function runOurs(o: OursOptions): Promise<ContenderResult> {
  if (o.clean) rmSync(o.out, { recursive: true, force: true });
  const args = [cliBin, 'run', '--songs', o.songs, '--logs', o.logs, '--out', o.out, '--json', ...(o.parallel ? ['--parallel', String(o.parallel)] : []), ...(o.extraArgs ?? [])];
  const m = await measure(process.execPath, args, { env: o.env ?? process.env, cwd: repoRoot });
  const summary = lastJsonLine(m.stdout) as { tables?: Record<TableName, { rows: number }> } | null;
  if (m.code !== 0 || !summary?.tables) {
    const why = (m.stderr.trim() || m.stdout.trim()).split('\n').slice(-3).join(' | ');
    const pending = /not implemented yet|unknown command "run"/.test(why);
    return { name: 'sparkify-lake run', ok: false, message: pending ? `pending (${why})` : `failed (exit ${m.code ?? m.signal}): ${why}`, seconds: m.seconds, peakTreeRssBytes: m.peakTreeRssBytes, rows: {}, measured: m };
  }
  const rows = Object.fromEntries(Object.entries(summary.tables).map(([t, v]) => [t, v.rows]));
  return { name: 'sparkify-lake run', ok: true, seconds: m.seconds, peakTreeRssBytes: m.peakTreeRssBytes, rows, measured: m, details: summary };
}

export async function runDuckdb(o: { songs: string; logs: string; out: string; threads: number; gzip: boolean }): Promise<ContenderResult> {
  const args = [peerJs, '--songs', o.songs, '--logs', o.logs, '--out', o.out, '--threads', String(o.threads), ...(o.gzip ? ['--gzip'] : [])];
  const m = await measure(process.execPath, args, { cwd: repoRoot });
  const result = lastJsonLine(m.stdout) as { rows?: Record<TableName, number>; steps?: unknown } | null;
  if (m.code !== 0 || !result?.rows) {
    return { name: 'duckdb', ok: false, message: `failed (exit ${m.code ?? m.signal}): ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`, seconds: m.seconds, peakTreeRssBytes: m.peakTreeRssBytes, rows: {}, measured: m };
  }
  return { name: 'duckdb', ok: true, seconds: m.seconds, peakTreeRssBytes: m.peakTreeRssBytes, rows: result.rows, measured: m, details: result.steps };
}
