// Subprocess entry of the DuckDB peer (`node dist/bench/duckdbEtl.js --songs D --logs D --out D
// [--threads N] [--gzip]`), so the harness measures its wall time and RSS apart from its own.
// Prints one JSON line: rows per table and seconds per step.
import { mkdirSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbPeerSql } from './duckdbPeer.js';

const { values } = parseArgs({
  options: { songs: { type: 'string' }, logs: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, gzip: { type: 'boolean' } },
});
if (!values.songs || !values.logs || !values.out) {
  console.error('usage: duckdbEtl --songs DIR --logs DIR --out DIR [--threads N] [--gzip]');
  process.exit(2);
}
const outDir = values.out;
rmSync(outDir, { recursive: true, force: true });
for (const t of ['artists', 'users']) mkdirSync(`${outDir}/${t}`, { recursive: true });
const started = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const c = await instance.connect();
const { setup, copies } = duckdbPeerSql({ songsDir: values.songs, logsDir: values.logs, outDir, threads: Number(values.threads ?? 2), gzip: values.gzip ?? false });
const steps: Record<string, number> = {};
let t = performance.now();
for (const [i, sql] of setup.entries()) {
  await c.run(sql);
  const now = performance.now();
  steps[`setup${i}`] = (now - t) / 1000;
  t = now;
}
const rows: Record<string, number> = {};
for (const [table, sql] of Object.entries(copies)) {
  const r = await c.runAndReadAll(sql);
  rows[table] = Number(r.getRowsJS()[0]?.[0] ?? 0);
  const now = performance.now();
  steps[table] = (now - t) / 1000;
  t = now;
}
c.closeSync();
instance.closeSync();
console.log(JSON.stringify({ rows, steps, seconds: (performance.now() - started) / 1000 }));
