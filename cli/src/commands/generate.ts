// `sparkify-lake generate`: deterministic eventsim-like raw data (song files and event logs) into a
// folder or an S3 prefix, ready for `sparkify-lake run --songs <out>/song_data --logs <out>/log_data`.
import { parseArgs } from 'node:util';
import { StorageError } from '../../../job-runner/src/index.js';
import { openCliStorage } from '../cliStorage.js';
import { generate, resolveOptions, type GenerateOptions, type GenerateProgress } from '../../../generator/src/index.js';
import type { Command } from './command.js';

const HELP = `usage: sparkify-lake generate --out <uri> --songs N --events N [options]

Writes <out>/song_data/A/B/C/TR….json (one song per file) and
<out>/log_data/YYYY/MM/YYYY-MM-DD-events.json (eventsim JSON lines, one file per UTC day).
The same options always give the same bytes.

  --out <uri>            a folder or s3://bucket/prefix (S3 settings from AWS_* variables)
  --songs N              songs in the catalog (one file each)
  --events N             event lines in the logs (≈ 460 bytes each; NextSong ≈ 85 %)
  --seed S               default 1
  --users N              default events/400, at least 10
  --artists N            default 0.8 × songs
  --start-date YYYY-MM-DD  first day, default 2018-10-01
  --days N               days of logs, default 183 (crosses a year boundary)
  --match-share F        share of plays that match a catalog song exactly, default 0.6
  --gzip-share F         share of log files written as .json.gz, default 0
  --hostile-share F      share of hostile log lines and song files (for tests), default 0
  --json                 print the summary as one JSON line
`;

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} wants a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
};
const share = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !(x >= 0 && x <= 1)) throw new UsageError(`--${name} wants a number between 0 and 1, got ${JSON.stringify(v)}`);
  return x;
};

class UsageError extends Error {}

function progressLine(p: GenerateProgress): string {
  const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100;
  return `\r${p.phase === 'songs' ? 'songs' : 'events'} ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} (${pct}%), ${(p.bytes / 1e6).toFixed(1)} MB`;
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'write deterministic eventsim-like sample data (songs and event logs)',
  async run(argv) {
    let opts: GenerateOptions;
    let out: string;
    let json = false;
    try {
      const { values } = parseArgs({
        args: argv,
        strict: true,
        options: {
          out: { type: 'string' },
          songs: { type: 'string' },
          events: { type: 'string' },
          seed: { type: 'string' },
          users: { type: 'string' },
          artists: { type: 'string' },
          'start-date': { type: 'string' },
          days: { type: 'string' },
          'match-share': { type: 'string' },
          'gzip-share': { type: 'string' },
          'hostile-share': { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
      if (values.help) {
        console.log(HELP);
        return 0;
      }
      if (!values.out) throw new UsageError('--out is required');
      if (values.songs === undefined || values.events === undefined) throw new UsageError('--songs and --events are required');
      out = values.out;
      json = values.json ?? false;
      opts = {
        songs: int('songs', values.songs)!,
        events: int('events', values.events)!,
        seed: int('seed', values.seed),
        users: int('users', values.users),
        artists: int('artists', values.artists),
        startDate: values['start-date'],
        days: int('days', values.days),
        matchShare: share('match-share', values['match-share']),
        gzipShare: share('gzip-share', values['gzip-share']),
        hostileShare: share('hostile-share', values['hostile-share']),
      };
      resolveOptions(opts);
    } catch (err) {
      const message = err instanceof UsageError || err instanceof RangeError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? (err as Error).message : String(err);
      console.error(`sparkify-lake generate: ${message}\n\n${HELP}`);
      return 2;
    }
    const tty = process.stderr.isTTY && !json;
    try {
      const storage = openCliStorage(out, '--out');
      const summary = await generate(storage, opts, tty ? (p) => process.stderr.write(progressLine(p)) : undefined);
      if (tty) process.stderr.write('\n');
      if (json) {
        console.log(JSON.stringify({ out: storage.root, ...summary }));
      } else {
        const mbs = summary.logs.bytes / 1e6 / Math.max(summary.seconds, 1e-9);
        console.log(
          `wrote ${summary.songs.files.toLocaleString('en-US')} song files and ${summary.logs.events.toLocaleString('en-US')} events in ${summary.logs.files} log files ` +
            `(${summary.logs.firstDay} … ${summary.logs.lastDay}, ${(summary.logs.bytes / 1e6).toFixed(1)} MB) to ${storage.root} in ${summary.seconds.toFixed(1)} s (${mbs.toFixed(0)} MB/s of logs)`,
        );
        console.log(`next: sparkify-lake run --songs ${storage.root}song_data/ --logs ${storage.root}log_data/ --out <lake>`);
      }
      return 0;
    } catch (err) {
      if (tty) process.stderr.write('\n');
      const message = err instanceof StorageError ? err.message : (err as Error).stack ?? String(err);
      console.error(`sparkify-lake generate: ${message}`);
      return 1;
    }
  },
};
