// What a scan shard keeps between parsing and its staged object, with memory bounded by the run's
// `memory.stagingBytes`: pending plays grouped by (month, ts bucket) and pending songs are spilled
// as segments when their estimated size reaches the budget; users are reduced to the latest event
// per user as they stream by (one small entry per distinct user) and staged at the end by bucket.
// Spill points depend on row counts only, never on timing, so re-running a shard gives the same bytes.
import type { Column, ColumnBatch } from '../columnar/batch.js';
import { columnOf } from '../columnar/batch.js';
import { BatchBuilder } from '../columnar/builder.js';
import { concatBatches } from '../columnar/concat.js';
import { selectColumns, takeRows } from '../columnar/take.js';
import type { PartitionValues } from '../run/types.js';
import { bucketOf, PLAYS_SCHEMA, playsPartition, SONGS_SCHEMA, songPartition, USERS_SCHEMA } from './stagedData.js';
import type { StagedWriter } from './stagedWriter.js';
import { MonthOfTs, monthCodeParts } from './utcCalendar.js';

/** Rough in-memory bytes of one staged row beyond its strings (typed arrays + validity). */
const ROW_BYTES = 96;
const PLAYS_COLUMNS = PLAYS_SCHEMA.map((c) => c.name);
const SONGS_COLUMNS = SONGS_SCHEMA.map((c) => c.name);

type Str = Extract<Column, { kind: 'str' }>;

function strColumn(batch: ColumnBatch, name: string): Str {
  const c = columnOf(batch, name);
  if (c.kind !== 'str') throw new Error(`event batch column ${name} is not a string column`);
  return c;
}

function floatColumn(batch: ColumnBatch, name: string): { data: Float64Array; valid: Uint8Array | null } {
  const c = columnOf(batch, name);
  if (c.kind === 'str' || c.kind === 'i32' || c.data instanceof BigInt64Array) throw new Error(`event batch column ${name} is not a float-backed number column`);
  return { data: c.data, valid: c.valid };
}

function dictBytes(batch: ColumnBatch): number {
  let n = 0;
  for (const { column } of batch.columns) if (column.kind === 'str') for (const s of column.dict) n += 2 * s.length + 16;
  return n;
}

export class ScanStaging {
  /** Pending plays: projected slices of parser batches (sharing their dictionaries) and each row's group. */
  private plays: { batch: ColumnBatch; groups: Int32Array }[] = [];
  private songs: ColumnBatch[] = [];
  private pendingBytes = 0;
  private readonly users = new Map<number, UserEntry>();
  private readonly month = new MonthOfTs();
  private readonly monthCodes: number[] = [];
  private readonly monthIndexes = new Map<number, number>();
  private readonly songPartitionRows = new Map<string, { partition: PartitionValues; rows: number }>();
  playsRows = 0;

  constructor(
    private readonly writer: StagedWriter,
    private readonly buckets: number,
    private readonly budgetBytes: number,
  ) {}

  /** One parsed batch of accepted events. */
  async addEvents(batch: ColumnBatch): Promise<void> {
    if (batch.length === 0) return;
    const ts = floatColumn(batch, 'ts');
    const user = floatColumn(batch, 'user_id');
    const page = strColumn(batch, 'page');
    this.updateUsers(batch, ts.data, user);
    const nextSong = page.dict.indexOf('NextSong');
    if (nextSong < 0) return;
    const rows = new Int32Array(batch.length);
    const groups = new Int32Array(batch.length);
    let n = 0;
    let lastCode = -1;
    let lastMonth = -1;
    for (let r = 0; r < batch.length; r++) {
      if (page.codes[r] !== nextSong || (page.valid !== null && page.valid[r] === 0)) continue;
      if (user.valid !== null && user.valid[r] === 0) continue; // the parser rejects these; never staged
      const t = ts.data[r]!;
      const code = this.month.code(t);
      if (code !== lastCode) {
        lastCode = code;
        lastMonth = this.monthIndex(code);
      }
      rows[n] = r;
      groups[n++] = lastMonth * this.buckets + bucketOf(t, this.buckets);
    }
    if (n === 0) return;
    // A gather over the parser batch: dictionaries are shared, not copied or re-interned.
    this.plays.push({ batch: takeRows(selectColumns(batch, PLAYS_COLUMNS), rows.subarray(0, n)), groups: groups.slice(0, n) });
    this.playsRows += n;
    this.pendingBytes += n * ROW_BYTES + dictBytes(batch);
    if (this.pendingBytes >= this.budgetBytes) await this.spill();
  }

  /** Dense index of a (year, month) code, so groups count in a typed array, not a Map. */
  private monthIndex(code: number): number {
    let index = this.monthIndexes.get(code);
    if (index === undefined) {
      index = this.monthCodes.length;
      this.monthCodes.push(code);
      this.monthIndexes.set(code, index);
    }
    return index;
  }

  /** One parsed batch of accepted songs. */
  async addSongs(batch: ColumnBatch): Promise<void> {
    if (batch.length === 0) return;
    const projected = selectColumns(batch, SONGS_COLUMNS);
    this.songs.push(projected);
    const year = columnOf(batch, 'year');
    const artist = strColumn(batch, 'artist_id');
    for (let r = 0; r < batch.length; r++) {
      const y = year.kind === 'i32' && (year.valid === null || year.valid[r] !== 0) ? year.data[r]! : null;
      const a = artist.valid === null || artist.valid[r] !== 0 ? artist.dict[artist.codes[r]!]! : null;
      const partition = songPartition(y, a);
      const key = JSON.stringify([partition.year, partition.artist_id]);
      const entry = this.songPartitionRows.get(key);
      if (entry) entry.rows++;
      else this.songPartitionRows.set(key, { partition, rows: 1 });
    }
    this.pendingBytes += batch.length * ROW_BYTES + dictBytes(projected);
    if (this.pendingBytes >= this.budgetBytes) await this.spill();
  }

