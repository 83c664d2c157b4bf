// Writes a generated raw dataset through the engine's Storage interface (a folder or S3):
//   song_data/A/B/C/TR….json             one song per file, as the Million Song Dataset subset
//   log_data/YYYY/MM/YYYY-MM-DD-events.json[.gz]   one eventsim JSON line per event, one file per UTC day
// Streaming: log files are produced chunk by chunk while storage consumes them (putStream pulls, so
// generation runs at the writer's pace); memory is bounded by the chunk size, the open sessions and
// the song-text cache, whatever the number of events. Same options, same bytes.
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Storage } from '../../job-runner/src/index.js';
import { Catalog } from './catalog.js';
import { mutateLogLine, mutateSongFile, pickLogMutation, SONG_MUTATIONS, type LogMutation } from './hostile.js';
import { hash32, Rng, unit } from './random.js';
import { EventStream, type EventLine } from './sessions.js';
import { Users } from './users.js';

export interface GenerateOptions {
  songs: number;
  events: number;
  seed?: number;
  /** Share of log files written gzip-compressed (`.json.gz`). */
  gzipShare?: number;
  /** Share of log lines and song files made hostile (see hostile.ts); > 0 also replays one log file. */
  hostileShare?: number;
  /** Default: events / 400, at least 10. */
  users?: number;
  /** Default: 0.8 × songs (so that artists have 1 to several songs), at least 1. */
  artists?: number;
  /** First day (UTC, YYYY-MM-DD) and number of days; default 2018-10-01 and 183 days (into 2019). */
  startDate?: string;
  days?: number;
  /** Share of NextSong events playing a catalog song exactly. Default 0.6. */
  matchShare?: number;
  /** Concurrent song-file writes. Default 16. */
  concurrency?: number;
  /** Key prefixes under the storage root. */
  songsPrefix?: string;
  logsPrefix?: string;
  /** Target bytes per chunk handed to storage. Default 1 MiB. */
  chunkBytes?: number;
}

export interface GenerateProgress {
  phase: 'songs' | 'logs';
  done: number;
  total: number;
  bytes: number;
}

export interface GenerateSummary {
  songs: { files: number; bytes: number };
  /** `bytes` counts log lines before compression; `events` the event lines (hostile extras not counted). */
  logs: { files: number; gzipFiles: number; bytes: number; events: number; firstDay: string; lastDay: string };
  hostile: { logLines: Partial<Record<LogMutation, number>>; songFiles: Record<string, number>; replayedFile: string | null };
  seconds: number;
}

const DAY_MS = 86_400_000;

function checkShare(name: string, x: number) {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`${name} must be between 0 and 1: ${x}`);
}

