// Writes one table's rows as a Parquet file through parquet-wasm (arrow-rs compiled to WebAssembly),
// the writer chosen by measurement in docs/parquet-writer.md.
//
//   ColumnBatch ─project/check─▶ row groups of rowGroupRows ─Arrow IPC─▶ WASM RecordBatch
//        ─transformParquetStream (ArrowWriter)─▶ Parquet bytes ─drop ARROW:schema─▶ caller
//
// Memory: rows go to WebAssembly one row group at a time and the writer flushes each row group as it
// fills, so WASM memory is bounded by about two row groups (the chunk being encoded plus the one being
// written), not by the file; WASM memory never shrinks, which is why this bound matters. The JS side
// holds the caller's input and, for writeTableFile, the compressed output.
//
// Determinism: no timestamps or random ids go into the file; the bytes depend only on the rows, the
// options and the library versions. Rows are re-cut into row groups of exactly rowGroupRows, so the
// way the input was batched does not change the output.
import { RecordBatchStreamWriter } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import type { ColumnBatch } from '../columnar/batch.js';
import { toArrowRecordBatch } from '../columnar/arrowBatch.js';
import { concatBatches } from '../columnar/concat.js';
import { sliceBatch } from '../columnar/take.js';
import { checkBatch, emptyBatch } from '../columnar/values.js';
import type { TableName } from '../run/types.js';
import { dropFooterKeys } from './footer.js';
import { encodeSmallFile, SMALL_FILE_MAX_ROWS, type SmallFileCompression } from './smallFile.js';
import { TABLE_SCHEMAS, type TableSchema } from './tables.js';

export type ParquetCompression = 'snappy' | 'zstd' | 'none';

export interface ParquetWriteOptions {
  /** Rows per row group, and per chunk handed to WebAssembly. Default DEFAULT_ROW_GROUP_ROWS. */
  rowGroupRows?: number;
  /** Default 'snappy' (read by every Parquet reader; see docs/parquet-writer.md for zstd). */
  compression?: ParquetCompression;
  /**
   * Encode files of 1..SMALL_FILE_MAX_ROWS rows in JS (smallFile.ts) instead of parquet-wasm.
   * Default true; false forces parquet-wasm (tests compare the two, benchmarks measure them).
   */
  smallFiles?: boolean;
}

/**
 * 128 Ki rows: DuckDB parallelises a scan by row group (its own default is 122,880 rows), a songplays
 * row group compresses to about 2 MB, and WASM memory stays under ~40 MB per writer.
 */
export const DEFAULT_ROW_GROUP_ROWS = 131_072;

/** Parsable by parquet-mr's VersionParser (application "sparkify-lake"), so Spark trusts our statistics. */
export const CREATED_BY = 'sparkify-lake version 0.1.0 (build parquet-wasm 0.8.0)';

const ARROW_SCHEMA_KEY = 'ARROW:schema';

/**
 * The whole file in memory. Columns of `batch` not in the table (e.g. partition columns) are not
 * written. A batch of at most one row group takes the synchronous path (about 0.3 ms per small file
 * against 1.3 ms through the stream machinery, which matters for ~10k song partitions); larger ones
 * stream row group by row group so WASM memory stays bounded.
 */
export async function writeTableFile(table: TableName, batch: ColumnBatch, opts: ParquetWriteOptions = {}): Promise<Uint8Array> {
  if (batch.length <= (opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS)) return encodeTableFile(table, batch, opts);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of writeTableStream(table, [batch], opts)) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Synchronous writer for a batch of at most one row group (throws for more: those must stream).
 * Gives the same bytes as writeTableFile and writeTableStream for the same rows.
 */
export function encodeTableFile(table: TableName, batch: ColumnBatch, opts: ParquetWriteOptions = {}): Uint8Array {
  const schema = tableSchema(table);
  const rowGroupRows = checkRowGroupRows(opts);
  if (batch.length > rowGroupRows) throw new Error(`encodeTableFile: ${batch.length} rows exceed one row group of ${rowGroupRows}; use writeTableFile or writeTableStream`);
  try {
    const projected = project(schema, batch);
    const small = smallPath(projected.length, opts);
    if (small) return encodeSmallFile(schema, projected, small, CREATED_BY);
    const wasmTable = wasm.Table.fromIPCStream(toIpc(schema, projected));
    return dropFooterKeys(wasm.writeParquet(wasmTable, writerProperties(schema, opts)), new Set([ARROW_SCHEMA_KEY]));
  } catch (err) {
    throw wrapError(table, err);
  }
}

