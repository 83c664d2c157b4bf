// `sparkify-lake run`: builds the lake on this machine (plan → scan → build → commit, shards in
// worker processes). Progress on a terminal (stderr); the summary on stdout; with --json the last
// stdout line is one JSON object for scripts.
import { parseArgs } from 'node:util';
import { formatBytes, parseQuantity, RunFailed, runLocal, TABLES, type LocalRunResult } from '../../../job-runner/src/index.js';
import { TtyProgress } from '../../../job-runner/src/local/progress.js';
import { systemClock } from '../../../job-runner/src/local/runLocal.js';
import { refuseOverlappingRoots } from '../runRoots.js';
import { onShutdownSignals } from '../shutdownSignals.js';
import type { Command } from './command.js';

const USAGE = `usage: sparkify-lake run --songs <uri> --logs <uri> --out <uri> [options]

Builds the five-table lake from raw song and log JSON, on this machine. URIs are s3://bucket/prefix
(S3 settings from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or folders.

options:
  --shards N                 scan shards (default: a multiple of --parallel with about 1 GiB of input
                             each, K × ceil(input / (K × 1Gi)), input counting .gz bytes 6 times and
                             16Ki per object, 64Ki from S3; with --target-shard-bytes, ceil(input /
                             SIZE)); always at least K, at most --max-shards, and no more than there
                             are input pieces to share out
  --parallel K               shards run at once (default: the number of CPUs)
  --target-shard-bytes SIZE  input per scan shard when given (see --shards), and staged bytes per
                             build shard, e.g. 512Mi (default 256Mi)
  --max-shards N             upper bound on shards per stage (default 200)
  --split-bytes SIZE         cut uncompressed files larger than this (default 64Mi)
  --max-reject-ratio R       fail when rejected/read exceeds R (default 0.01)
  --staging-memory SIZE      a scan shard spills staged rows past this (default 256Mi)
  --executor process|thread  run shards in child processes (default) or worker threads
  --run-id ID                name of the run (default: from the time)
  --json                     print a JSON summary as the last line of stdout`;

function positiveInt(name: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

export const runCommand: Command = {
  name: 'run',
  summary: 'build the lake locally: plan, scan, build and commit (shards in worker processes)',
  async run(argv) {
    let opts: Parameters<typeof runLocal>[0];
    let json = false;
    try {
      const { values, positionals } = parseArgs({
        args: argv,
        options: {
          songs: { type: 'string' },
          logs: { type: 'string' },
          out: { type: 'string' },
          shards: { type: 'string' },
          parallel: { type: 'string' },
          'target-shard-bytes': { type: 'string' },
          'max-shards': { type: 'string' },
          'split-bytes': { type: 'string' },
          'max-reject-ratio': { type: 'string' },
          'staging-memory': { type: 'string' },
          executor: { type: 'string' },
          'run-id': { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: false,
      });
      void positionals;
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      for (const required of ['songs', 'logs', 'out'] as const) if (!values[required]) throw new Error(`--${required} is required`);
      const ratio = values['max-reject-ratio'] === undefined ? undefined : Number(values['max-reject-ratio']);
      if (ratio !== undefined && !(ratio >= 0 && ratio <= 1)) throw new Error(`--max-reject-ratio must be a number in [0, 1], got ${values['max-reject-ratio']}`);
      if (values.executor !== undefined && values.executor !== 'process' && values.executor !== 'thread') throw new Error('--executor must be process or thread');
      json = values.json ?? false;
      opts = {
        songs: values.songs!,
        logs: values.logs!,
        output: values.out!,
        runId: values['run-id'],
        parallel: values.parallel === undefined ? undefined : positiveInt('parallel', values.parallel),
        sharding: {
          shards: values.shards === undefined ? undefined : positiveInt('shards', values.shards),
          maxShards: values['max-shards'] === undefined ? undefined : positiveInt('max-shards', values['max-shards']),
          targetShardBytes: values['target-shard-bytes'] === undefined ? undefined : parseQuantity(values['target-shard-bytes'], '--target-shard-bytes'),
          splitBytes: values['split-bytes'] === undefined ? undefined : parseQuantity(values['split-bytes'], '--split-bytes'),
        },
        quality: { maxRejectRatio: ratio },
        memory: { stagingBytes: values['staging-memory'] === undefined ? undefined : parseQuantity(values['staging-memory'], '--staging-memory') },
        executor: values.executor as 'process' | 'thread' | undefined,
      };
    } catch (err) {
      console.error(`sparkify-lake run: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    try {
      refuseOverlappingRoots(opts.output, opts.songs, opts.logs);
    } catch (err) {
      console.error(`sparkify-lake run: ${(err as Error).message}`);
      return 2;
    }
    const reporter = TtyProgress.forStream(process.stderr, systemClock);
    // Ctrl-C / SIGTERM / SIGHUP: stop the shards, discard the run (the committed lake stays), then exit.
    const interrupt = new AbortController();
    const offSignals = onShutdownSignals(() => interrupt.abort());
    try {
      const result = await runLocal({ ...opts, reporter, signal: interrupt.signal });
      if (json) console.log(JSON.stringify(jsonSummary(result)));
      else console.log(humanSummary(result, opts.output));
      return 0;
    } catch (err) {
      if (reporter instanceof TtyProgress) reporter.end();
      const message = err instanceof RunFailed ? err.message : (err as Error).stack ?? String(err);
      console.error(`sparkify-lake run: ${message}`);
      return interrupt.signal.aborted ? 130 : 1;
    } finally {
      offSignals();
    }
  },
};

export function jsonSummary(r: LocalRunResult) {
  const m = r.manifest;
  return {
    runId: r.runId,
    records: { read: m.records.read, rejected: m.records.rejected },
    tables: Object.fromEntries(TABLES.map((t) => [t, { rows: m.tables[t].rows, partitions: m.tables[t].partitions, files: m.tables[t].files, bytes: m.tables[t].bytes }])),
    skew: Number(r.scan.skew.toFixed(4)),
    seconds: Number(r.seconds.toFixed(3)),
    output: m.spec.output,
    shards: { scan: r.scan.shards, build: r.build.shards },
    rejectedByReason: m.records.rejectedByReason,
  };
}

export function humanSummary(r: LocalRunResult, output: string): string {
  const m = r.manifest;
  const rows = TABLES.map((t) => [t, m.tables[t].rows.toLocaleString('en-US'), String(m.tables[t].partitions), String(m.tables[t].files), formatBytes(m.tables[t].bytes)]);
  const header = ['table', 'rows', 'partitions', 'files', 'bytes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const reasons = Object.entries(m.records.rejectedByReason).map(([k, v]) => `${k} ${v}`).join(', ');
  const root = output.replace(/\/+$/, '');
  return [
    `run ${r.runId} committed to ${output} in ${r.seconds.toFixed(1)} s`,
    `records: ${m.records.read.toLocaleString('en-US')} read, ${m.records.rejected.toLocaleString('en-US')} rejected${reasons ? ` (${reasons})` : ''}`,
    `shards: scan ${r.scan.shards} (skew ${r.scan.skew.toFixed(2)}), build ${r.build.shards} (skew ${r.build.skew.toFixed(2)})`,
    '',
    fmt(header),
    ...rows.map(fmt),
    '',
    `read it: duckdb -c "SELECT * FROM read_parquet('${root}/songplays/**/*.parquet', hive_partitioning = true) LIMIT 5"`,
  ].join('\n');
}
