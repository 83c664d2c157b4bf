// Hive-style partition paths, escaped the way Spark's escapePathName does it (docs/schema-on-read.md,
// "Partition paths"), so Spark, DuckDB (hive_partitioning), pyarrow and Athena read the values back
// exactly and no value can leave its table's folder: '/' and '\' are always escaped and every path
// segment starts with `<column>=`, so a segment is never '.' or '..'.
//
//   AR/../x=1   →  artist_id=AR%2F..%2Fx%3D1
//   null, ''    →  artist_id=__HIVE_DEFAULT_PARTITION__
//   NULL, null  →  artist_id=%4EULL, artist_id=%6Eull   (DuckDB reads a bare `null` in any case as SQL NULL)
import { TABLE_SCHEMAS } from '../parquet/tables.js';
import { assertRunId, shardName } from './layout.js';
import type { PartitionValues, TableName } from './types.js';

/** Spark/Hive's name for the partition of null (and empty) values. */
export const DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * Longest `<column>=<escaped value>` segment we write, in UTF-8 bytes: the file-name limit of Linux
 * file systems (local output) and well inside S3's 1024-byte key limit.
 */
export const MAX_SEGMENT_BYTES = 255;

// Spark's set: " # % ' * / : = ? \ { [ ] ^, DEL and U+0001..U+001F. We add U+0000 (no file system or
// S3 tool handles a NUL in a name; Spark and DuckDB unescape %00 like any other %XX).
const MUST_ESCAPE = new Uint8Array(128);
for (let c = 0; c <= 0x1f; c++) MUST_ESCAPE[c] = 1;
MUST_ESCAPE[0x7f] = 1;
for (const ch of '"#%\'*/:=?\\{[]^') MUST_ESCAPE[ch.charCodeAt(0)] = 1;

const HEX = '0123456789ABCDEF';

export function escapePartitionValue(value: string | null): string {
  if (value === null || value === '') return DEFAULT_PARTITION;
  if (readsAsNull(value)) return escapeFirst(value);
  return escapePathName(value);
}

/**
 * DuckDB's hive reader turns a raw segment value equal to `NULL` in any ASCII case into SQL NULL
 * before it URL-decodes (HivePartitioning::GetValue, `CIEquals(value, "NULL")`), so a string value
 * `NULL` written as is would lose its value on read. Escaping one character keeps the raw text from
 * matching while every reader still decodes it to the exact value: DuckDB and Spark decode any %XX,
 * pyarrow's hive partitioning URI-decodes segments (docs/schema-on-read.md, "Partition paths").
 */
function readsAsNull(value: string): boolean {
  // ASCII case only, as CIEquals: no Unicode case folding.
  return value.length === 4 && /^[nN][uU][lL][lL]$/.test(value);
}

function escapeFirst(value: string): string {
  const c = value.charCodeAt(0);
  return '%' + HEX[c >> 4] + HEX[c & 15] + escapePathName(value.slice(1));
}

/**
 * A partition value as its folder names it: two values share a folder exactly when they have the same
 * canonical value, so partitions must be identified by it (two build units writing the same folder
 * would write the same file key). null, '' and the literal `__HIVE_DEFAULT_PARTITION__` are all the
 * default partition, ''; other text is taken as any UTF-8 output holds it (see wellFormed).
 */
export function canonicalPartitionValue(value: string | null): string {
  if (value === null || value === DEFAULT_PARTITION) return '';
  return wellFormed(value);
}

/**
 * The text as every UTF-8 output holds it: each lone surrogate (which JSON.parse, and so the scan,
 * accepts from an escape like "\ud800") becomes U+FFFD. Staged data, Parquet strings, folder names and
 * object keys all carry this form: `AR\ud800` and `AR\ufffd` are one folder, and the build (which
 * reads staged data) must find the rows of a partition the scan counted before staging.
 */
export function wellFormed(text: string): string {
  // Any surrogate code unit, paired or not: only then can the text need repair (pairs survive it).
  return /[\ud800-\udfff]/.test(text) ? Buffer.from(text, 'utf8').toString('utf8') : text;
}

