// `npm run bench`: the lake build benchmark (not part of the test suite).
//
//   compare    (default) generated data (≈1 GB of logs, 100k songs; cached under .cache/bench-data/),
//              `sparkify-lake run` vs the DuckDB peer on the same files, in the same run: wall seconds,
//              input MB/s, peak RSS of each process tree, the ratio ours/DuckDB, and row counts.
//   full-size  the Sparkify shape (14,896 songs, ≈10k song partitions) into S3, end to end: into plain
//              s3rver and into the dev cluster's embedded S3 (--s3 s3rver|fast|both, default both).
//   memory     a 5 GB input with a fixed shard memory budget: peak RSS per shard process.
//   all        the three, in that order.
//
// Flags (or environment variables BENCH_<FLAG> with '-' as '_'): --mode, --log-bytes 1G, --events N,
// --songs 100000, --seed 1, --parallel K (default: CPUs), --threads N (DuckDB, default: CPUs),
// --memory-log-bytes 5G, --staging-memory 64Mi, --skip-ours, --skip-duckdb, --verify (compare the
// two lakes row by row), --keep (keep the lakes), --s3 both|s3rver|fast (full-size), --json (results as
// one JSON line at the end).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatBytes, parseQuantity, TABLES } from '../job-runner/src/index.js';
import { compareLakes } from '../test/helpers/compareLakes.js';
import { benchData, BYTES_PER_EVENT } from './benchData.js';
import { repoRoot, runDuckdb, runOurs, type ContenderResult } from './contenders.js';
import { fullSize, type FullSizeResult, type S3Variant } from './fullSize.js';
import { memoryCheck } from './memoryCheck.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    'log-bytes': { type: 'string' },
    events: { type: 'string' },
    songs: { type: 'string' },
    seed: { type: 'string' },
    parallel: { type: 'string' },
    threads: { type: 'string' },
    'memory-log-bytes': { type: 'string' },
    'staging-memory': { type: 'string' },
    'skip-ours': { type: 'boolean' },
    'skip-duckdb': { type: 'boolean' },
    verify: { type: 'boolean' },
    keep: { type: 'boolean' },
    s3: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const env = (name: string) => process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
const opt = (name: keyof typeof values): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : env(name);
};
const bool = (name: keyof typeof values) => values[name] === true || ['1', 'true'].includes(env(name) ?? '');

const mode = opt('mode') ?? 'compare';
if (!['compare', 'full-size', 'memory', 'all'].includes(mode)) {
  console.error(`bench: unknown --mode ${mode} (compare, full-size, memory, all)`);
  process.exit(2);
}
const cpus = availableParallelism();
const parallel = Number(opt('parallel') ?? cpus);
const threads = Number(opt('threads') ?? cpus);
const songs = Number(opt('songs') ?? 100_000);
const seed = Number(opt('seed') ?? 1);
const cacheRoot = join(repoRoot, '.cache', 'bench-data');
const lakeRoot = join(repoRoot, '.cache', 'bench-lakes');
const log = (line: string) => console.error(line);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const results: Record<string, unknown> = { cpus, parallel, threads, node: process.version };

/** Events for a size of logs (≈ BYTES_PER_EVENT each). */
const eventsFor = (bytes: string) => Math.round(parseQuantity(bytes, 'log bytes') / BYTES_PER_EVENT);

function line(r: ContenderResult, inputBytes: number): string {
  if (!r.ok) return `  ${r.name.padEnd(18)} ${r.message}`;
  return `  ${r.name.padEnd(18)} ${r.seconds.toFixed(1).padStart(8)} s ${(inputBytes / 1e6 / r.seconds).toFixed(1).padStart(9)} MB/s ${mib(r.peakTreeRssBytes).padStart(7)} MiB peak RSS`;
}

