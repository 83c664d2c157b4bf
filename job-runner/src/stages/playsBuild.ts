// One songplays unit: the staged plays of a (year, month) partition and a group of ts buckets →
// deduplicated, joined songplays rows and the time rows of their distinct start times.
//
// Dedup key (user_id, session_id, item_in_session, ts), nulls equal nulls, smallest (src, offset)
// wins. The key's FNV-1a hash is the songplay_id anyway, so rows are deduplicated through an
// open-addressing table on that 64-bit hash, with a field-by-field check on hash equality (a real
// collision keeps both rows, as it must). Every duplicate shares the ts, hence the bucket and the unit.
import type { Column, ColumnBatch } from '../columnar/batch.js';
import { columnOf } from '../columnar/batch.js';
import { sortIndices } from '../columnar/sort.js';
import { takeColumn } from '../columnar/take.js';
import { songplayIds } from './songplayId.js';
import { SongMatcher, type Candidate } from './songLookup.js';
import { dayOf, hourOf, timeFields, type TimeFields } from './utcCalendar.js';

type NumCol = { data: Float64Array; valid: Uint8Array | null };

function num(batch: ColumnBatch, name: string): NumCol {
  const c = columnOf(batch, name);
  if (c.kind === 'str' || c.kind === 'i32' || c.data instanceof BigInt64Array) throw new Error(`plays.${name} is not a float-backed number column`);
  return { data: c.data, valid: c.valid };
}

function str(batch: ColumnBatch, name: string): Extract<Column, { kind: 'str' }> {
  const c = columnOf(batch, name);
  if (c.kind !== 'str') throw new Error(`plays.${name} is not a string column`);
  return c;
}

/** Rows of `plays` that survive dedup, ordered by (ts, src, offset); with their songplay ids. */
export function dedupPlays(plays: ColumnBatch): { rows: Int32Array; idWords: Int32Array } {
  const n = plays.length;
  const user = num(plays, 'user_id');
  const session = num(plays, 'session_id');
  const item = num(plays, 'item_in_session');
  const ts = num(plays, 'ts');
  const src = columnOf(plays, 'src').kind === 'i32' ? (columnOf(plays, 'src') as { data: Int32Array }).data : null;
  const offset = num(plays, 'offset');
  if (!src) throw new Error('plays.src is not i32');

  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const words = new Int32Array(2 * n);
  songplayIds(all, user.data, user.valid, session.data, session.valid, item.data, item.valid, ts.data, ts.valid, words);

  let cap = 16;
  while (cap < n * 2) cap *= 2;
  const mask = cap - 1;
  const slots = new Int32Array(cap).fill(-1);
  const same = (a: number, b: number) =>
    sameNum(user, a, b) && sameNum(session, a, b) && sameNum(item, a, b) && sameNum(ts, a, b);
  const before = (a: number, b: number) => src[a]! < src[b]! || (src[a] === src[b] && offset.data[a]! < offset.data[b]!);
  let kept = 0;
  for (let r = 0; r < n; r++) {
    const lo = words[2 * r]!;
    const hi = words[2 * r + 1]!;
    let s = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const o = slots[s]!;
      if (o === -1) {
        slots[s] = r;
        kept++;
        break;
      }
      if (words[2 * o] === lo && words[2 * o + 1] === hi && same(o, r)) {
        if (before(r, o)) slots[s] = r;
        break;
      }
      s = (s + 1) & mask;
    }
  }
  const winners = new Int32Array(kept);
  let k = 0;
  for (let s = 0; s < cap; s++) if (slots[s]! !== -1) winners[k++] = slots[s]!;
  const rows = sortIndices(plays, [{ column: 'ts' }, { column: 'src' }, { column: 'offset' }], winners);
  const idWords = new Int32Array(2 * rows.length);
  for (let i = 0; i < rows.length; i++) {
    idWords[2 * i] = words[2 * rows[i]!]!;
    idWords[2 * i + 1] = words[2 * rows[i]! + 1]!;
  }
  return { rows, idWords };
}

function sameNum(c: NumCol, a: number, b: number): boolean {
  const va = c.valid === null || c.valid[a] !== 0;
  const vb = c.valid === null || c.valid[b] !== 0;
  return va === vb && (!va || c.data[a] === c.data[b]);
}

