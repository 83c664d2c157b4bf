// The users, songs and artists output batches (table column order, see parquet/tables.ts), from
// staged rows. Winners: users take the event with the greatest (ts, src, offset); songs and artists
// the record with the smallest (src, offset) per id (songLookup.ts).
import type { ColumnBatch } from '../columnar/batch.js';
import { columnOf } from '../columnar/batch.js';
import { firstOfGroups, groupStarts, sortIndices } from '../columnar/sort.js';
import { takeColumn } from '../columnar/take.js';

/** One row per user_id from the staged per-shard latest events. */
export function usersBatch(users: ColumnBatch): ColumnBatch {
  const order = sortIndices(users, [
    { column: 'user_id' },
    { column: 'ts', descending: true },
    { column: 'src', descending: true },
    { column: 'offset', descending: true },
  ]);
  const rows = firstOfGroups(order, groupStarts(users, order, ['user_id']));
  return project(users, rows, [
    ['user_id', 'user_id'],
    ['first_name', 'first_name'],
    ['last_name', 'last_name'],
    ['gender', 'gender'],
    ['level', 'level'],
  ]);
}

/** songs rows (song_id, title, duration) of the given winner rows, in song_id order. */
export function songsBatch(songs: ColumnBatch, rows: Int32Array): ColumnBatch {
  return project(songs, rows, [
    ['song_id', 'song_id'],
    ['title', 'title'],
    ['duration', 'duration'],
  ]);
}

export function artistsBatch(songs: ColumnBatch, rows: Int32Array): ColumnBatch {
  return project(songs, rows, [
    ['artist_id', 'artist_id'],
    ['name', 'artist_name'],
    ['location', 'artist_location'],
    ['latitude', 'artist_latitude'],
    ['longitude', 'artist_longitude'],
  ]);
}

function project(batch: ColumnBatch, rows: Int32Array, columns: readonly [string, string][]): ColumnBatch {
  return { length: rows.length, columns: columns.map(([name, from]) => ({ name, column: takeColumn(columnOf(batch, from), rows) })) };
}
