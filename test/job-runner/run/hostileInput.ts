// A hostile input set, built from code (no committed data files): every reject rule and coercion of
// docs/schema-on-read.md, duplicates across files, a log file shipped twice, unicode, partition values
// with `/ = % ..`, month and year boundaries in UTC, gzip (valid, truncated, not gzip at all), empty
// files, blank and CRLF lines, a 1 MiB field and a line past maxLineBytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** maxLineBytes the hostile runs use (the 3 MiB line is over it, the 1 MiB field under it). */
export const HOSTILE_MAX_LINE_BYTES = 2 * 1024 * 1024;

function put(root: string, key: string, body: string | Buffer): void {
  const path = join(root, ...key.split('/'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

const jl = (records: unknown[]) => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

function event(o: Record<string, unknown>): Record<string, unknown> {
  return {
    artist: null, auth: 'Logged In', firstName: 'Ada', gender: 'F', itemInSession: 0, lastName: 'Lovelace', length: null, level: 'free',
    location: 'London, UK', method: 'PUT', page: 'NextSong', registration: 1540000000000, sessionId: 1, song: null, status: 200,
    ts: 1541105830796, userAgent: 'Mozilla/5.0', userId: '1', ...o,
  };
}

export function writeHostileInput(root: string): { songs: string; logs: string } {
  const songs = join(root, 'song_data');
  const logs = join(root, 'log_data');
  const song = (o: Record<string, unknown>) => ({ num_songs: 1, artist_latitude: null, artist_longitude: null, artist_location: '', year: 2000, duration: 200, ...o });

  // --- songs
  put(songs, 'A/A/SOAAA.json', JSON.stringify(song({ song_id: 'SOAAA', title: 'Road', artist_id: 'AR/../x=1', artist_name: 'Slash / Equals', duration: 200.5 })));
  put(songs, 'A/B/SOAAA-dup.json', JSON.stringify(song({ song_id: 'SOAAA', title: 'Road (later copy)', artist_id: 'ARLATER', artist_name: 'Later', year: 1990 })));
  put(songs, 'A/C/nosongid.json', JSON.stringify(song({ title: 'No id', artist_id: 'ARX' })));
  put(songs, 'A/C/emptysongid.json', JSON.stringify(song({ song_id: '', title: 'Empty id', artist_id: 'ARX' })));
  put(songs, 'A/D/pretty.json', JSON.stringify(song({ song_id: 'SOPRETTY', title: 'Pretty', artist_id: 'AR100%', artist_name: 'Hundred %', year: '1999', duration: '245.5', artist_latitude: '51.5', artist_longitude: -0.12 }), null, 2));
  put(songs, 'B/A/unicode.json', JSON.stringify(song({ song_id: 'SOUNI', title: 'Für Elise — 日本', artist_id: 'ARÆ:日本', artist_name: 'Ærtist 日本', year: 0, duration: 180, unknown_field: true })));
  put(songs, 'B/A/numeric-id.json', JSON.stringify(song({ song_id: 12345, title: 'Numbered', artist_id: null, artist_name: 'Nobody', year: null })));
  put(songs, 'B/B/lines.jsonl', [
    JSON.stringify(song({ song_id: 'SOL1', title: 'Lines One', artist_id: 'AR..', artist_name: 'Dots', duration: 100 })),
    '',
    '   ',
    '{"song_id": "SOBROKEN", "title": ',
    '[1, 2, 3]',
    JSON.stringify(song({ song_id: 'SOL2', title: 'Match Me', artist_id: 'AR=', artist_name: 'Matcher', duration: 210 })),
    JSON.stringify(song({ song_id: 'SOL3', title: 'Match Me', artist_id: 'AR=', artist_name: 'Matcher', duration: 213 })),
    JSON.stringify(song({ song_id: 'SOL4', title: 'No Duration', artist_id: 'ARND', artist_name: 'Nodur', duration: null })),
  ].join('\r\n'));
  put(songs, 'B/C/empty.json', '');
  put(songs, 'B/C/_SUCCESS', '');
  put(songs, 'B/C/.hidden.json', '{"song_id":"HIDDEN"}');

  // --- logs: year/month boundaries in UTC, a replayed file, every reject rule and coercion
  const boundary = jl([
    event({ ts: Date.UTC(2018, 11, 31, 23, 59, 59, 999), userId: '7', sessionId: 70, itemInSession: 1, song: 'Road', artist: 'Slash / Equals', length: 201.9, level: 'free' }),
    event({ ts: Date.UTC(2019, 0, 1, 0, 0, 0, 0), userId: '7', sessionId: 70, itemInSession: 2, song: 'Match Me', artist: 'Matcher', length: 211.2, level: 'paid' }),
    event({ ts: Date.UTC(2019, 0, 31, 23, 59, 59, 999), userId: 8, sessionId: '80', itemInSession: '3', song: 'Match Me', artist: 'Matcher', length: '212.9', firstName: 'Zoë', lastName: 'Ünal 😀' }),
    event({ ts: Date.UTC(2019, 1, 1), userId: '8', sessionId: 80, itemInSession: null, song: 'No Duration', artist: 'Nodur', length: 12 }),
    event({ ts: Date.UTC(2019, 1, 1), userId: '8', sessionId: 80, itemInSession: null, song: 'No Duration', artist: 'Nodur', length: 12, location: 'duplicate in the same file' }),
  ]);
  put(logs, '2018/12/2018-12-31-events.json', boundary);
  put(logs, '2018/12/replayed/2018-12-31-events.json', boundary);
  put(logs, '2018/11/rejects.json', [
    JSON.stringify(event({ ts: undefined })),
    JSON.stringify(event({ ts: null })),
    JSON.stringify(event({ ts: '' })),
    JSON.stringify(event({ ts: 'yesterday' })),
    JSON.stringify(event({ ts: -5 })),
    JSON.stringify(event({ ts: 1.5 })),
    JSON.stringify(event({ ts: 253402300800000 })),
    JSON.stringify(event({ userId: '' })),
    JSON.stringify(event({ userId: 'abc' })),
    JSON.stringify(event({ userId: '', page: 'Home', ts: 1541105830000 })),
    '{"ts": 1541105830796, "page": "NextSong", "userId": "3",}',
    '"just a string"',
    'null',
    '',
    '\t',
    JSON.stringify(event({ userId: ' 42 ', ts: '1541105830001', sessionId: 4.0, itemInSession: '1e1', length: 'abc', level: 'paid', extra: { nested: [1, 2] } })),
    JSON.stringify(event({ userId: 42, ts: 1541105830002, page: 'Logout', level: 'free', firstName: true, lastName: 12 })),
  ].join('\n') + '\n');
  put(logs, '2018/11/bigfield.json', JSON.stringify(event({ userId: '9', ts: 1541200000000, userAgent: 'U'.repeat(1024 * 1024) })) + '\n' + JSON.stringify(event({ userId: '9', ts: 1541200000001, userAgent: 'x'.repeat(3 * 1024 * 1024) })));
  const gz = jl([
    event({ userId: '11', ts: Date.UTC(2018, 10, 15, 12), sessionId: 5, itemInSession: 0, song: 'Road', artist: 'Slash / Equals', length: 200 }),
    event({ userId: '11', ts: Date.UTC(2018, 10, 15, 13), sessionId: 5, itemInSession: 1, page: 'Upgrade', level: 'paid' }),
  ]);
  put(logs, '2018/11/compressed.json.gz', gzipSync(Buffer.from(gz)));
  const long = jl(Array.from({ length: 200 }, (_, i) => event({ userId: '12', ts: Date.UTC(2018, 10, 20) + i * 1000, sessionId: 6, itemInSession: i, song: `Song ${i}` })));
  const cut = gzipSync(Buffer.from(long));
  put(logs, '2018/11/truncated.json.gz', cut.subarray(0, Math.floor(cut.length * 0.6)));
  put(logs, '2018/11/not-gzip.json.gz', 'this is not gzip\n');
  put(logs, '2018/11/empty.json', '');
  put(logs, '2018/11/crlf.json', jl([event({ userId: '13', ts: Date.UTC(2018, 10, 30, 23, 59), song: 'Road', artist: 'Slash / Equals', length: null })]).replace(/$/, '\r\n'));
  return { songs, logs };
}
