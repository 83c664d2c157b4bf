// After the run: the committed lake, copied from the embedded S3 into a folder, so that the DuckDB
// query the demo prints works in any duckdb shell (no httpfs extension, no credentials) and keeps
// working after the demo's S3 is gone. Exactly the files of the committed manifest are copied.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Manifest, Storage } from '../../../job-runner/src/index.js';
import { makeFolders } from '../../../job-runner/src/storage/folders.js';

/** Copies every file of the manifest, keyed relative to the lake root, into `dir`. Returns the count. */
export async function copyCommittedLake(out: Storage, manifest: Manifest, dir: string, concurrency = 8): Promise<number> {
  const keys = manifest.files.map((f) => f.key);
  for (const key of keys) {
    // Keys come from our own manifest, but a folder is no place to trust a path blindly.
    if (key.startsWith('/') || key.split('/').some((s) => s === '..' || s === '.' || s === '')) throw new Error(`refusing to copy ${JSON.stringify(key)} from the manifest`);
  }
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const path = join(dir, ...key.split('/'));
      makeFolders(dirname(path)); // not mkdir({ recursive }): it spins forever under /proc
      await writeFile(path, await out.get(key));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return keys.length;
}

/** A question a person would ask the lake first: the most played songs, with their artists. */
export function topSongsQuery(lakeDir: string): string {
  const t = (table: string) => `read_parquet('${join(lakeDir, table).replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true)`;
  return [
    'SELECT s.title, a.name AS artist, count(*) AS plays, count(DISTINCT p.user_id) AS listeners',
    `FROM ${t('songplays')} p`,
    `JOIN ${t('songs')} s USING (song_id)`,
    `JOIN ${t('artists')} a ON a.artist_id = p.artist_id`,
    'GROUP BY ALL ORDER BY plays DESC, s.title LIMIT 5;',
  ].join('\n');
}

/**
 * Runs the query with DuckDB when @duckdb/node-api is installed (a development dependency, present
 * after `npm start`'s npm ci) and returns the result as text; undefined when DuckDB is not available.
 */
export async function runDuckDbQuery(sql: string): Promise<string | undefined> {
  let duckdb: typeof import('@duckdb/node-api');
  try {
    duckdb = await import('@duckdb/node-api');
  } catch {
    return undefined;
  }
  const instance = await duckdb.DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await instance.connect();
  try {
    const reader = await c.runAndReadAll(sql);
    const header = reader.columnNames();
    const rows = reader.getRowsJS().map((r) => r.map((v) => (v === null ? 'NULL' : String(v))));
    return formatTable(header, rows);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
