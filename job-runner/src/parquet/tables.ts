// The five tables of the lake, exactly as written to Parquet (DESIGN.md "Tables", docs/schema-on-read.md).
// One place for column names, order, types and nullability, and for each table's partition columns,
// which live in the Hive path (run/partitionPath.ts) and never in the files.
//
//   batch kind  Parquet physical / logical type               DuckDB reads it as
//   str         BYTE_ARRAY / STRING (UTF-8)                   VARCHAR
//   f64         DOUBLE                                        DOUBLE
//   i32         INT32                                         INTEGER
//   i64         INT64                                         BIGINT
//   ts-ms       INT64 / TIMESTAMP(MILLIS, isAdjustedToUTC)    TIMESTAMP WITH TIME ZONE
//
// Non-nullable columns are written REQUIRED: they are keys or values derived from a key, and a null
// there means a bug upstream, which the writer reports instead of writing.
import type { ColumnKind } from '../columnar/batch.js';
import type { TableName } from '../run/types.js';

export interface TableColumn {
  name: string;
  kind: ColumnKind;
  nullable: boolean;
  /**
   * Parquet dictionary encoding. Off for columns unique (or nearly) per row: the writer would fill a
   * 1 MiB dictionary page, give up and fall back to plain, which measured 30% more CPU and a 20%
   * bigger songplays file than writing plain from the start (docs/parquet-writer.md).
   */
  dictionary: boolean;
}

export interface PartitionColumn {
  name: string;
  /** How readers should type the path value (DuckDB infers it; Spark too). */
  type: 'int' | 'string';
}

export interface TableSchema {
  table: TableName;
  /** File columns, in file order. */
  columns: readonly TableColumn[];
  /** Hive partition columns, in path order. */
  partitionBy: readonly PartitionColumn[];
}

const col = (name: string, kind: ColumnKind, nullable = true): TableColumn => ({ name, kind, nullable, dictionary: true });
/** A non-null column unique (or nearly) per row: no dictionary. */
const key = (name: string, kind: ColumnKind): TableColumn => ({ name, kind, nullable: false, dictionary: false });

export const TABLE_SCHEMAS: Readonly<Record<TableName, TableSchema>> = {
  songs: {
    table: 'songs',
    columns: [key('song_id', 'str'), col('title', 'str'), col('duration', 'f64')],
    partitionBy: [
      { name: 'year', type: 'int' },
      { name: 'artist_id', type: 'string' },
    ],
  },
  artists: {
    table: 'artists',
    columns: [key('artist_id', 'str'), col('name', 'str'), col('location', 'str'), col('latitude', 'f64'), col('longitude', 'f64')],
    partitionBy: [],
  },
  users: {
    table: 'users',
    columns: [key('user_id', 'i64'), col('first_name', 'str'), col('last_name', 'str'), col('gender', 'str'), col('level', 'str')],
    partitionBy: [],
  },
  time: {
    table: 'time',
    columns: [key('start_time', 'ts-ms'), col('hour', 'i32', false), col('day', 'i32', false), col('week', 'i32', false), col('weekday', 'i32', false)],
    partitionBy: [
      { name: 'year', type: 'int' },
      { name: 'month', type: 'int' },
    ],
  },
  songplays: {
    table: 'songplays',
    columns: [
      key('songplay_id', 'i64'),
      // Plays are seconds apart: nearly one distinct start_time per row.
      key('start_time', 'ts-ms'),
      col('user_id', 'i64', false),
      col('level', 'str'),
      col('song_id', 'str'),
      col('artist_id', 'str'),
      col('session_id', 'i64'),
      col('location', 'str'),
      col('user_agent', 'str'),
    ],
    partitionBy: [
      { name: 'year', type: 'int' },
      { name: 'month', type: 'int' },
    ],
  },
};