  /**
   * Writes every pending group as one segment, in (month, bucket) order, then the songs. Pending
   * slices are concatenated once (one dictionary merge per column for the whole spill), then rows
   * are counting-sorted by group and each group gathered into its segment (encodeSegment keeps only
   * the dictionary entries the segment uses).
   */
  async spill(): Promise<void> {
    if (this.plays.length > 0) {
      const all = concatBatches(this.plays.map((p) => p.batch));
      const groupCount = this.monthCodes.length * this.buckets;
      const counts = new Int32Array(groupCount + 1);
      for (const p of this.plays) for (let i = 0; i < p.groups.length; i++) counts[p.groups[i]! + 1]!++;
      for (let g = 0; g < groupCount; g++) counts[g + 1]! += counts[g]!; // counts[g] = start of group g
      const start = counts.slice();
      const order = new Int32Array(all.length);
      let row = 0;
      for (const p of this.plays) for (let i = 0; i < p.groups.length; i++) order[counts[p.groups[i]!]!++] = row++;
      this.plays = [];
      // Months in calendar order (dense month indexes are in first-seen order), buckets ascending.
      const months = this.monthCodes.map((code, index) => ({ code, index })).sort((a, b) => a.code - b.code);
      for (const { code, index } of months) {
        const { year, month } = monthCodeParts(code);
        for (let b = 0; b < this.buckets; b++) {
          const g = index * this.buckets + b;
          if (start[g + 1]! > start[g]!) await this.writer.append('plays', playsPartition(year, month), b, takeRows(all, order.subarray(start[g]!, start[g + 1]!)));
        }
      }
    }
    if (this.songs.length > 0) await this.writer.append('songs', {}, 0, concatBatches(this.songs));
    this.songs = [];
    this.pendingBytes = 0;
  }

  /** Final spill plus the users, one segment per bucket in user_id order. */
  async finish(): Promise<void> {
    await this.spill();
    const byBucket = new Map<number, number[]>();
    for (const id of this.users.keys()) {
      const b = bucketOf(id, this.buckets);
      let ids = byBucket.get(b);
      if (!ids) byBucket.set(b, (ids = []));
      ids.push(id);
    }
    for (const b of [...byBucket.keys()].sort((x, y) => x - y)) {
      const ids = byBucket.get(b)!.sort((x, y) => x - y);
      const builder = new BatchBuilder(USERS_SCHEMA, ids.length);
      const cols = {
        user_id: builder.i64('user_id'),
        first_name: builder.str('first_name'),
        last_name: builder.str('last_name'),
        gender: builder.str('gender'),
        level: builder.str('level'),
        ts: builder.tsMs('ts'),
        src: builder.i32('src'),
        offset: builder.i64('offset'),
      };
      for (const id of ids) {
        const u = this.users.get(id)!;
        cols.user_id.push(id);
        cols.first_name.push(u.firstName);
        cols.last_name.push(u.lastName);
        cols.gender.push(u.gender);
        cols.level.push(u.level);
        cols.ts.push(u.ts);
        cols.src.push(u.src);
        cols.offset.push(u.offset);
      }
      await this.writer.append('users', {}, b, builder.finish());
    }
  }

  /** Song partitions seen, with staged bytes estimated in proportion to their rows. */
  songPartitions(): { partition: PartitionValues; rows: number; bytes: number }[] {
    const { bytes, rows } = this.writer.bytesOf('songs');
    const perRow = rows === 0 ? 0 : bytes / rows;
    return [...this.songPartitionRows.values()].map((e) => ({ partition: e.partition, rows: e.rows, bytes: Math.ceil(e.rows * perRow) }));
  }

  get distinctUsers(): number {
    return this.users.size;
  }

  /** Keeps, per user, the event with the greatest (ts, src, offset). */
  private updateUsers(batch: ColumnBatch, ts: Float64Array, user: { data: Float64Array; valid: Uint8Array | null }): void {
    const src = columnOf(batch, 'src');
    const offset = floatColumn(batch, 'offset');
    if (src.kind !== 'i32') throw new Error('event batch column src is not i32');
    const first = strColumn(batch, 'first_name');
    const last = strColumn(batch, 'last_name');
    const gender = strColumn(batch, 'gender');
    const level = strColumn(batch, 'level');
    const text = (c: Str, r: number) => (c.valid !== null && c.valid[r] === 0 ? null : c.dict[c.codes[r]!]!);
    for (let r = 0; r < batch.length; r++) {
      if (user.valid !== null && user.valid[r] === 0) continue;
      const id = user.data[r]!;
      const t = ts[r]!;
      const s = src.data[r]!;
      const o = offset.data[r]!;
      const cur = this.users.get(id);
      if (cur && (cur.ts > t || (cur.ts === t && (cur.src > s || (cur.src === s && cur.offset > o))))) continue;
      this.users.set(id, { ts: t, src: s, offset: o, firstName: text(first, r), lastName: text(last, r), gender: text(gender, r), level: text(level, r) });
    }
  }
}

interface UserEntry {
  ts: number;
  src: number;
  offset: number;
  firstName: string | null;
  lastName: string | null;
  gender: string | null;
  level: string | null;
}
