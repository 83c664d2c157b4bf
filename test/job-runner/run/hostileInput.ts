// A hostile input set, built from code (no committed data files): every reject rule and coercion of
// docs/schema-on-read.md, duplicates across files, a log file shipped twice, unicode, partition values
// with `/ = % ..`, `NULL` in any case and partition folder names at and just past the 255-byte limit,
// month and year boundaries in UTC, gzip (valid, truncated, a bad CRC, a bad ISIZE, not gzip at all, empty), empty
// files, blank and CRLF lines, a BOM, numbers in string fields, a 1 MiB field, and lines at and just
// past maxLineBytes (a trailing \r not counted).
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { putFile } from './lakeFiles.js';

/** maxLineBytes the hostile runs use (the 3 MiB line is over it, the 1 MiB field under it). */
export const HOSTILE_MAX_LINE_BYTES = 2 * 1024 * 1024;

/**
 * Song artist_ids whose folder name `artist_id=<escaped>` is exactly 255 bytes (kept) or just over
 * (quarantined as partition-value-too-long): escaped ASCII counts 3 bytes, other characters their
 * UTF-8 length (U+FFFD, which replaces invalid bytes, 3).
 */
export const LONG_ARTIST_IDS = {
  slashesAtLimit: 'AR' + '/'.repeat(81), // 10 + 2 + 81 × 3 = 255
  slashesOver: '/'.repeat(82), // 10 + 82 × 3 = 256
  cjkAtLimit: 'AR' + '日'.repeat(81), // 10 + 2 + 81 × 3 = 255
  cjkOver: '日'.repeat(82), // 10 + 82 × 3 = 256
  emojiAtLimit: '😀'.repeat(61) + 'A', // 10 + 61 × 4 + 1 = 255 (122 + 1 UTF-16 units)
  emojiOver: '😀'.repeat(62) + 'A', // 10 + 62 × 4 + 1 = 259
  mixedAtLimit: '%'.repeat(40) + 'é'.repeat(62) + 'x', // 10 + 120 + 124 + 1 = 255
  replacedAtLimit: '\ufffd'.repeat(81) + 'AB', // 81 invalid bytes, each read as U+FFFD: 10 + 243 + 2 = 255
} as const;

/** Song artist_ids that a hive reader could mistake for null, and how they must read back. */
export const NULL_LIKE_ARTIST_IDS: { value: string; folder: string; readBack: string | null }[] = [
  { value: 'NULL', folder: 'artist_id=%4EULL', readBack: 'NULL' },
  { value: 'null', folder: 'artist_id=%6Eull', readBack: 'null' },
  { value: 'Null', folder: 'artist_id=%4Eull', readBack: 'Null' },
  // Spark and Hive write null as this name, and every reader reads it as null: so does a value equal to it.
  { value: '__HIVE_DEFAULT_PARTITION__', folder: 'artist_id=__HIVE_DEFAULT_PARTITION__', readBack: null },
];


const jl = (records: unknown[]) => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

function event(o: Record<string, unknown>): Record<string, unknown> {
  return {
    artist: null, auth: 'Logged In', firstName: 'Ada', gender: 'F', itemInSession: 0, lastName: 'Lovelace', length: null, level: 'free',
    location: 'London, UK', method: 'PUT', page: 'NextSong', registration: 1540000000000, sessionId: 1, song: null, status: 200,
    ts: 1541105830796, userAgent: 'Mozilla/5.0', userId: '1', ...o,
  };
}

/** An event line of exactly `bytes` UTF-8 bytes, padded in userAgent. */
function lineOfBytes(bytes: number, o: Record<string, unknown>): string {
  const bare = JSON.stringify(event({ ...o, userAgent: '' }));
  return JSON.stringify(event({ ...o, userAgent: 'P'.repeat(bytes - Buffer.byteLength(bare)) }));
}