/**
 * Files of 1..SMALL_FILE_MAX_ROWS rows are encoded in JS (smallFile.ts: no Arrow IPC, no WASM call,
 * ~30x cheaper for the songs table's one-row partitions); larger ones, empty ones and zstd go through
 * parquet-wasm. The choice depends only on the row count and options, so bytes stay deterministic.
 */
function smallPath(rows: number, opts: ParquetWriteOptions): SmallFileCompression | null {
  const compression = opts.compression ?? 'snappy';
  if (opts.smallFiles === false || rows < 1 || rows > SMALL_FILE_MAX_ROWS || (opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS) < rows) return null;
  return compression === 'snappy' || compression === 'none' ? compression : null;
}

function tableSchema(table: TableName): TableSchema {
  const schema = TABLE_SCHEMAS[table];
  if (!schema) throw new Error(`unknown table ${JSON.stringify(table)}`);
  return schema;
}

function checkRowGroupRows(opts: ParquetWriteOptions): number {
  const rowGroupRows = opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) throw new Error(`rowGroupRows must be a positive integer, got ${rowGroupRows}`);
  return rowGroupRows;
}

/**
 * The file as a stream of byte chunks (about one row group each), for Storage.putStream. Input
 * batches may be of any size; an empty input gives a valid file with the schema and no row groups.
 */
export async function* writeTableStream(
  table: TableName,
  batches: Iterable<ColumnBatch> | AsyncIterable<ColumnBatch>,
  opts: ParquetWriteOptions = {},
): AsyncGenerator<Uint8Array> {
  const schema = tableSchema(table);
  const rowGroupRows = checkRowGroupRows(opts);
  // A stream of at most SMALL_FILE_MAX_ROWS rows is a small file (the same bytes as writeTableFile):
  // hold up to that many rows back before choosing the path.
  const head: ColumnBatch[] = [];
  let headRows = 0;
  const input = (async function* () {
    for await (const b of batches) yield b;
  })();
  for (;;) {
    const next = await input.next();
    if (next.done) {
      const small = smallPath(headRows, opts);
      if (small) {
        try {
          yield encodeSmallFile(schema, project(schema, concatBatches(head.map((b) => project(schema, b)))), small, CREATED_BY);
        } catch (err) {
          throw wrapError(table, err);
        }
        return;
      }
      break;
    }
    head.push(next.value);
    headRows += next.value.length;
    if (headRows > SMALL_FILE_MAX_ROWS) break;
  }
  const all = (async function* () {
    yield* head;
    yield* input;
  })();
  const groups = rowGroups(schema, all, rowGroupRows)[Symbol.asyncIterator]();
  // Errors thrown while feeding WASM surface as a generic stream error; keep ours to rethrow.
  let inputError: unknown = null;
  const source = new ReadableStream<wasm.RecordBatch>({
    async pull(controller) {
      try {
        const next = await groups.next();
        if (next.done) return controller.close();
        for (const rb of toWasmBatches(schema, next.value)) controller.enqueue(rb);
      } catch (err) {
        inputError = err;
        controller.error(err);
      }
    },
    async cancel() {
      await groups.return?.(undefined);
    },
  });

  let output: ReadableStream<Uint8Array>;
  try {
    output = (await wasm.transformParquetStream(source, writerProperties(schema, opts))) as ReadableStream<Uint8Array>;
  } catch (err) {
    throw wrapError(table, inputError ?? err);
  }
  const reader = output.getReader();
  let held: Uint8Array | null = null;
  let done = false;
  try {
    for (;;) {
      const next = await reader.read().catch((err: unknown) => {
        throw wrapError(table, inputError ?? err);
      });
      if (next.done) break;
      // The footer arrives with the last chunk: hold one chunk back so it can be rewritten.
      if (held !== null) yield held;
      held = next.value;
    }
    done = true;
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  if (held === null) throw new Error(`writing ${table}: the Parquet writer produced no bytes`);
  yield dropFooterKeys(held, new Set([ARROW_SCHEMA_KEY]), false);
}

function wrapError(table: TableName, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`writing ${table} Parquet: ${message}`, { cause: err });
}