/** Spark's escapePathName: escapes the characters above as %XX (uppercase hex); everything else, non-ASCII included, as is. */
export function escapePathName(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && MUST_ESCAPE[c] === 1) {
      out += text.slice(from, i) + '%' + HEX[c >> 4] + HEX[c & 15];
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * The inverse: `__HIVE_DEFAULT_PARTITION__` is null; each valid %XX becomes the character XX (Spark's
 * unescapePathName), so `%4EULL` is `NULL` again.
 */
export function unescapePartitionValue(segmentValue: string): string | null {
  if (segmentValue === DEFAULT_PARTITION) return null;
  return unescapePathName(segmentValue);
}

export function unescapePathName(text: string): string {
  if (!text.includes('%')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '%' && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += ch;
    }
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * UTF-8 bytes of the path segment `<column>=<escaped value>`, computed without building it: each
 * escaped ASCII character takes 3 bytes (`%XX`), everything else its UTF-8 length (a lone surrogate
 * 3, as U+FFFD). The scan stage uses it to quarantine song records whose artist_id could never be a
 * folder name (reason `partition-value-too-long`), so the build never meets one.
 */
export function partitionSegmentBytes(column: string, value: string | null): number {
  const escaped = (text: string) => {
    let n = Buffer.byteLength(text, 'utf8');
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 128 && MUST_ESCAPE[c] === 1) n += 2;
    }
    return n;
  };
  if (value === null || value === '') return escaped(column) + 1 + DEFAULT_PARTITION.length;
  return escaped(column) + 1 + escaped(value) + (readsAsNull(value) ? 2 : 0);
}

/**
 * `year=2018/month=11/` for the given columns, in that order. Every column must have a value (null or
 * '' meaning the default partition). Throws when a segment would exceed MAX_SEGMENT_BYTES.
 */
export function partitionPath(columns: readonly string[], values: Readonly<Record<string, string | null>>): string {
  let path = '';
  for (const column of columns) {
    if (!(column in values)) throw new Error(`partition value for ${column} is missing (have ${Object.keys(values).join(', ') || 'none'})`);
    const segment = `${escapePathName(column)}=${escapePartitionValue(values[column])}`;
    const bytes = Buffer.byteLength(segment, 'utf8');
    // Unreachable for song artist_ids (the scan quarantines them); kept as the last line of defence.
    if (bytes > MAX_SEGMENT_BYTES) {
      throw new Error(`partition ${column}=${JSON.stringify(truncate(values[column] ?? ''))} makes a ${bytes}-byte path segment; at most ${MAX_SEGMENT_BYTES} bytes fit a file name`);
    }
    path += segment + '/';
  }
  return path;
}

function truncate(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

/**
 * The partition columns and values of a relative path's `k=v/` segments (other segments are
 * skipped), e.g. `songs/year=0/artist_id=AR%2Fx/part-1.parquet` → {year: '0', artist_id: 'AR/x'}.
 */
export function parsePartitionPath(path: string): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  for (const segment of path.split('/')) {
    const eq = segment.indexOf('=');
    if (eq <= 0) continue;
    values[unescapePathName(segment.slice(0, eq))] = unescapePartitionValue(segment.slice(eq + 1));
  }
  return values;
}

/** The partition prefix of a table, relative to the output root: `songplays/year=2018/month=11/`, or `users/`. */
export function tablePartitionPrefix(table: TableName, partition: PartitionValues | Readonly<Record<string, string | null>>): string {
  const columns = TABLE_SCHEMAS[table].partitionBy.map((p) => p.name);
  const extra = Object.keys(partition).filter((k) => !columns.includes(k));
  if (extra.length > 0) throw new Error(`table ${table} is partitioned by [${columns.join(', ')}], not by ${extra.join(', ')}`);
  return `${table}/${partitionPath(columns, partition)}`;
}

const FILE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The key of one output file: `<table>/<partition path>part-<runId>-<fileId>.parquet`. Deterministic
 * in its inputs, so a retried build shard overwrites its own files; the run id in the name keeps two
 * runs' files apart until the commit removes the old one. A numeric fileId is zero-padded so keys sort.
 */
export function tableFileKey(table: TableName, partition: PartitionValues | Readonly<Record<string, string | null>>, runId: string, fileId: number | string): string {
  const id = typeof fileId === 'number' ? shardName(fileId) : fileId;
  if (!FILE_ID.test(id)) throw new Error(`invalid output file id ${JSON.stringify(fileId)}: want ${FILE_ID} or a non-negative integer`);
  return `${tablePartitionPrefix(table, partition)}part-${assertRunId(runId)}-${id}.parquet`;
}