export function writeHostileInput(root: string): { songs: string; logs: string } {
  const songs = join(root, 'song_data');
  const logs = join(root, 'log_data');
  const song = (o: Record<string, unknown>) => ({ num_songs: 1, artist_latitude: null, artist_longitude: null, artist_location: '', year: 2000, duration: 200, ...o });

  // --- songs
  putFile(songs, 'A/A/SOAAA.json', JSON.stringify(song({ song_id: 'SOAAA', title: 'Road', artist_id: 'AR/../x=1', artist_name: 'Slash / Equals', duration: 200.5 })));
  putFile(songs, 'A/B/SOAAA-dup.json', JSON.stringify(song({ song_id: 'SOAAA', title: 'Road (later copy)', artist_id: 'ARLATER', artist_name: 'Later', year: 1990 })));
  putFile(songs, 'A/C/nosongid.json', JSON.stringify(song({ title: 'No id', artist_id: 'ARX' })));
  putFile(songs, 'A/C/emptysongid.json', JSON.stringify(song({ song_id: '', title: 'Empty id', artist_id: 'ARX' })));
  putFile(songs, 'A/D/pretty.json', JSON.stringify(song({ song_id: 'SOPRETTY', title: 'Pretty', artist_id: 'AR100%', artist_name: 'Hundred %', year: '1999', duration: '245.5', artist_latitude: '51.5', artist_longitude: -0.12 }), null, 2));
  putFile(songs, 'B/A/unicode.json', JSON.stringify(song({ song_id: 'SOUNI', title: 'Für Elise — 日本', artist_id: 'ARÆ:日本', artist_name: 'Ærtist 日本', year: 0, duration: 180, unknown_field: true })));
  putFile(songs, 'B/A/numeric-id.json', JSON.stringify(song({ song_id: 12345, title: 'Numbered', artist_id: null, artist_name: 'Nobody', year: null })));
  putFile(songs, 'B/B/lines.jsonl', [
    JSON.stringify(song({ song_id: 'SOL1', title: 'Lines One', artist_id: 'AR..', artist_name: 'Dots', duration: 100 })),
    '',
    '   ',
    '{"song_id": "SOBROKEN", "title": ',
    '[1, 2, 3]',
    JSON.stringify(song({ song_id: 'SOL2', title: 'Match Me', artist_id: 'AR=', artist_name: 'Matcher', duration: 210 })),
    JSON.stringify(song({ song_id: 'SOL3', title: 'Match Me', artist_id: 'AR=', artist_name: 'Matcher', duration: 213 })),
    JSON.stringify(song({ song_id: 'SOL4', title: 'No Duration', artist_id: 'ARND', artist_name: 'Nodur', duration: null })),
  ].join('\r\n'));
  putFile(songs, 'B/C/empty.json', '');
  // Partition folder names at and past 255 bytes, and values a reader could take for null.
  putFile(songs, 'C/A/long-artists.jsonl', jl([
    song({ song_id: 'SOLONG1', title: 'Slashes At Limit', artist_id: LONG_ARTIST_IDS.slashesAtLimit, artist_name: 'Long One' }),
    song({ song_id: 'SOLONG2', title: 'Slashes Over', artist_id: LONG_ARTIST_IDS.slashesOver, artist_name: 'Long Two' }),
    song({ song_id: 'SOLONG3', title: 'CJK At Limit', artist_id: LONG_ARTIST_IDS.cjkAtLimit, artist_name: 'Long Three' }),
    song({ song_id: 'SOLONG4', title: 'CJK Over', artist_id: LONG_ARTIST_IDS.cjkOver, artist_name: 'Long Four' }),
    song({ song_id: 'SOLONG5', title: 'Emoji At Limit', artist_id: LONG_ARTIST_IDS.emojiAtLimit, artist_name: 'Long Five' }),
    song({ song_id: 'SOLONG6', title: 'Emoji Over', artist_id: LONG_ARTIST_IDS.emojiOver, artist_name: 'Long Six' }),
    song({ song_id: 'SOLONG7', title: 'Mixed At Limit', artist_id: LONG_ARTIST_IDS.mixedAtLimit, artist_name: 'Long Seven' }),
    ...NULL_LIKE_ARTIST_IDS.map((n, i) => song({ song_id: `SONULL${i}`, title: `Null-like ${i}`, artist_id: n.value, artist_name: `Nully ${i}` })),
    // Shares its folder, year=2000/artist_id=__HIVE_DEFAULT_PARTITION__, with the literal value above.
    song({ song_id: 'SONULLX', title: 'No Artist', artist_id: null, artist_name: 'Nobody Either' }),
  ]));
  putFile(songs, 'C/B/replaced.json', Buffer.concat([
    Buffer.from('{"song_id":"SOLONG8","title":"Replaced At Limit","artist_id":"'),
    Buffer.alloc(81, 0xff),
    Buffer.from('AB","artist_name":"Long Eight","year":2001,"duration":150}'),
  ]));
  // Numbers in string fields become their JavaScript text (shortest round trip), in a partition too.
  putFile(songs, 'C/C/numbers.json', '{"song_id":"SONUM","title":-0.0000001,"artist_id":1.50e1,"artist_name":"Fifteen","artist_location":1e21,"year":"2001","duration":100}');
  // A UTF-8 BOM is a character: JSON.parse refuses the line.
  putFile(songs, 'C/D/bom.json', '\ufeff' + JSON.stringify(song({ song_id: 'SOBOM', title: 'Byte Order', artist_id: 'ARBOM' })));
  putFile(songs, 'B/C/_SUCCESS', '');
  putFile(songs, 'B/C/.hidden.json', '{"song_id":"HIDDEN"}');

  // --- logs: year/month boundaries in UTC, a replayed file, every reject rule and coercion
  const boundary = jl([
    event({ ts: Date.UTC(2018, 11, 31, 23, 59, 59, 999), userId: '7', sessionId: 70, itemInSession: 1, song: 'Road', artist: 'Slash / Equals', length: 201.9, level: 'free' }),
    event({ ts: Date.UTC(2019, 0, 1, 0, 0, 0, 0), userId: '7', sessionId: 70, itemInSession: 2, song: 'Match Me', artist: 'Matcher', length: 211.2, level: 'paid' }),
    event({ ts: Date.UTC(2019, 0, 31, 23, 59, 59, 999), userId: 8, sessionId: '80', itemInSession: '3', song: 'Match Me', artist: 'Matcher', length: '212.9', firstName: 'Zoë', lastName: 'Ünal 😀' }),
    event({ ts: Date.UTC(2019, 1, 1), userId: '8', sessionId: 80, itemInSession: null, song: 'No Duration', artist: 'Nodur', length: 12 }),
    event({ ts: Date.UTC(2019, 1, 1), userId: '8', sessionId: 80, itemInSession: null, song: 'No Duration', artist: 'Nodur', length: 12, location: 'duplicate in the same file' }),
  ]);
  putFile(logs, '2018/12/2018-12-31-events.json', boundary);
  putFile(logs, '2018/12/replayed/2018-12-31-events.json', boundary);
  putFile(logs, '2018/11/rejects.json', [
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
  putFile(logs, '2018/11/bigfield.json', JSON.stringify(event({ userId: '9', ts: 1541200000000, userAgent: 'U'.repeat(1024 * 1024) })) + '\n' + JSON.stringify(event({ userId: '9', ts: 1541200000001, userAgent: 'x'.repeat(3 * 1024 * 1024) })));
  const gz = jl([
    event({ userId: '11', ts: Date.UTC(2018, 10, 15, 12), sessionId: 5, itemInSession: 0, song: 'Road', artist: 'Slash / Equals', length: 200 }),
    event({ userId: '11', ts: Date.UTC(2018, 10, 15, 13), sessionId: 5, itemInSession: 1, page: 'Upgrade', level: 'paid' }),
  ]);
  putFile(logs, '2018/11/compressed.json.gz', gzipSync(Buffer.from(gz)));
  const long = jl(Array.from({ length: 200 }, (_, i) => event({ userId: '12', ts: Date.UTC(2018, 10, 20) + i * 1000, sessionId: 6, itemInSession: i, song: `Song ${i}` })));
  const cut = gzipSync(Buffer.from(long));
  putFile(logs, '2018/11/truncated.json.gz', cut.subarray(0, Math.floor(cut.length * 0.6)));
  putFile(logs, '2018/11/not-gzip.json.gz', 'this is not gzip\n');
  // A bad CRC, a bad ISIZE: each object is one corrupt-gzip record, none of its lines is read (user 14
  // appears nowhere else), its raw text the decoded text. (A damaged header, and damage mid-stream,
  // are in run/corruptGzip.test.ts; three corrupt-gzip rejects here keep invalid-ts the top reason
  // that faults.test.ts expects.)
  const badCrc = Buffer.from(gzipSync(Buffer.from(jl([
    event({ userId: '14', ts: Date.UTC(2018, 10, 16, 8), sessionId: 9, itemInSession: 0 }),
    event({ userId: '14', ts: Date.UTC(2018, 10, 16, 9), sessionId: 9, itemInSession: 1 }),
  ]))));
  badCrc[badCrc.length - 8] ^= 0xff;
  putFile(logs, '2018/11/bad-crc.json.gz', badCrc);
  const badSize = Buffer.from(gzipSync(Buffer.from(jl([event({ userId: '14', ts: Date.UTC(2018, 10, 16, 10), sessionId: 9, itemInSession: 2 })]) + '\n')));
  badSize[badSize.length - 4] ^= 0x01;
  putFile(logs, '2018/11/bad-isize.json.gz', badSize);
  putFile(logs, '2018/11/empty.json.gz', '');
  putFile(logs, '2018/11/empty.json', '');
  // maxLineBytes counts the line without its terminator, `\r\n` included: the first line is exactly at
  // the limit (kept), the second one byte over (line-too-long).
  putFile(logs, '2018/11/at-limit.json', [0, 1].map((over) => lineOfBytes(HOSTILE_MAX_LINE_BYTES + over, { userId: '15', ts: Date.UTC(2018, 10, 17) + over, itemInSession: over }) + '\r\n').join(''));
  putFile(logs, '2018/11/crlf.json', jl([event({ userId: '13', ts: Date.UTC(2018, 10, 30, 23, 59), song: 'Road', artist: 'Slash / Equals', length: null })]).replace(/$/, '\r\n'));
  return { songs, logs };
}
