// Measures the schema-on-read hot path on one core: the byte-level EventParser, JSON.parse per line
// (the obvious implementation), and DuckDB's read_json on one thread, over the same synthetic
// eventsim-like lines; plus the song parser against JSON.parse on small song records.
//
//   node dist/bench/schema-parse.js [--mb 200] [--songs 1000000] [--runs 3] [--only parser|jsonparse|duckdb|songs]
//
// Numbers go to docs/schema-on-read.md ("Measured"). Not a test: it takes a while and wants a quiet machine.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { EventParser } from '../job-runner/src/schema/eventParser.js';
import { SongParser } from '../job-runner/src/schema/songParser.js';
import type { ColumnBatch } from '../job-runner/src/columnar/batch.js';

// ---------- synthetic data, deterministic ----------

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Jayden', 'Jacob', 'Lily', 'Kate', 'Aleena', 'Chloe', 'Tegan', 'Ryan', 'Mohammad', 'Jordyn', 'Matthew', 'Sara', 'Ava', 'Wyatt', 'Joseph', 'Zoé', 'Noah', 'Émilie', 'Liam', 'Olivia'];
const LAST = ['Bell', 'Klein', 'Koch', 'Smith', 'Levine', 'Cuevas', 'Rodriguez', 'Sanchez', 'Jones', 'Powell', 'Griffin', 'Hall', 'Pérez', 'Müller', 'Larson'];
const CITIES = ['Dallas-Fort Worth-Arlington, TX', 'Tampa-St. Petersburg-Clearwater, FL', 'San Francisco-Oakland-Hayward, CA', 'Chicago-Naperville-Elgin, IL-IN-WI', 'New York-Newark-Jersey City, NY-NJ-PA', 'Atlanta-Sandy Springs-Roswell, GA', 'Lansing-East Lansing, MI', 'Portland-South Portland, ME', 'Houston-The Woodlands-Sugar Land, TX', 'Janesville-Beloit, WI'];
const AGENTS = [
  '\\"Mozilla\\/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit\\/537.36 (KHTML, like Gecko) Chrome\\/36.0.1985.143 Safari\\/537.36\\"',
  'Mozilla\\/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko\\/20100101 Firefox\\/31.0',
  'Mozilla\\/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident\\/6.0)',
  '\\"Mozilla\\/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit\\/537.51.2 (KHTML, like Gecko) Version\\/7.0 Mobile\\/11D257 Safari\\/9537.53\\"',
  '\\"Mozilla\\/5.0 (Windows NT 6.1; WOW64) AppleWebKit\\/537.36 (KHTML, like Gecko) Chrome\\/37.0.2062.103 Safari\\/537.36\\"',
  'Mozilla\\/5.0 (X11; Ubuntu; Linux x86_64; rv:31.0) Gecko\\/20100101 Firefox\\/31.0',
];
const PAGES: [string, number][] = [['NextSong', 0.81], ['Home', 0.05], ['Thumbs Up', 0.04], ['Add to Playlist', 0.025], ['Logout', 0.015], ['Settings', 0.01], ['Thumbs Down', 0.01], ['Add Friend', 0.01], ['Help', 0.008], ['Upgrade', 0.005], ['About', 0.004], ['Error', 0.003], ['Login', 0.02]];

function syllables(r: () => number, n: number): string {
  const parts = ['ka', 'lo', 'mi', 'ne', 'ro', 'sa', 'tu', 'vi', 'ze', 'an', 'el', 'or', 'us', 'ix', 'ée', 'ño'];
  let s = '';
  for (let i = 0; i < n; i++) s += parts[Math.floor(r() * parts.length)];
  return s[0].toUpperCase() + s.slice(1);
}

