// The broadcast song lookup of a build shard: every staged song record of the run, deduplicated the
// same way in every shard (smallest (source ordinal, offset) wins per song_id), plus the artists and
// the join index of docs/schema-on-read.md:
//   candidates: title == song and artist_name == artist (exact), and |duration − length| ≤ 2 when both
//   are known; best: smallest known distance (unknown after every known), then smallest song_id.
import type { ColumnBatch } from '../columnar/batch.js';
import { columnOf } from '../columnar/batch.js';
import { compareCodePoints } from '../columnar/dictionary.js';
import { firstOfGroups, groupStarts, sortIndices } from '../columnar/sort.js';

/** Winner rows of `batch` per non-null `key` column value, ordered by that key (code point order). */
export function winnersBy(batch: ColumnBatch, key: string, skipEmpty: boolean): Int32Array {
  const col = columnOf(batch, key);
  if (col.kind !== 'str') throw new Error(`winnersBy: ${key} is not a string column`);
  const keep: number[] = [];
  for (let r = 0; r < batch.length; r++) {
    if (col.valid !== null && col.valid[r] === 0) continue;
    if (skipEmpty && col.dict[col.codes[r]!] === '') continue;
    keep.push(r);
  }
  const order = sortIndices(batch, [{ column: key }, { column: 'src' }, { column: 'offset' }], Int32Array.from(keep));
  return firstOfGroups(order, groupStarts(batch, order, [key]));
}

export interface Candidate {
  row: number;
  songId: string;
  duration: number;
}

export class SongMatcher {
  /** title → artist_name → candidates sorted by song_id. */
  private readonly index = new Map<string, Map<string, Candidate[]>>();

  constructor(
    readonly songs: ColumnBatch,
    winners: Int32Array,
  ) {
    const songId = str(songs, 'song_id');
    const title = str(songs, 'title');
    const artist = str(songs, 'artist_name');
    const duration = columnOf(songs, 'duration');
    if (duration.kind !== 'f64') throw new Error('songs.duration is not f64');
    for (let k = 0; k < winners.length; k++) {
      const r = winners[k]!;
      if (!present(title.valid, r) || !present(artist.valid, r)) continue;
      const t = title.dict[title.codes[r]!]!;
      const a = artist.dict[artist.codes[r]!]!;
      let byArtist = this.index.get(t);
      if (!byArtist) this.index.set(t, (byArtist = new Map()));
      let list = byArtist.get(a);
      if (!list) byArtist.set(a, (list = []));
      list.push({ row: r, songId: songId.dict[songId.codes[r]!]!, duration: present(duration.valid, r) ? duration.data[r]! : NaN });
    }
    for (const byArtist of this.index.values()) for (const list of byArtist.values()) list.sort((x, y) => compareCodePoints(x.songId, y.songId));
  }

  /** artist_name → candidates for a song title, or null when no song has that title. */
  artistsOf(song: string): ReadonlyMap<string, readonly Candidate[]> | null {
    return this.index.get(song) ?? null;
  }

  /** The best candidate's row in `songs`, or -1. `length` NaN means unknown. */
  static best(cands: readonly Candidate[], length: number): number {
    let bestRow = -1;
    let bestDistance = Infinity; // Infinity = unknown distance; a known one always beats it
    let haveKnown = false;
    for (const c of cands) {
      const known = !Number.isNaN(c.duration) && !Number.isNaN(length);
      const d = known ? Math.abs(c.duration - length) : Infinity;
      if (known && d > 2) continue;
      // Candidates are in song_id order, so the first one at a given distance keeps its place.
      if (bestRow === -1 || (known && (!haveKnown || d < bestDistance))) {
        bestRow = c.row;
        bestDistance = d;
        haveKnown = haveKnown || known;
      }
    }
    return bestRow;
  }
}

function present(valid: Uint8Array | null, r: number): boolean {
  return valid === null || valid[r] !== 0;
}

function str(batch: ColumnBatch, name: string) {
  const c = columnOf(batch, name);
  if (c.kind !== 'str') throw new Error(`songs.${name} is not a string column`);
  return c;
}
