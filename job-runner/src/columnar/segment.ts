// Staged segments: the scan stage's output, read back by the build stage. A segment is one
// self-contained Arrow IPC *stream* (schema, dictionaries, one record batch, end-of-stream marker),
// so segments can be appended one after another into one staged object per scan shard and each read
// back alone by byte range (StagedSegment{key, offset, length}). Arrow IPC rather than Parquet: no
// compression or encoding work on either side, and the decoder hands back views into the bytes.
//
// Alignment: Arrow IPC pads every message to 8 bytes, so a segment's length is a multiple of 8 and
// segments laid end to end in an object stay 8-byte aligned; decodeSegment copies only when given a
// misaligned view (typed-array views need aligned offsets).
import { RecordBatchStreamWriter, Table, tableFromIPC } from 'apache-arrow';
import type { ColumnBatch } from './batch.js';
import { fromArrowBatches, toArrowRecordBatch } from './arrowBatch.js';
import { checkBatch } from './values.js';

/** One Arrow IPC stream holding the batch. Strings are Dictionary<Int32, Utf8>, timestamps Timestamp(ms, "UTC"). */
export function encodeSegment(batch: ColumnBatch): Uint8Array {
  checkBatch(batch, 'encodeSegment');
  const record = toArrowRecordBatch(batch, () => ({ nullable: true, int64Metadata: true }));
  const writer = new RecordBatchStreamWriter();
  // A 0-row batch still writes its record batch, so the dictionaries (empty or not) and schema round-trip.
  writer.write(record);
  writer.finish();
  const bytes = writer.toUint8Array(true);
  if (bytes.byteLength % 8 !== 0) throw new Error(`internal: Arrow stream of ${bytes.byteLength} bytes is not 8-byte aligned`);
  return bytes;
}

/**
 * The batch of one segment. `bytes` may be a view into a larger buffer (a byte range of a staged
 * object); the result's arrays are views into it where Arrow allows, so keep `bytes` unmodified
 * while the batch is in use. `expectedRows` (StagedSegment.rows) turns a mismatch into an error.
 */
export function decodeSegment(bytes: Uint8Array, expectedRows?: number): ColumnBatch {
  if (bytes.byteLength < 16) throw new Error(`decodeSegment: ${bytes.byteLength} bytes is too short for an Arrow stream; check the segment's offset and length`);
  // Arrow's reader stops quietly at a message boundary, so a cut segment would read as fewer rows:
  // insist on the end-of-stream marker (continuation 0xFFFFFFFF, then a zero length).
  const tail = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8, 8);
  if (tail.getUint32(0, true) !== 0xffffffff || tail.getUint32(4, true) !== 0) {
    throw new Error('decodeSegment: no end-of-stream marker: the segment is truncated or its offset/length is wrong');
  }
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  let table: Table;
  try {
    table = tableFromIPC(aligned);
  } catch (err) {
    throw new Error(`decodeSegment: not an Arrow IPC stream (${(err as Error).message}); check the segment's offset and length`, { cause: err });
  }
  if (table.schema.fields.length === 0 && table.batches.length === 0) {
    throw new Error('decodeSegment: no schema found; check the segment\'s offset and length');
  }
  const batch = fromArrowBatches(table.schema, table.batches);
  if (expectedRows !== undefined && batch.length !== expectedRows) {
    throw new Error(`decodeSegment: ${batch.length} rows where the receipt says ${expectedRows}; the staged object does not match its receipt`);
  }
  return batch;
}

/** Several segments as one staged object body, with each segment's offset and length inside it. */
export function concatSegments(segments: readonly Uint8Array[]): { body: Uint8Array; ranges: { offset: number; length: number }[] } {
  const total = segments.reduce((sum, s) => sum + s.byteLength, 0);
  const body = new Uint8Array(total);
  const ranges: { offset: number; length: number }[] = [];
  let at = 0;
  for (const s of segments) {
    body.set(s, at);
    ranges.push({ offset: at, length: s.byteLength });
    at += s.byteLength;
  }
  return { body, ranges };
}