/** The songplays batch (table column order) of deduplicated plays joined to the song lookup. */
export function songplaysBatch(plays: ColumnBatch, rows: Int32Array, idWords: Int32Array, matcher: SongMatcher | null): { batch: ColumnBatch; matched: number } {
  const n = rows.length;
  const song = str(plays, 'song');
  const artist = str(plays, 'artist');
  const length = num(plays, 'length');
  const songId = matcher ? str(matcher.songs, 'song_id') : null;
  const artistId = matcher ? str(matcher.songs, 'artist_id') : null;

  // song_id / artist_id columns reuse the lookup's dictionaries: codes point into them.
  const songCodes = new Int32Array(n);
  const artistCodes = new Int32Array(n);
  const songValid = new Uint8Array(n);
  const artistValid = new Uint8Array(n);
  let matched = 0;
  if (matcher && songId && artistId) {
    // Per song title (dictionary code) its artists' candidates, looked up once: most plays' titles
    // match nothing (a null here), and for the rest the artist lookup is a Map get on a dictionary
    // string whose hash V8 has cached. (A cache keyed by song code × artist code was the top of the
    // build profile: the products outgrow small integers and every lookup hashed a heap number.)
    const byTitle: (ReadonlyMap<string, readonly Candidate[]> | null | undefined)[] = new Array(song.dict.length);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      if ((song.valid !== null && song.valid[r] === 0) || (artist.valid !== null && artist.valid[r] === 0)) continue;
      const title = song.codes[r]!;
      let artists = byTitle[title];
      if (artists === undefined) byTitle[title] = artists = matcher.artistsOf(song.dict[title]!);
      if (artists === null) continue;
      const cands = artists.get(artist.dict[artist.codes[r]!]!);
      if (cands === undefined) continue;
      const len = length.valid === null || length.valid[r] !== 0 ? length.data[r]! : NaN;
      const best = SongMatcher.best(cands, len);
      if (best < 0) continue;
      matched++;
      songCodes[i] = songId.codes[best]!;
      songValid[i] = 1;
      if (artistId.valid === null || artistId.valid[best] !== 0) {
        artistCodes[i] = artistId.codes[best]!;
        artistValid[i] = 1;
      }
    }
  }
  const take = (name: string) => takeColumn(columnOf(plays, name), rows);
  const batch: ColumnBatch = {
    length: n,
    columns: [
      { name: 'songplay_id', column: { kind: 'i64', data: new BigInt64Array(idWords.buffer, idWords.byteOffset, n), valid: null } },
      { name: 'start_time', column: take('ts') },
      { name: 'user_id', column: take('user_id') },
      { name: 'level', column: take('level') },
      { name: 'song_id', column: { kind: 'str', codes: songCodes, dict: songId?.dict ?? [], valid: songValid } },
      { name: 'artist_id', column: { kind: 'str', codes: artistCodes, dict: artistId?.dict ?? [], valid: artistValid } },
      { name: 'session_id', column: take('session_id') },
      { name: 'location', column: take('location') },
      { name: 'user_agent', column: take('user_agent') },
    ],
  };
  return { batch, matched };
}

/** Time rows of the distinct start times of `rows` (which are ordered by ts). */
export function timeBatch(plays: ColumnBatch, rows: Int32Array): ColumnBatch {
  const ts = num(plays, 'ts');
  const distinct: number[] = [];
  let last = NaN;
  for (let i = 0; i < rows.length; i++) {
    const t = ts.data[rows[i]!]!;
    if (t !== last) distinct.push(t);
    last = t;
  }
  const m = distinct.length;
  const start = new Float64Array(m);
  const hour = new Int32Array(m);
  const day = new Int32Array(m);
  const week = new Int32Array(m);
  const weekday = new Int32Array(m);
  // Rows are in ts order, so the calendar fields of a day are computed once for all its rows.
  let lastDay = NaN;
  let f: TimeFields | null = null;
  for (let i = 0; i < m; i++) {
    const t = distinct[i]!;
    const days = dayOf(t);
    if (days !== lastDay || f === null) {
      f = timeFields(t);
      lastDay = days;
    }
    start[i] = t;
    hour[i] = hourOf(t);
    day[i] = f.day;
    week[i] = f.week;
    weekday[i] = f.weekday;
  }
  return {
    length: m,
    columns: [
      { name: 'start_time', column: { kind: 'ts-ms', data: start, valid: null } },
      { name: 'hour', column: { kind: 'i32', data: hour, valid: null } },
      { name: 'day', column: { kind: 'i32', data: day, valid: null } },
      { name: 'week', column: { kind: 'i32', data: week, valid: null } },
      { name: 'weekday', column: { kind: 'i32', data: weekday, valid: null } },
    ],
  };
}