/** About `mb` megabytes of eventsim-like JSON lines (the Udacity log shape), '\n'-separated. */
export function syntheticEventLines(mb: number, seed = 42): Buffer {
  const r = rng(seed);
  const users = Array.from({ length: 2000 }, (_, i) => ({
    id: i + 1,
    first: FIRST[Math.floor(r() * FIRST.length)],
    last: LAST[Math.floor(r() * LAST.length)],
    gender: r() < 0.5 ? 'M' : 'F',
    level: r() < 0.3 ? 'paid' : 'free',
    city: CITIES[Math.floor(r() * CITIES.length)],
    agent: AGENTS[Math.floor(r() * AGENTS.length)],
    registration: 1540000000000 + Math.floor(r() * 1e9),
    session: Math.floor(r() * 1000),
    item: 0,
  }));
  const songs = Array.from({ length: 30000 }, () => ({
    title: `${syllables(r, 2)} ${syllables(r, 3)}`,
    artist: `${syllables(r, 3)} ${syllables(r, 2)}`,
    length: Math.round((120 + r() * 300) * 1e5) / 1e5,
  }));
  const parts: Buffer[] = [];
  let size = 0;
  let ts = 1541000000000;
  const target = mb * 1e6;
  while (size < target) {
    let chunk = '';
    for (let k = 0; k < 2000; k++) {
      const u = users[Math.floor(r() * users.length)];
      if (r() < 0.01) {
        u.session++;
        u.item = 0;
      }
      ts += Math.floor(r() * 400);
      let p = r();
      let page = 'NextSong';
      for (const [name, share] of PAGES) {
        p -= share;
        if (p < 0) {
          page = name;
          break;
        }
      }
      const loggedOut = page === 'Login' || (page === 'Help' && r() < 0.3);
      const s = page === 'NextSong' ? songs[Math.floor(Math.pow(r(), 3) * songs.length)] : null;
      chunk +=
        `{"artist":${s ? JSON.stringify(s.artist) : 'null'},"auth":"${loggedOut ? 'Logged Out' : 'Logged In'}",` +
        `"firstName":${loggedOut ? 'null' : JSON.stringify(u.first)},"gender":${loggedOut ? 'null' : `"${u.gender}"`},` +
        `"itemInSession":${u.item++},"lastName":${loggedOut ? 'null' : JSON.stringify(u.last)},` +
        `"length":${s ? s.length : 'null'},"level":"${u.level}","location":${loggedOut ? 'null' : JSON.stringify(u.city)},` +
        `"method":"${page === 'NextSong' ? 'PUT' : 'GET'}","page":"${page}",` +
        `"registration":${loggedOut ? 'null' : `${u.registration}.0`},"sessionId":${u.session},` +
        `"song":${s ? JSON.stringify(s.title) : 'null'},"status":200,"ts":${ts},` +
        `"userAgent":${loggedOut ? 'null' : `"${u.agent}"`},"userId":"${loggedOut ? '' : u.id}"}\n`;
    }
    const b = Buffer.from(chunk, 'utf8');
    parts.push(b);
    size += b.length;
  }
  return Buffer.concat(parts, size);
}

/** `n` small song records as JSON lines (the Million Song Dataset subset's shape). */
export function syntheticSongLines(n: number, seed = 7): Buffer {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const artist = Math.floor(r() * (n / 3 + 1));
    const known = r() < 0.4;
    lines.push(
      JSON.stringify({
        num_songs: 1,
        artist_id: `AR${artist.toString(36).toUpperCase().padStart(16, '0')}`,
        artist_latitude: known ? Math.round((r() * 180 - 90) * 1e5) / 1e5 : null,
        artist_longitude: known ? Math.round((r() * 360 - 180) * 1e5) / 1e5 : null,
        artist_location: known ? CITIES[artist % CITIES.length] : '',
        artist_name: `${syllables(rng(artist), 3)} ${syllables(rng(artist + 1), 2)}`,
        song_id: `SO${i.toString(36).toUpperCase().padStart(16, '0')}`,
        title: `${syllables(r, 2)} ${syllables(r, 3)}`,
        duration: Math.round((60 + r() * 400) * 1e5) / 1e5,
        year: r() < 0.5 ? 0 : 1960 + Math.floor(r() * 60),
      }),
    );
  }
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

// ---------- contenders ----------

const BLOCK = 8 * 1024 * 1024;

/** Cuts the buffer into blocks of whole lines, as the reader does. */
function* blocks(data: Buffer): Generator<{ data: Buffer; offset: number }> {
  let at = 0;
  while (at < data.length) {
    let end = Math.min(at + BLOCK, data.length);
    if (end < data.length) end = data.lastIndexOf(0x0a, end - 1) + 1;
    yield { data: data.subarray(at, end), offset: at };
    at = end;
  }
}

function runParser(make: () => EventParser | SongParser, data: Buffer): { rows: number; rejected: number } {
  const parser = make();
  let rows = 0;
  const take = (bs: ColumnBatch[]) => {
    for (const b of bs) rows += b.length;
  };
  parser.beginSource({ ordinal: 0, key: 'bench.json', whole: false });
  for (const b of blocks(data)) take(parser.push({ type: 'lines', data: b.data, offset: b.offset, firstLine: null }));
  take(parser.endSource());
  take(parser.finish());
  return { rows, rejected: parser.counts().rejected };
}