/** Options with every default filled in; throws RangeError on a bad value. */
export function resolveOptions(opts: GenerateOptions): Required<GenerateOptions> {
  const o: Required<GenerateOptions> = {
    seed: 1,
    gzipShare: 0,
    hostileShare: 0,
    users: Math.max(10, Math.round(opts.events / 400)),
    artists: Math.max(1, Math.round(opts.songs * 0.8)),
    startDate: '2018-10-01',
    days: 183,
    matchShare: 0.6,
    concurrency: 16,
    songsPrefix: 'song_data/',
    logsPrefix: 'log_data/',
    chunkBytes: 1 << 20,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  } as Required<GenerateOptions>;
  for (const [name, v] of [['songs', o.songs], ['events', o.events], ['users', o.users], ['artists', o.artists], ['days', o.days], ['seed', o.seed], ['concurrency', o.concurrency]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer: ${v}`);
  }
  if (o.users < 1 || o.artists < 1 || o.days < 1 || o.concurrency < 1) throw new RangeError('users, artists, days and concurrency must be at least 1');
  checkShare('gzip share', o.gzipShare);
  checkShare('hostile share', o.hostileShare);
  checkShare('match share', o.matchShare);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.startDate) || Number.isNaN(Date.parse(`${o.startDate}T00:00:00Z`))) throw new RangeError(`start date must be YYYY-MM-DD: ${o.startDate}`);
  return o;
}

function dayOf(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

async function writeSongs(storage: Storage, o: Required<GenerateOptions>, catalog: Catalog, summary: GenerateSummary, progress?: (p: GenerateProgress) => void) {
  let next = 0;
  let hostileFiles = 0;
  const worker = async () => {
    while (next < o.songs) {
      // Everything up to the write runs synchronously in index order, so which files are hostile,
      // and how, does not depend on the order in which writes complete.
      const i = next++;
      const song = catalog.song(i);
      let body: string;
      if (o.hostileShare > 0 && unit(o.seed, i, 0x50e) < o.hostileShare) {
        const rng = new Rng(hash32(o.seed, i, 0x50f));
        // Cycle through the kinds: song files are few, and every kind must show up in small tests.
        const kind = SONG_MUTATIONS[hostileFiles++ % SONG_MUTATIONS.length]!;
        summary.hostile.songFiles[kind] = (summary.hostile.songFiles[kind] ?? 0) + 1;
        body = mutateSongFile(catalog, song, kind, rng);
      } else {
        body = catalog.songJson(song);
      }
      const bytes = Buffer.from(body);
      await storage.put(catalog.songKey(song, o.songsPrefix), bytes, { contentType: 'application/json' });
      summary.songs.files++;
      summary.songs.bytes += bytes.length;
      if (progress && summary.songs.files % 1000 === 0) progress({ phase: 'songs', done: summary.songs.files, total: o.songs, bytes: summary.songs.bytes });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, Math.max(1, o.songs)) }, worker));
}

/**
 * Lines packed into ~chunkBytes Buffers. Each chunk is a fresh allocation: the consumer may still
 * hold the previous one.
 */
class ChunkPacker {
  private buf: Buffer;
  private used = 0;
  readonly ready: Buffer[] = [];

  constructor(private readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes + 64 * 1024);
  }

  /** eventsim lines are ASCII (every other character is \u-escaped): latin1 is the fastest exact encoding. */
  add(line: string, ascii: boolean) {
    const worst = (ascii ? line.length : 3 * line.length) + 1;
    if (this.used + worst > this.buf.length) this.flush(worst);
    this.used += this.buf.write(line, this.used, ascii ? 'latin1' : 'utf8');
    this.buf[this.used++] = 0x0a;
    if (this.used >= this.chunkBytes) this.flush(0);
  }

  flush(need: number) {
    if (this.used > 0) this.ready.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes + 64 * 1024, need));
    this.used = 0;
  }
}

/** Pulls the events before `dayEnd` from the stream as chunks; leaves the next day's first event in `pending`. */
async function* dayChunks(state: { pending: EventLine | null; stream: EventStream }, dayEnd: number, o: Required<GenerateOptions>, summary: GenerateSummary, hostile: Rng | null): AsyncGenerator<Buffer> {
  const packer = new ChunkPacker(o.chunkBytes);
  let first = true;
  const drain = function* () {
    for (const chunk of packer.ready.splice(0)) {
      summary.logs.bytes += chunk.length;
      yield chunk;
    }
  };
  while (state.pending && state.pending.ts < dayEnd) {
    if (hostile && hostile.next() < o.hostileShare) {
      let kind = pickLogMutation(hostile);
      // A first line that starts with '{' but is not valid JSON makes the whole file one pretty-printed
      // document (docs/schema-on-read.md): keep first lines parseable so one mutation spoils one line.
      if (first && (kind === 'truncated-line' || kind === 'trailing-comma')) kind = 'numeric-strings';
      summary.hostile.logLines[kind] = (summary.hostile.logLines[kind] ?? 0) + 1;
      for (const l of mutateLogLine(state.pending.text, kind, hostile)) packer.add(l, false);
    } else {
      packer.add(state.pending.text, true);
    }
    first = false;
    summary.logs.events++;
    state.pending = state.stream.next();
    if (packer.ready.length) yield* drain();
  }
  packer.flush(0);
  yield* drain();
}

export async function generate(storage: Storage, options: GenerateOptions, progress?: (p: GenerateProgress) => void): Promise<GenerateSummary> {
  const o = resolveOptions(options);
  const started = performance.now();
  const start = Date.parse(`${o.startDate}T00:00:00Z`);
  const end = start + o.days * DAY_MS;
  const catalog = new Catalog(o.seed, o.songs, o.artists);
  const users = new Users(o.seed, o.users, start, end);
  const summary: GenerateSummary = {
    songs: { files: 0, bytes: 0 },
    logs: { files: 0, gzipFiles: 0, bytes: 0, events: 0, firstDay: '', lastDay: '' },
    hostile: { logLines: {}, songFiles: {}, replayedFile: null },
    seconds: 0,
  };
  await writeSongs(storage, o, catalog, summary, progress);

  const stream = new EventStream({ seed: o.seed, events: o.events, catalog, users, matchShare: o.matchShare });
  const state = { pending: stream.next(), stream };
  const hostile = o.hostileShare > 0 ? new Rng(o.seed ^ 0xbad10c) : null;
  let firstKey: string | null = null;
  while (state.pending) {
    const dayNumber = Math.floor(state.pending.ts / DAY_MS);
    const day = dayOf(state.pending.ts);
    const gzip = o.gzipShare > 0 && unit(o.seed, dayNumber, 0x6219) < o.gzipShare;
    const key = `${o.logsPrefix}${day.slice(0, 4)}/${day.slice(5, 7)}/${day}-events.json${gzip ? '.gz' : ''}`;
    const chunks = Readable.from(dayChunks(state, (dayNumber + 1) * DAY_MS, o, summary, hostile), { objectMode: false });
    await storage.putStream(key, gzip ? chunks.pipe(createGzip()) : chunks, { contentType: 'application/json' });
    firstKey ??= key;
    summary.logs.files++;
    if (gzip) summary.logs.gzipFiles++;
    summary.logs.firstDay ||= day;
    summary.logs.lastDay = day;
    progress?.({ phase: 'logs', done: summary.logs.events, total: o.events, bytes: summary.logs.bytes });
  }
  if (hostile && firstKey) {
    // A log file shipped twice under another name: songplays must not double-count it.
    const replayed = firstKey.replace(/-events\.json(\.gz)?$/, '-events-replayed.json$1');
    await storage.put(replayed, await storage.get(firstKey));
    summary.hostile.replayedFile = replayed;
    summary.logs.files++;
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

