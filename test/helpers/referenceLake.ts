// The DuckDB reference ETL: the oracle of the engine's correctness tests.
//
// It computes the five tables from raw JSON in local folders following docs/schema-on-read.md, with
// an implementation that shares nothing with the engine: DuckDB SQL over the files' text. Lines are
// split in SQL (read_text + string_split), validity is yyjson's `json_valid` tightened to JSON.parse's
// grammar, coercion is TRY_CAST plus the numeric-string grammar as a regular expression, dedup and
// "latest event" are window functions, the join is a ranked left join, and songplay_id's FNV-1a 64 is
// HUGEINT arithmetic mod 2^64 in `list_reduce` (all in SQL, see referenceSql below).
//
// What runs in JS, because DuckDB cannot do it: listing the inputs (the engine's inventory rules),
// gunzip (with the truncated/corrupt rules), and replacing invalid UTF-8 by U+FFFD (read_text refuses
// invalid UTF-8). Such files are decoded into a temporary folder that read_text then reads.
//
// Known limits (docs/schema-on-read.md, "Decisions"): a line holding a lone-surrogate escape ("\ud800")
// is valid for JSON.parse but not for yyjson; the oracle refuses such input with an error rather than
// disagree silently. A corrupt gzip object (not a truncated one) is one reject whose sample is exact
// when only its trailer is wrong or nothing decodes; for damage mid-stream the engine shows what it
// decoded before zlib noticed, which the oracle does not model (corruptGzip.test.ts checks that on its
// own). Partition values are modelled as DuckDB reads them back (see `as_read_back` in referenceSql.ts).
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { RecordCounts, TableName } from '../../job-runner/src/run/types.js';
import { referenceSql } from './referenceSql.js';

export interface ReferenceInput {
  /** Folder holding song files (recursively). */
  songs: string;
  /** Folder holding log files (recursively). */
  logs: string;
}

export interface ReferenceOptions {
  /** Default 16 MiB, as the engine. */
  maxLineBytes?: number;
  /** Raw text of a reject is cut here in `rejects` (default 64 KiB). */
  maxRejectSampleBytes?: number;
}

export interface ReferenceReject {
  kind: 'song' | 'log';
  source: string;
  line: number;
  offset: number;
  reason: string;
  raw: string;
}

export interface ReferenceCounts {
  songs: RecordCounts;
  logs: RecordCounts;
  total: RecordCounts;
}

export interface ReferenceLake {
  /** A DuckDB connection holding the tables `ref.songs`, `ref.artists`, `ref.users`, `ref.time`, `ref.songplays`. */
  connection: DuckDBConnection;
  counts: ReferenceCounts;
  /** Every rejected record, ordered by source ordinal then offset. */
  rejects: ReferenceReject[];
  /** SQL naming a reference table inside `connection`. */
  table(name: TableName): string;
  rowCounts(): Promise<Record<TableName, number>>;
  /** Songplays whose song_id is not null. */
  matchedPlays(): Promise<number>;
  /** Rows of a table as JSON-friendly objects, ordered by every column. */
  rows(name: TableName): Promise<Record<string, unknown>[]>;
  close(): void;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_REJECT_SAMPLE_BYTES = 64 * 1024;

/**
 * The inputs a run lists: `.json`, `.jsonl`, `.ndjson`, optionally `.gz` (any case), and nothing
 * under a hidden or `_` name at any depth (`_SUCCESS`, `.DS_Store`, `_temporary/…`), as Hadoop does.
 */
export function isInputKey(key: string): boolean {
  if (key.split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_'))) return false;
  return /\.(json|jsonl|ndjson)(\.gz)?$/i.test(key);
}

interface SourceFile {
  kind: 'song' | 'log';
  key: string;
  ordinal: number;
  /** The file read_text reads (the original, or its decoded copy in the temp folder). */
  path: string;
}

/** A record that never reaches SQL: the tail of a truncated or corrupt gzip stream. */
interface GzipReject extends ReferenceReject {
  ordinal: number;
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const key = relative(root, p).split(sep).join('/');
        if (isInputKey(key)) out.push(key);
      }
    }
  };
  walk(root);
  // S3 lists keys in UTF-8 byte order; JS string order is UTF-16 order, which differs above U+FFFF.
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * Gunzips with the rules of docs/schema-on-read.md. A stream that stops early (zlib: Z_BUF_ERROR,
 * "unexpected end of file") keeps what the one-shot API decodes from it with Z_SYNC_FLUSH, which does
 * not fail on a cut stream. Any other error (bad header, bad deflate data, CRC-32 or ISIZE mismatch)
 * quarantines the object whole: no lines. Its sample is the decoded text when only the trailer is
 * wrong (the stream without its 8-byte trailer decodes), else the object's first raw bytes.
 */
