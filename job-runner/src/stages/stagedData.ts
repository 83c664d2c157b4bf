// The staged datasets: what a scan shard writes and a build shard reads back. Their schemas, the
// bucket hash and the partition values are defined once here, so both stages agree by construction.
import type { BatchSchema } from '../columnar/batch.js';
import { canonicalPartitionValue } from '../run/partitionPath.js';
import type { PartitionValues } from '../run/types.js';

/** Accepted NextSong events: the rows of songplays (and, through their ts, of time). */
export const PLAYS_SCHEMA: BatchSchema = [
  { name: 'ts', kind: 'ts-ms' },
  { name: 'user_id', kind: 'i64' },
  { name: 'session_id', kind: 'i64' },
  { name: 'item_in_session', kind: 'i64' },
  { name: 'level', kind: 'str' },
  { name: 'song', kind: 'str' },
  { name: 'artist', kind: 'str' },
  { name: 'length', kind: 'f64' },
  { name: 'location', kind: 'str' },
  { name: 'user_agent', kind: 'str' },
  { name: 'src', kind: 'i32' },
  { name: 'offset', kind: 'i64' },
];

/** The latest event per user within one scan shard (the build shard takes the latest over shards). */
export const USERS_SCHEMA: BatchSchema = [
  { name: 'user_id', kind: 'i64' },
  { name: 'first_name', kind: 'str' },
  { name: 'last_name', kind: 'str' },
  { name: 'gender', kind: 'str' },
  { name: 'level', kind: 'str' },
  { name: 'ts', kind: 'ts-ms' },
  { name: 'src', kind: 'i32' },
  { name: 'offset', kind: 'i64' },
];

/** Every accepted song record: the broadcast lookup for the join, and the songs and artists tables. */
export const SONGS_SCHEMA: BatchSchema = [
  { name: 'song_id', kind: 'str' },
  { name: 'title', kind: 'str' },
  { name: 'artist_id', kind: 'str' },
  { name: 'artist_name', kind: 'str' },
  { name: 'artist_location', kind: 'str' },
  { name: 'artist_latitude', kind: 'f64' },
  { name: 'artist_longitude', kind: 'f64' },
  { name: 'duration', kind: 'f64' },
  { name: 'year', kind: 'i32' },
  { name: 'src', kind: 'i32' },
  { name: 'offset', kind: 'i64' },
];

/**
 * A 32-bit mix of an exact integer (|x| < 2^53): ts values and user ids are not uniform in their low
 * bits (ms timestamps of a day cluster, user ids are small), so bucket on a murmur-style finaliser.
 */
export function hashInteger(x: number): number {
  const hi = Math.floor(x / 4294967296) | 0;
  const lo = x | 0; // ToInt32 takes x mod 2^32, also for negatives
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function bucketOf(x: number, buckets: number): number {
  return hashInteger(x) & (buckets - 1);
}

/**
 * Partition values of songs: null year or artist_id become '' (written as __HIVE_DEFAULT_PARTITION__);
 * artist_id in its canonical form (one value per folder: lone surrogates as staged data holds them,
 * the literal __HIVE_DEFAULT_PARTITION__ as ''), so the scan's counts and the build's rows agree.
 */
export function songPartition(year: number | null, artistId: string | null): PartitionValues {
  return { year: year === null ? '' : String(year), artist_id: canonicalPartitionValue(artistId) };
}

export function playsPartition(year: number, month: number): PartitionValues {
  return { year: String(year), month: String(month) };
}