/**
 * Writer settings. Only encodings every reader has had for years: PLAIN and RLE_DICTIONARY in V1
 * data pages (DELTA_BINARY_PACKED would shrink start_time 4x but Spark's vectorized reader only
 * reads it since 3.3). Page-level statistics stay on (readers skip pages by them).
 */
function writerProperties(schema: TableSchema, opts: ParquetWriteOptions): wasm.WriterProperties {
  const compression = opts.compression ?? 'snappy';
  const codec = { snappy: wasm.Compression.SNAPPY, zstd: wasm.Compression.ZSTD, none: wasm.Compression.UNCOMPRESSED }[compression];
  if (codec === undefined) throw new Error(`unknown Parquet compression ${JSON.stringify(compression)} (snappy, zstd or none)`);
  let builder = new wasm.WriterPropertiesBuilder()
    .setCompression(codec)
    .setDictionaryEnabled(true)
    .setCreatedBy(CREATED_BY)
    .setMaxRowGroupSize(opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS)
    .setWriterVersion(wasm.WriterVersion.V1);
  for (const column of schema.columns) if (!column.dictionary) builder = builder.setColumnDictionaryEnabled(column.name, false);
  return builder.build();
}

/** The table's columns of one input batch, checked (names, kinds, lengths, codes); nulls in non-nullable columns are caught by the Arrow bridge. */
function project(schema: TableSchema, batch: ColumnBatch): ColumnBatch {
  const what = `${schema.table} batch`;
  const columns = schema.columns.map((spec) => {
    const found = batch.columns.find((c) => c.name === spec.name);
    if (!found) throw new Error(`${what} has no column ${spec.name} (has ${batch.columns.map((c) => c.name).join(', ') || 'none'})`);
    if (found.column.kind !== spec.kind) throw new Error(`${what}: column ${spec.name} is ${found.column.kind}, the table wants ${spec.kind}`);
    return { name: spec.name, column: found.column };
  });
  const projected = { length: batch.length, columns };
  checkBatch(projected, what);
  return projected;
}

/** Input batches re-cut into row groups of exactly `rows` rows (the last may be shorter; an empty input gives one empty group). */
async function* rowGroups(schema: TableSchema, batches: Iterable<ColumnBatch> | AsyncIterable<ColumnBatch>, rows: number): AsyncGenerator<ColumnBatch> {
  let pending: ColumnBatch[] = [];
  let pendingRows = 0;
  let emitted = false;
  for await (const input of batches) {
    const batch = project(schema, input);
    let at = 0;
    while (at < batch.length) {
      const take = Math.min(rows - pendingRows, batch.length - at);
      pending.push(sliceBatch(batch, at, at + take));
      pendingRows += take;
      at += take;
      if (pendingRows === rows) {
        yield concatBatches(pending);
        emitted = true;
        pending = [];
        pendingRows = 0;
      }
    }
  }
  if (pendingRows > 0) yield concatBatches(pending);
  // No rows at all: one empty group still carries the schema, so the file is valid and typed.
  else if (!emitted) yield emptyBatch(schema.columns);
}

function toIpc(schema: TableSchema, batch: ColumnBatch): Uint8Array {
  const nullable = new Map(schema.columns.map((c) => [c.name, c.nullable]));
  const record = toArrowRecordBatch(batch, (name) => ({ nullable: nullable.get(name) ?? true, int64Metadata: false }));
  const writer = new RecordBatchStreamWriter();
  writer.write(record);
  writer.finish();
  return writer.toUint8Array(true);
}

function toWasmBatches(schema: TableSchema, batch: ColumnBatch): wasm.RecordBatch[] {
  const table = wasm.Table.fromIPCStream(toIpc(schema, batch));
  try {
    return table.recordBatches();
  } finally {
    table.free();
  }
}