type Gunzipped = { data: Buffer; error: null } | { data: Buffer; error: 'truncated-gzip' } | { sample: Buffer; sampleBytes: number; error: 'corrupt-gzip' };

function gunzip(bytes: Buffer): Gunzipped {
  const syncFlush = (b: Buffer) => gunzipSync(b, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  try {
    return { data: gunzipSync(bytes), error: null };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') return { data: syncFlush(bytes), error: 'truncated-gzip' };
    try {
      const text = syncFlush(bytes.subarray(0, bytes.length - 8));
      if (text.length > 0) return { sample: text, sampleBytes: text.length, error: 'corrupt-gzip' };
    } catch {
      // damaged before the trailer: show the raw bytes
    }
    return { sample: bytes, sampleBytes: bytes.length, error: 'corrupt-gzip' };
  }
}

/** UTF-8 text as is: a leading BOM is kept (TextDecoder's default drops it). */
const utf8 = (bytes: Uint8Array) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);

function cut(text: string, maxBytes: number): string {
  const b = Buffer.from(text);
  return b.length <= maxBytes ? text : utf8(b.subarray(0, maxBytes));
}

/** Decodes what DuckDB cannot read directly into `tmp`; returns the files and the gzip rejects. */
async function stageSources(input: ReferenceInput, tmp: string, maxSample: number): Promise<{ files: SourceFile[]; gzipRejects: GzipReject[] }> {
  const files: SourceFile[] = [];
  const gzipRejects: GzipReject[] = [];
  const roots: ['song' | 'log', string][] = [['song', input.songs], ['log', input.logs]];
  let ordinal = 0;
  for (const [kind, root] of roots) {
    for (const key of listFiles(root)) {
      const original = join(root, ...key.split('/'));
      let bytes: Buffer = readFileSync(original);
      let changed = false;
      // An empty object holds no records, whatever its name: an empty .gz is not a truncated stream.
      if (/\.gz$/i.test(key) && bytes.length > 0) {
        const got = gunzip(bytes);
        changed = true;
        if (got.error === 'corrupt-gzip') {
          // The whole object is one record: none of its lines are read.
          gzipRejects.push({ kind, source: key, ordinal, line: 1, offset: 0, reason: got.error, raw: cut(utf8(got.sample), maxSample) });
          bytes = Buffer.alloc(0);
        } else if (got.error === 'truncated-gzip') {
          // Complete lines before the cut are records as usual; the incomplete tail is one reject.
          const lastNl = got.data.lastIndexOf(0x0a);
          const whole = got.data.subarray(0, lastNl + 1);
          let lines = 1;
          for (const b of whole) if (b === 0x0a) lines++;
          gzipRejects.push({ kind, source: key, ordinal, line: lines, offset: whole.length, reason: got.error, raw: cut(utf8(got.data.subarray(lastNl + 1)), maxSample) });
          bytes = whole;
        } else {
          bytes = got.data;
        }
      }
      if (!isUtf8(bytes)) {
        // WHATWG decoding (as TextDecoder): each maximal invalid subpart becomes one U+FFFD. A BOM is
        // kept: JSON.parse refuses it, so a line starting with one is invalid JSON.
        bytes = Buffer.from(utf8(bytes));
        changed = true;
      }
      let path = original;
      if (changed) {
        path = join(tmp, `${ordinal}.txt`);
        writeFileSync(path, bytes);
      }
      files.push({ kind, key, ordinal, path });
      ordinal++;
    }
  }
  return { files, gzipRejects };
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function emptyCounts(): RecordCounts {
  return { read: 0, accepted: 0, rejected: 0, rejectedByReason: {} };
}

/** Builds the reference tables. Throws on input the oracle cannot judge exactly (see header). */
export async function buildReferenceLake(input: ReferenceInput, opts: ReferenceOptions = {}): Promise<ReferenceLake> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxSample = opts.maxRejectSampleBytes ?? DEFAULT_MAX_REJECT_SAMPLE_BYTES;
  for (const dir of [input.songs, input.logs]) {
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`reference lake: input folder ${dir} does not exist`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'slake-ref-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  const close = () => {
    connection.closeSync();
    instance.closeSync();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const { files, gzipRejects } = await stageSources(input, tmp, maxSample);
    await connection.run(`CREATE TABLE src (ordinal INTEGER, kind VARCHAR, key VARCHAR, path VARCHAR)`);
    const app = await connection.createAppender('src');
    for (const f of files) {
      app.appendInteger(f.ordinal);
      app.appendVarchar(f.kind);
      app.appendVarchar(f.key);
      app.appendVarchar(f.path);
      app.endRow();
    }
    app.closeSync();
    const readText = files.length === 0 ? null : `read_text([${files.map((f) => sqlString(f.path)).join(', ')}])`;
    for (const statement of referenceSql({ readText, maxLineBytes })) await connection.run(statement);

    const suspicious = await connection.runAndReadAll(`SELECT key, line FROM suspicious_surrogates LIMIT 1`);
    if (suspicious.currentRowCount > 0) {
      const [key, line] = suspicious.getRowsJS()[0]!;
      throw new Error(`reference lake: ${String(key)} line ${String(line)} holds a lone-surrogate escape, which JSON.parse accepts but DuckDB cannot parse; the oracle cannot judge it`);
    }

    // raw as bytes: the client decodes VARCHARs with a TextDecoder that drops a leading BOM, which is
    // part of the record (a line starting with one is invalid JSON).
    const sqlRejects = (
      await connection.runAndReadAll(`SELECT kind, key, ordinal, line, byte_offset, reason, encode(raw) FROM rejects ORDER BY ordinal, byte_offset`)
    ).getRowsJS();
    const rejects: (ReferenceReject & { ordinal: number })[] = sqlRejects.map(([kind, key, ordinal, line, offset, reason, raw]) => ({
      kind: kind as 'song' | 'log',
      source: String(key),
      ordinal: Number(ordinal),
      line: Number(line),
      offset: Number(offset),
      reason: String(reason),
      raw: cut((raw as Buffer).toString('utf8'), maxSample),
    }));
    rejects.push(...gzipRejects);
    rejects.sort((a, b) => a.ordinal - b.ordinal || a.offset - b.offset);

    const counts: ReferenceCounts = { songs: emptyCounts(), logs: emptyCounts(), total: emptyCounts() };
    const accepted = (await connection.runAndReadAll(`SELECT kind, count(*) FROM accepted GROUP BY kind`)).getRowsJS();
    for (const [kind, n] of accepted) {
      const c = kind === 'song' ? counts.songs : counts.logs;
      c.accepted += Number(n);
    }
    for (const r of rejects) {
      for (const c of [r.kind === 'song' ? counts.songs : counts.logs, counts.total]) {
        c.rejected++;
        c.rejectedByReason[r.reason] = (c.rejectedByReason[r.reason] ?? 0) + 1;
      }
    }
    counts.total.accepted = counts.songs.accepted + counts.logs.accepted;
    for (const c of [counts.songs, counts.logs, counts.total]) c.read = c.accepted + c.rejected;

    const table = (name: TableName) => `ref.${name}`;
    return {
      connection,
      counts,
      rejects: rejects.map(({ ordinal: _ordinal, ...r }) => r),
      table,
      async rowCounts() {
        const out = {} as Record<TableName, number>;
        for (const name of ['songs', 'artists', 'users', 'time', 'songplays'] as const) {
          const r = await connection.runAndReadAll(`SELECT count(*) FROM ${table(name)}`);
          out[name] = Number(r.getRowsJS()[0]![0]);
        }
        return out;
      },
      async matchedPlays() {
        const r = await connection.runAndReadAll(`SELECT count(*) FROM ref.songplays WHERE song_id IS NOT NULL`);
        return Number(r.getRowsJS()[0]![0]);
      },
      async rows(name: TableName) {
        const r = await connection.runAndReadAll(`SELECT * FROM ${table(name)} ORDER BY ALL`);
        return r.getRowObjectsJson() as Record<string, unknown>[];
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}