/** The straightforward implementation: decode each line, JSON.parse it, read the fields. */
function runJsonParse(data: Buffer, fields: string[]): { rows: number; rejected: number } {
  let rows = 0;
  let rejected = 0;
  let sink = 0;
  for (const b of blocks(data)) {
    const text = b.data.toString('utf8');
    let p = 0;
    while (p < text.length) {
      let e = text.indexOf('\n', p);
      if (e < 0) e = text.length;
      if (e > p) {
        try {
          const o = JSON.parse(text.slice(p, e)) as Record<string, unknown>;
          for (const f of fields) if (o[f] !== undefined) sink++;
          rows++;
        } catch {
          rejected++;
        }
      }
      p = e + 1;
    }
  }
  if (sink < 0) console.log(sink);
  return { rows, rejected };
}

/**
 * DuckDB's reader on one thread. `all`: every column parsed into a table (the same work as building
 * column batches, userId cast to BIGINT as we coerce it); otherwise a count touching two columns,
 * which DuckDB's projection pushdown parses alone (a lower bound, not the same work).
 */
async function runDuckDb(file: string, columns: Record<string, string>, all: boolean): Promise<{ rows: number; rejected: number }> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const cols = Object.entries(columns)
    .map(([k, v]) => `'${k}': '${v}'`)
    .join(', ');
  const source = `read_json('${file}', format = 'newline_delimited', columns = {${cols}})`;
  let rows: number;
  if (all) {
    await c.run(`CREATE TABLE ev AS SELECT * REPLACE (TRY_CAST(NULLIF(userId, '') AS BIGINT) AS userId) FROM ${source}`);
    rows = Number((await c.runAndReadAll('SELECT count(*) AS n FROM ev')).getRowObjects()[0].n);
  } else rows = Number((await c.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT userAgent) AS a FROM ${source}`)).getRowObjects()[0].n);
  c.closeSync();
  return { rows, rejected: 0 };
}

const EVENT_COLUMNS: Record<string, string> = {
  artist: 'VARCHAR', auth: 'VARCHAR', firstName: 'VARCHAR', gender: 'VARCHAR', itemInSession: 'BIGINT', lastName: 'VARCHAR',
  length: 'DOUBLE', level: 'VARCHAR', location: 'VARCHAR', method: 'VARCHAR', page: 'VARCHAR', registration: 'DOUBLE',
  sessionId: 'BIGINT', song: 'VARCHAR', status: 'BIGINT', ts: 'BIGINT', userAgent: 'VARCHAR', userId: 'VARCHAR',
};

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

interface Timing {
  label: string;
  mb: number;
  wall: number;
  cpu: number;
  result: unknown;
}

/** Best of `runs`, by wall time and by this process's CPU time (the machine is shared: CPU time is the steadier number). */
async function time<T>(label: string, bytes: number, runs: number, fn: () => T | Promise<T>): Promise<Timing> {
  let wall = Infinity;
  let cpu = Infinity;
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = await fn();
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  const t = { label, mb: bytes / 1e6, wall, cpu, result };
  console.log(
    `${label.padEnd(40)} ${(t.mb / wall).toFixed(0).padStart(5)} MB/s wall (${wall.toFixed(3)} s)  ${(t.mb / cpu).toFixed(0).padStart(5)} MB/s cpu  ${JSON.stringify(result)}`,
  );
  return t;
}

async function interleaved(contenders: [string, () => unknown][], bytes: number, rounds: number): Promise<Timing[]> {
  const best = contenders.map(([label]) => ({ label, mb: bytes / 1e6, wall: Infinity, cpu: Infinity, result: null as unknown }));
  for (let r = 0; r < rounds; r++) {
    for (const [k, [, fn]] of contenders.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      best[k].result = await fn();
      best[k].wall = Math.min(best[k].wall, (performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      best[k].cpu = Math.min(best[k].cpu, (c.user + c.system) / 1e6);
    }
  }
  for (const t of best) {
    console.log(`${t.label.padEnd(40)} ${(t.mb / t.wall).toFixed(0).padStart(5)} MB/s wall (${t.wall.toFixed(3)} s)  ${(t.mb / t.cpu).toFixed(0).padStart(5)} MB/s cpu  ${JSON.stringify(t.result)}`);
  }
  return best;
}

/** A JSON.parse-based song parser building the same dictionary-encoded columns (the alternative to SongParser). */
function runJsonParseSongColumns(data: Buffer): { rows: number; rejected: number } {
  const strCols = ['song_id', 'title', 'artist_id', 'artist_name', 'artist_location'];
  const numCols = ['duration', 'artist_latitude', 'artist_longitude', 'year'];
  let rows = 0;
  let rejected = 0;
  const cap = 65536;
  let dicts = strCols.map(() => new Map<string, number>());
  let codes = strCols.map(() => new Int32Array(cap));
  let nums = numCols.map(() => new Float64Array(cap));
  let n = 0;
  const flush = () => {
    rows += n;
    n = 0;
    dicts = strCols.map(() => new Map<string, number>());
    codes = strCols.map(() => new Int32Array(cap));
    nums = numCols.map(() => new Float64Array(cap));
  };
  for (const b of blocks(data)) {
    const text = b.data.toString('utf8');
    let p = 0;
    while (p < text.length) {
      let e = text.indexOf('\n', p);
      if (e < 0) e = text.length;
      if (e > p) {
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(text.slice(p, e)) as Record<string, unknown>;
        } catch {
          rejected++;
          p = e + 1;
          continue;
        }
        if (typeof o.song_id !== 'string' || o.song_id === '') rejected++;
        else {
          strCols.forEach((c, k) => {
            const v = o[c];
            if (typeof v === 'string') {
              let code = dicts[k].get(v);
              if (code === undefined) dicts[k].set(v, (code = dicts[k].size));
              codes[k][n] = code;
            } else codes[k][n] = -1;
          });
          numCols.forEach((c, k) => {
            const v = o[c];
            nums[k][n] = typeof v === 'number' ? v : NaN;
          });
          if (++n === cap) flush();
        }
      }
      p = e + 1;
    }
  }
  flush();
  return { rows, rejected };
}

async function main(): Promise<void> {
  const mb = Number(arg('mb', '200'));
  const nSongs = Number(arg('songs', '1000000'));
  const runs = Number(arg('runs', '3'));
  const only = arg('only', '');
  const noReject = { onReject: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'schema-bench-'));
  try {
    if (!only || only !== 'songs') {
      const events = syntheticEventLines(mb);
      const file = join(dir, 'events.json');
      writeFileSync(file, events);
      console.log(`events: ${(events.length / 1e6).toFixed(1)} MB, ${events.toString('latin1').split('\n').length - 1} lines, node ${process.version}`);
      const lines = events.toString('latin1').split('\n').length - 1;
      const contenders: [string, () => unknown][] = [];
      if (!only || only === 'parser') contenders.push(['EventParser (scan+coerce+columns)', () => runParser(() => new EventParser(noReject), events)]);
      if (!only || only === 'jsonparse') contenders.push(['JSON.parse per line (fields read)', () => runJsonParse(events, Object.keys(EVENT_COLUMNS))]);
      if (!only || only === 'duckdb') {
        contenders.push(['DuckDB read_json → table, 1 thread', () => runDuckDb(file, EVENT_COLUMNS, true)]);
        contenders.push(['DuckDB read_json, 2 columns, 1 thread', () => runDuckDb(file, EVENT_COLUMNS, false)]);
      }
      // Rounds interleave the contenders, so a change in the machine's load hits all of them alike.
      const got = await interleaved(contenders, events.length, runs);
      // Every contender must have read every line, and nothing may be rejected: otherwise the numbers compare different work.
      for (const t of got) {
        const r = t.result as { rows: number; rejected?: number };
        if (r.rows !== lines || (r.rejected ?? 0) !== 0) throw new Error(`${t.label}: ${JSON.stringify(r)}, want ${lines} rows and no rejects`);
      }
    }
    if (!only || only === 'songs') {
      for (const n of [15000, nSongs]) {
        const songs = syntheticSongLines(n);
        console.log(`songs: ${n} records, ${(songs.length / 1e6).toFixed(1)} MB`);
        const got = [
          await time(`SongParser, ${n} songs`, songs.length, runs, () => runParser(() => new SongParser(noReject), songs)),
          await time(`JSON.parse per line, ${n} songs`, songs.length, runs, () =>
            runJsonParse(songs, ['song_id', 'title', 'duration', 'year', 'artist_id', 'artist_name', 'artist_location', 'artist_latitude', 'artist_longitude', 'num_songs']),
          ),
          await time(`JSON.parse + same columns, ${n} songs`, songs.length, runs, () => runJsonParseSongColumns(songs)),
        ];
        for (const t of got) {
          const r = t.result as { rows: number; rejected: number };
          if (r.rows !== n || r.rejected !== 0) throw new Error(`${t.label}: ${JSON.stringify(r)}, want ${n} rows and no rejects`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runs only as a script, so the generators can be imported by measurement tools.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
