// Hostile input for tests: a small share of log lines and song files bent the ways real data goes
// wrong. Each mutation is chosen from its own seeded stream, so the normal events around it are the
// same bytes whatever the share. Some mutations are rejects (invalid JSON, not an object, missing or
// invalid ts, NextSong without user), others must be accepted and coerced (numeric strings, unknown
// fields, duplicate keys, raw UTF-8, long values), and some must be deduplicated (replayed lines,
// duplicate song ids) or escaped (partition values with / = % ..).
import { Rng } from './random.js';
import type { Catalog, Song } from './catalog.js';

export const LOG_MUTATIONS = [
  'truncated-line',
  'trailing-comma',
  'array',
  'no-ts',
  'bad-ts',
  'nextsong-no-user',
  'numeric-strings',
  'replayed-line',
  'blank-and-crlf',
  'unknown-and-duplicate-keys',
  'raw-utf8',
  'long-value',
] as const;
export type LogMutation = (typeof LOG_MUTATIONS)[number];

export const SONG_MUTATIONS = [
  'duplicate-song-id',
  'no-song-id',
  'pretty-printed',
  'numeric-strings',
  'unsafe-artist-id',
  'truncated',
  'two-songs-as-lines',
] as const;
export type SongMutation = (typeof SONG_MUTATIONS)[number];

const UNSAFE_ARTIST_IDS = ['AR/../x=1', 'AR%2F:odd', 'AR=a/b', 'AR "quoted" #1', 'ARü?*[x]'];

/** Mutates a log line (without its newline) into one or more lines (each without newline). */
export function mutateLogLine(line: string, kind: LogMutation, rng: Rng): string[] {
  switch (kind) {
    case 'truncated-line':
      return [line.slice(0, 1 + rng.int(line.length - 2))];
    case 'trailing-comma':
      return [line.slice(0, -1) + ',}'];
    case 'array':
      return ['[' + line + ']'];
    case 'no-ts':
      return [line.replace(/,"ts":\d+/, '')];
    case 'bad-ts':
      return [line.replace(/"ts":\d+/, rng.next() < 0.5 ? '"ts":"soon"' : '"ts":1.5')];
    case 'nextsong-no-user':
      return [line.replace('"page":"Home"', '"page":"NextSong"').replace(/"userId":"\d*"/, '"userId":""')];
    case 'numeric-strings':
      return [line.replace(/"ts":(\d+)/, '"ts":"$1"').replace(/"sessionId":(\d+)/, '"sessionId":" $1 "').replace(/"itemInSession":(\d+)/, '"itemInSession":"$1.0"').replace(/"length":([\d.]+)/, '"length":"$1"')];
    case 'replayed-line':
      return [line, line];
    case 'blank-and-crlf':
      return ['  \t', line + '\r'];
    case 'unknown-and-duplicate-keys':
      // The real userAgent comes later in the object and wins (last key wins, as JSON.parse).
      return ['{"zz":{"nested":[1,{"x":null}],"s":"}"},"userAgent":"overridden",' + line.slice(1)];
    case 'raw-utf8':
      return [line.replace('"location":"', '"location":"Zürich 東京 😀 ')];
    case 'long-value':
      return [line.replace('"location":"', `"location":"${'long '.repeat(400)}`)];
  }
}

export function pickLogMutation(rng: Rng): LogMutation {
  return LOG_MUTATIONS[rng.int(LOG_MUTATIONS.length)]!;
}

/** The body of a hostile song file for song `song` (which is written under its own key). */
export function mutateSongFile(catalog: Catalog, song: Song, kind: SongMutation, rng: Rng): string {
  const json = catalog.songJson(song);
  switch (kind) {
    case 'duplicate-song-id': {
      // Another file claims an earlier song's id with a different title: the smallest key wins.
      const other = catalog.song(song.index === 0 ? 1 : song.index - 1);
      return catalog.songJson({ ...song, songId: other.songId, title: `${song.title} (duplicate)` });
    }
    case 'no-song-id':
      return json.replace(/"song_id": "[^"]*", /, '');
    case 'pretty-printed':
      return JSON.stringify(JSON.parse(json), null, 4) + '\n';
    case 'numeric-strings':
      return json.replace(/"duration": ([\d.]+)/, '"duration": "$1"').replace(/"year": (\d+)/, '"year": "$1"');
    case 'unsafe-artist-id': {
      const id = UNSAFE_ARTIST_IDS[rng.int(UNSAFE_ARTIST_IDS.length)]!;
      return json.replace(/"artist_id": "[^"]*"/, `"artist_id": ${JSON.stringify(id)}`);
    }
    case 'truncated':
      return json.slice(0, 10 + rng.int(json.length - 12));
    case 'two-songs-as-lines': {
      // A second song from outside the catalog, as a second JSON line of the same file.
      const extra = catalog.song(catalog.songs + 4 * catalog.songs + song.index);
      return json + '\n' + catalog.songJson(extra) + '\n';
    }
  }
}