async function compare() {
  const events = opt('events') ? Number(opt('events')) : eventsFor(opt('log-bytes') ?? '1G');
  const data = await benchData(cacheRoot, { songs, events, seed }, log);
  const s = data.summary;
  const inputBytes = s.logs.bytes + s.songs.bytes;
  console.log(`\ncompare: ${mb(s.logs.bytes)} MB of logs (${s.logs.events.toLocaleString('en-US')} events, ${s.logs.files} files) + ${s.songs.files.toLocaleString('en-US')} song files (${mb(s.songs.bytes)} MB)${data.generated ? `, generated in ${s.seconds.toFixed(1)} s (${(s.logs.bytes / 1e6 / s.seconds).toFixed(0)} MB/s)` : ' (cached)'}`);
  console.log(`  data: ${data.dir}; parallel ${parallel}, DuckDB threads ${threads}`);
  const oursOut = join(lakeRoot, 'ours');
  const duckOut = join(lakeRoot, 'duckdb');
  const ours: ContenderResult = bool('skip-ours')
    ? { name: 'sparkify-lake run', ok: false, message: 'skipped', seconds: 0, peakTreeRssBytes: 0, rows: {} }
    : await runOurs({ songs: data.songs, logs: data.logs, out: oursOut, parallel, clean: true });
  console.log(line(ours, inputBytes));
  const duck: ContenderResult = bool('skip-duckdb')
    ? { name: 'duckdb', ok: false, message: 'skipped', seconds: 0, peakTreeRssBytes: 0, rows: {} }
    : await runDuckdb({ songs: data.songs, logs: data.logs, out: duckOut, threads, gzip: s.logs.gzipFiles > 0 });
  console.log(line(duck, inputBytes));
  const ratio = ours.ok && duck.ok ? ours.seconds / duck.seconds : null;
  if (ratio !== null) console.log(`  ratio ours/DuckDB  ${ratio.toFixed(2)} (wall time; below 1.0 means faster than DuckDB)`);
  let rowsMatch: boolean | null = null;
  if (ours.ok && duck.ok) {
    rowsMatch = TABLES.every((t) => ours.rows[t] === duck.rows[t]);
    console.log(`  rows ${rowsMatch ? 'match' : 'DIFFER'}: ${TABLES.map((t) => `${t} ${ours.rows[t]}${ours.rows[t] === duck.rows[t] ? '' : ` ≠ ${duck.rows[t]}`}`).join(', ')}`);
  }
  let verified: boolean | null = null;
  if (bool('verify') && ours.ok && duck.ok) {
    // songplay_id is FNV-1a in the engine and DuckDB's hash() in the peer: every other column must agree.
    const cmp = await compareLakes(oursOut, duckOut, { ignoreColumns: { songplays: ['songplay_id'] } });
    verified = cmp.equal;
    console.log(cmp.report.split('\n').map((l) => `  ${l}`).join('\n'));
  }
  if (!bool('keep')) for (const d of [oursOut, duckOut]) rmSync(d, { recursive: true, force: true });
  const strip = (r: ContenderResult) => ({ ...r, measured: undefined, processes: r.measured?.processes.length });
  results.compare = { data: { dir: data.dir, logBytes: s.logs.bytes, songBytes: s.songs.bytes, events: s.logs.events, songs: s.songs.files }, ours: strip(ours), duckdb: strip(duck), ratio, rowsMatch, verified };
  return rowsMatch !== false && verified !== false;
}

async function fullSizeMode() {
  const which = opt('s3') ?? 'both';
  const variants: S3Variant[] = which === 'both' ? ['s3rver', 'fast'] : which === 's3rver' || which === 'fast' ? [which] : [];
  if (variants.length === 0) {
    console.error(`bench: unknown --s3 ${which} (both, s3rver, fast)`);
    return false;
  }
  const runs: FullSizeResult[] = [];
  for (const variant of variants) {
    const r = await fullSize({ variant, parallel, log });
    const server = variant === 's3rver' ? 'plain s3rver' : "the dev cluster's embedded S3 (s3rver + fast path)";
    console.log(`\nfull size into ${server}: ${r.songFiles.toLocaleString('en-US')} song files + ${r.logFiles} log files uploaded in ${r.uploadSeconds.toFixed(1)} s; the server alone serves them all (GET, 16 at a time) in ${r.getAllSeconds.toFixed(1)} s`);
    console.log(line(r.run, 0).replace(/\s+[\d.]+ MB\/s/, ''));
    if (r.run.ok) console.log(`  ${r.objectsWritten.toLocaleString('en-US')} objects written (${r.songPartitions?.toLocaleString('en-US')} song partitions), ${r.objectsPerSecond.toFixed(0)} objects/s; target < 60 s: ${r.run.seconds < 60 ? 'met' : 'MISSED'}`);
    runs.push(r);
  }
  results.fullSize = runs.map((r) => ({ ...r, run: { ...r.run, measured: undefined } }));
  return runs.every((r) => r.run.ok);
}

async function memoryMode() {
  const data = await benchData(cacheRoot, { songs, events: eventsFor(opt('memory-log-bytes') ?? '5G'), seed }, log);
  const stagingMemory = opt('staging-memory') ?? '64Mi';
  const r = await memoryCheck({ data, out: join(lakeRoot, 'memory'), stagingMemory, parallel, keep: bool('keep') });
  console.log(`\nmemory check: ${formatBytes(r.inputBytes)} of input, --staging-memory ${stagingMemory}, parallel ${parallel}`);
  console.log(line(r.run, r.inputBytes));
  console.log(`  shard processes: ${r.shards.length}; peak RSS per shard: scan max ${mib(r.maxScanPeak)} MiB, build max ${mib(r.maxBuildPeak)} MiB`);
  for (const s of r.shards) console.log(`    ${s.stage} ${s.index}: ${mib(s.peakRssBytes)} MiB`);
  results.memory = { ...r, run: { ...r.run, measured: undefined } };
  return r.run.ok;
}

let ok = true;
if (mode === 'compare' || mode === 'all') ok = (await compare()) && ok;
if (mode === 'full-size' || mode === 'all') ok = (await fullSizeMode()) && ok;
if (mode === 'memory' || mode === 'all') ok = (await memoryMode()) && ok;
if (bool('json')) console.log(JSON.stringify(results));
process.exitCode = ok ? 0 : 1;
