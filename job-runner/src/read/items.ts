// What readSplit yields: blocks of whole lines for the parser, and the few things that are not
// lines (an oversized line, a broken gzip stream) as separate items so the parser can reject them
// as records without ever holding them in memory. Offsets are in the decompressed object.

export interface LinesItem {
  type: 'lines';
  /** Whole lines only, each ending in '\n' except possibly the object's last line. */
  data: Buffer;
  /** Byte offset of data[0] in the (decompressed) object. */
  offset: number;
  /** 1-based line number of the block's first line when known (reads that start at byte 0), else null. */
  firstLine: number | null;
}

/** A line longer than maxLineBytes (excluding '\n' and one '\r' before it): skipped, never buffered. */
export interface OversizedItem {
  type: 'oversized';
  offset: number;
  line: number | null;
  /** The line's length in bytes, excluding the line terminator. */
  length: number;
  /** Its first maxRejectSampleBytes bytes. */
  head: Buffer;
}

/**
 * A gzip stream that ended early (`truncated-gzip`) or is corrupt (`corrupt-gzip`): always the last
 * item of a read.
 * - truncated: everything decoded before the cut came as complete lines; `tail` is the incomplete
 *   line at the end (possibly empty), cut at maxRejectSampleBytes; `length` its full length.
 * - corrupt (bad header, bad deflate data, CRC-32 or ISIZE mismatch, not gzip at all): the only item
 *   of the read, standing for the whole object (offset 0, line 1). `tail` is the first decoded bytes,
 *   or the object's first raw bytes when nothing decoded; `length` the decoded bytes before the
 *   error, or the object's stored size when nothing decoded.
 */
export interface BrokenGzipItem {
  type: 'truncated-gzip' | 'corrupt-gzip';
  offset: number;
  line: number | null;
  tail: Buffer;
  /** Full length of the incomplete tail (tail may be cut at maxRejectSampleBytes). */
  length: number;
  /** What is wrong, for the reject record and logs. */
  message: string;
}

export type ReadItem = LinesItem | OversizedItem | BrokenGzipItem;

export interface ReadSplitOptions {
  /** Lines longer than this are yielded as `oversized` (default 16 MiB in ReadOptions). */
  maxLineBytes: number;
  /** Target size of a `lines` block (default 8 MiB). */
  blockBytes?: number;
  /** How much of a rejected line or tail is kept. */
  maxRejectSampleBytes: number;
  /** Ranges up to this size are read with one Storage.get instead of a stream (default 1 MiB). */
  wholeReadBytes?: number;
  /**
   * A .gz object up to this many stored bytes is fetched once and verified and parsed from memory;
   * a larger one is read twice (default 16 MiB, gzipObject.ts).
   */
  gzipInMemoryBytes?: number;
}

export const DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024;
