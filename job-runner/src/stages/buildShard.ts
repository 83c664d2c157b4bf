// The build shard executor: for each unit of its task, reads the staged segments, deduplicates,
// joins and derives, and writes the table's Parquet files under deterministic keys
// (`<table>/<partition>/part-<runId>-<first bucket>.parquet`); the receipt is written last.
//
//   songplays unit ── plays segments ──dedup──join(song lookup)──▶ songplays file + time file
//   users unit     ── users segments ──latest per user──────────▶ users file
//   songs unit     ── song lookup (broadcast) ──its partition───▶ songs file
//   artists unit   ── song lookup (broadcast) ──per artist_id───▶ artists file
import type { ColumnBatch } from '../columnar/batch.js';
import { columnOf } from '../columnar/batch.js';
import { writeReceipt } from '../run/documents.js';
import { tableFileKey } from '../run/partitionPath.js';
import { TABLES } from '../run/types.js';
import type { BuildReceipt, BuildTask, BuildUnit, OutputFile, PartitionValues, TableName } from '../run/types.js';
import { encodeTableFile } from './tableFile.js';
import { dedupPlays, songplaysBatch, timeBatch } from './playsBuild.js';
import { SongMatcher, winnersBy } from './songLookup.js';
import { PLAYS_SCHEMA, SONGS_SCHEMA, songPartition, USERS_SCHEMA } from './stagedData.js';
import { readStaged } from './stagedReader.js';
import { artistsBatch, songsBatch, usersBatch } from './tableBatches.js';
import { throwIfAborted, type ShardContext } from './shardContext.js';

/** Small files (songs partitions) are written this many at a time: S3 latency, not CPU, bounds them (s3rver: 134 PUT/s at 8, 221 at 16). */
const CONCURRENT_PUTS = 16;

/** The broadcast song lookup, loaded once per shard and only when a unit needs it. */
interface SongsLoaded {
  songs: ColumnBatch;
  winners: Int32Array;
  matcher: SongMatcher;
  /** Winner rows per song partition key. */
  byPartition: Map<string, number[]>;
}

export async function runBuildShard(ctx: ShardContext, task: BuildTask): Promise<BuildReceipt> {
  const started = (ctx.now ?? Date.now)();
  const { out, spec } = ctx;
  const runId = spec.runId;
  const files: OutputFile[] = [];
  const partitions = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<TableName, number>;
  let bytesRead = 0;
  let rows = 0;
  const progress = () => ctx.onProgress?.({ bytes: bytesRead, rows });
  const onBytes = (n: number) => {
    bytesRead += n;
    progress();
  };

  let songs: SongsLoaded | null = null;
  const loadSongs = async (): Promise<SongsLoaded> => {
    if (songs) return songs;
    const batch = await readStaged(out, task.songSegments ?? [], SONGS_SCHEMA, onBytes);
    const winners = winnersBy(batch, 'song_id', false);
    const byPartition = new Map<string, number[]>();
    const year = columnOf(batch, 'year');
    const artist = columnOf(batch, 'artist_id');
    if (year.kind !== 'i32' || artist.kind !== 'str') throw new Error('staged songs have unexpected column kinds');
    for (const r of winners) {
      const y = year.valid === null || year.valid[r] !== 0 ? year.data[r]! : null;
      const a = artist.valid === null || artist.valid[r] !== 0 ? artist.dict[artist.codes[r]!]! : null;
      const key = partitionId(songPartition(y, a));
      const list = byPartition.get(key);
      if (list) list.push(r);
      else byPartition.set(key, [r]);
    }
    songs = { songs: batch, winners, matcher: new SongMatcher(batch, winners), byPartition };
    return songs;
  };

  const write = async (table: TableName, partition: PartitionValues, fileId: number, batch: ColumnBatch): Promise<void> => {
    if (batch.length === 0) return;
    const key = tableFileKey(table, partition, runId, fileId);
    const bytes = await encodeTableFile(table, batch);
    await out.put(key, bytes, { contentType: 'application/vnd.apache.parquet' });
    files.push({ table, key, partition, rows: batch.length, bytes: bytes.byteLength });
    rows += batch.length;
    progress();
  };

  const counts = (unit: BuildUnit) => unit.piece === undefined || unit.piece.index === 0;

  const runUnit = async (unit: BuildUnit): Promise<void> => {
    throwIfAborted(ctx.signal);
    const fileId = unit.buckets[0] ?? 0;
    switch (unit.table) {
      case 'songplays': {
        const plays = await readStaged(out, unit.segments ?? [], PLAYS_SCHEMA, onBytes);
        const lookup = task.songSegments ? await loadSongs() : null;
        const { rows: kept, idWords } = dedupPlays(plays);
        const { batch } = songplaysBatch(plays, kept, idWords, lookup?.matcher ?? null);
        await write('songplays', unit.partition, fileId, batch);
        await write('time', unit.partition, fileId, timeBatch(plays, kept));
        if (counts(unit)) {
          partitions.songplays++;
          partitions.time++;
        }
        return;
      }
      case 'users': {
        const users = await readStaged(out, unit.segments ?? [], USERS_SCHEMA, onBytes);
        await write('users', unit.partition, fileId, usersBatch(users));
        if (counts(unit)) partitions.users++;
        return;
      }
      case 'songs': {
        const lookup = await loadSongs();
        const members = lookup.byPartition.get(partitionId(unit.partition)) ?? [];
        await write('songs', unit.partition, 0, songsBatch(lookup.songs, Int32Array.from(members)));
        partitions.songs++;
        return;
      }
      case 'artists': {
        const lookup = await loadSongs();
        await write('artists', {}, 0, artistsBatch(lookup.songs, winnersBy(lookup.songs, 'artist_id', true)));
        partitions.artists++;
        return;
      }
      default:
        throw new Error(`build unit of table ${unit.table} cannot be built directly (time rows come with songplays)`);
    }
  };

  // Big units one at a time (memory holds one unit); tiny songs units a few at a time (latency).
  const songUnits = task.units.filter((u) => u.table === 'songs');
  for (const unit of task.units) if (unit.table !== 'songs') await runUnit(unit);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENT_PUTS, songUnits.length) }, async () => {
      while (next < songUnits.length) await runUnit(songUnits[next++]!);
    }),
  );
  throwIfAborted(ctx.signal);

  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const receipt: BuildReceipt = {
    runId,
    stage: 'build',
    index: task.index,
    files,
    partitions,
    seconds: ((ctx.now ?? Date.now)() - started) / 1000,
  };
  await writeReceipt(out, receipt);
  return receipt;
}

function partitionId(p: PartitionValues): string {
  return JSON.stringify([p.year ?? '', p.artist_id ?? '']);
}

