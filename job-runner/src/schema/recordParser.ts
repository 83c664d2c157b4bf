// What event and song parsing share: records framed from the reader's items, the pretty-printed
// document rule, rejects, counters and batches (docs/schema-on-read.md, "Records" and "Rejects").
//
// A parser is fed one source at a time:
//
//   beginSource ──▶ push(item)* ──▶ endSource ──▶ … next source … ──▶ finish
//
// and every call returns the batches it completed (usually none), so memory holds at most one
// partial batch, one block, and, for a pretty-printed document, the document (≤ maxLineBytes).
//
// Per source, the document rule is a small state machine:
//
//   FIRST ──first record valid, or not '{', or source split/too big──▶ LINES
//     └──first non-blank line starts with '{' and is invalid JSON──▶ DOCUMENT (buffer the source)
//   DOCUMENT ──endSource──▶ the whole text is one record
//           ──source passes maxLineBytes, an oversized line, a gzip error──▶ replay as LINES
import type { ColumnBatch } from '../columnar/batch.js';
import type { DriftReport, RecordCounts } from '../run/types.js';
import { BatchBuilder } from './columnBuilders.js';
import { DriftCounter } from './drift.js';
import { INVALID, JsonScanner, NOT_OBJECT } from './jsonScanner.js';
import { KeyTable } from './keyTable.js';
import { RecordCounter, rawSample, type RejectReason, type RejectSink } from './rejects.js';

/** The reader's items (job-runner/src/read/), structurally. */
export type ParseInput =
  /** Whole lines; `offset` is data[0]'s byte offset in the (decompressed) object. */
  | { type: 'lines'; data: Buffer; offset: number; firstLine: number | null }
  /** A line longer than maxLineBytes, skipped by the reader; `head` is its first bytes. */
  | { type: 'oversized'; offset: number; line: number | null; length: number; head: Buffer }
  /**
   * A gzip stream that ended early (`tail`: the incomplete last line, maybe cut; `length`: its full
   * length) or is not gzip at all.
   */
  | { type: 'truncated-gzip' | 'corrupt-gzip'; offset: number; line: number | null; tail: Buffer; length?: number; message?: string };

export interface SourceInfo {
  /** Position of the source in the run's sorted input list. */
  ordinal: number;
  /** Object key, as reported in rejects. */
  key: string;
  /** The whole object is read (not a byte-range split), so the document rule may apply. */
  whole: boolean;
}

export interface ParserOptions {
  /** A line longer than this is rejected (`line-too-long`); also the document rule's size limit. Default 16 MiB. */
  maxLineBytes?: number;
  /** Raw text kept per rejected record. Default 64 KiB. */
  maxRejectSampleBytes?: number;
  /** Rows per emitted batch. Default 65,536. */
  batchRows?: number;
  /** Receives every rejected record, in input order. */
  onReject: RejectSink;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_REJECT_SAMPLE_BYTES = 64 * 1024;
export const DEFAULT_BATCH_ROWS = 65536;

const NONE: ColumnBatch[] = [];
Object.freeze(NONE);

interface PendingDocument {
  chunks: Buffer[];
  bytes: number;
  offset: number;
  line: number | null;
}

export abstract class RecordParser {
  protected readonly batch: BatchBuilder;
  protected readonly drift: DriftCounter;
  protected src: SourceInfo | null = null;
  /** Ordinal of the open source (the `src` column). */
  protected ordinal = 0;
  private readonly keys: KeyTable;
  private readonly lineScanner: JsonScanner;
  private readonly docScanner: JsonScanner;
  private readonly counter = new RecordCounter();
  private readonly maxLineBytes: number;
  private readonly maxSample: number;
  private readonly onReject: RejectSink;
  private completed: ColumnBatch[] = [];
  /** The next non-blank line is the source's first: the document rule looks at it. */
  private firstPending = false;
  private doc: PendingDocument | null = null;

  protected constructor(fields: readonly string[], batch: BatchBuilder, opts: ParserOptions) {
    this.keys = new KeyTable(fields);
    this.lineScanner = new JsonScanner(this.keys, 'line');
    this.docScanner = new JsonScanner(this.keys, 'document');
    this.drift = new DriftCounter(fields);
    this.batch = batch;
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxSample = opts.maxRejectSampleBytes ?? DEFAULT_MAX_REJECT_SAMPLE_BYTES;
    this.onReject = opts.onReject;
    if (!(this.maxLineBytes > 0) || !(this.maxSample >= 0)) throw new Error('maxLineBytes must be > 0 and maxRejectSampleBytes >= 0');
  }

  /**
   * Applies the schema to the record the scanner just validated as an object: appends a row (and
   * commits its drift) and returns null, or returns the reason it is rejected (drift discarded).
   */
  protected abstract acceptRecord(sc: JsonScanner, buf: Buffer, line: number | null, offset: number): RejectReason | null;

  beginSource(src: SourceInfo): void {
    if (this.src) throw new Error(`beginSource(${src.key}) while ${this.src.key} is open: call endSource first`);
    this.src = src;
    this.ordinal = src.ordinal;
    this.firstPending = src.whole;
    this.doc = null;
  }

  push(item: ParseInput): ColumnBatch[] {
    if (!this.src) throw new Error(`push(${item.type}) without an open source: call beginSource first`);
    if (item.type === 'lines') {
      if (this.doc) this.bufferDocument(item.data, item.offset, item.firstLine);
      else this.lines(item.data, 0, item.data.length, item.offset, item.firstLine);
    } else {
      // The source holds more than one readable document, or is broken: no document rule.
      this.firstPending = false;
      this.replayDocument();
      if (item.type === 'oversized') this.rejectSample('line-too-long', item.line, item.offset, item.head, item.length);
      else this.rejectSample(item.type, item.line, item.offset, item.tail, item.length ?? item.tail.length, item.message);
    }
    return this.takeCompleted();
  }

  endSource(): ColumnBatch[] {
    if (!this.src) throw new Error('endSource without an open source');
    if (this.doc) this.parseDocument();
    this.src = null;
    return this.takeCompleted();
  }

  /** Ends the open source, if any, and returns every batch not yet returned (the last one partial). */
  finish(): ColumnBatch[] {
    if (this.src) this.endSource();
    if (this.batch.rows > 0) this.completed.push(this.batch.take());
    return this.takeCompleted();
  }

  counts(): RecordCounts {
    return this.counter.counts();
  }

  driftReport(): DriftReport {
    return this.drift.report();
  }

  /** The records of buf[from, to), which holds whole lines starting at object offset `base`. */
  private lines(buf: Buffer, from: number, to: number, base: number, firstLine: number | null): void {
    const sc = this.lineScanner;
    let p = from;
    let line = firstLine;
    while (p < to) {
      // A line of spaces, tabs and '\r' only is blank: not a record.
      let q = p;
      let b = 0;
      while (q < to && ((b = buf[q]) === 0x20 || b === 0x09 || b === 0x0d)) q++;
      if (q === to || b === 0x0a) {
        p = q + 1;
        if (line !== null) line++;
        continue;
      }
      const status = sc.scan(buf, q, to);
      let end: number;
      if (status !== INVALID) end = sc.pos;
      else {
        end = buf.indexOf(0x0a, q);
        if (end < 0 || end > to) end = to;
      }
      if (this.firstPending) {
        this.firstPending = false;
        if (status === INVALID && buf[q] === 0x7b && base + to <= this.maxLineBytes) {
          this.doc = { chunks: [], bytes: 0, offset: base + p, line };
          this.bufferDocument(buf.subarray(p, to), base + p, line);
          return;
        }
      }
      // The record's text: without its newline and one trailing '\r' (the line terminator, whose
      // bytes do not count towards maxLineBytes either, as in the reader).
      const rawEnd = end > p && buf[end - 1] === 0x0d ? end - 1 : end;
      if (rawEnd - p > this.maxLineBytes) this.reject('line-too-long', buf, p, rawEnd, line, base + p);
      else if (status === INVALID) this.reject('invalid-json', buf, p, rawEnd, line, base + p);
      else if (status === NOT_OBJECT) this.reject('not-an-object', buf, p, rawEnd, line, base + p);
      else this.record(sc, buf, p, rawEnd, line, base + p);
      p = end + 1;
      if (line !== null) line++;
    }
  }

  private record(sc: JsonScanner, buf: Buffer, s: number, e: number, line: number | null, offset: number): void {
    const reason = this.acceptRecord(sc, buf, line, offset);
    if (reason !== null) {
      this.drift.discard();
      this.reject(reason, buf, s, e, line, offset);
      return;
    }
    for (let k = 0; k < sc.unknownCount; k++) this.drift.noteUnknownKey(buf, sc.unknownStart[k], sc.unknownEnd[k], sc.unknownFlags[k]);
    if (sc.badUtf8) this.drift.noteBadUtf8();
    this.drift.commit();
    this.counter.accept();
    if (this.batch.rows === this.batch.maxRows) this.completed.push(this.batch.take());
  }

  private reject(reason: RejectReason, buf: Buffer, s: number, e: number, line: number | null, offset: number): void {
    const { raw, truncated } = rawSample(buf, s, e, this.maxSample);
    this.emitReject(reason, line, offset, raw, e - s, truncated);
  }

  private rejectSample(reason: RejectReason, line: number | null, offset: number, head: Buffer, length: number, message?: string): void {
    const { raw, truncated } = rawSample(head, 0, head.length, this.maxSample);
    this.emitReject(reason, line, offset, raw, length, truncated || length > raw.length, message);
  }

  private emitReject(reason: RejectReason, line: number | null, offset: number, raw: Buffer, rawBytes: number, truncated: boolean, message?: string): void {
    const src = this.src!;
    this.counter.reject(reason);
    this.onReject({ reason, source: src.key, ordinal: src.ordinal, line, offset, raw, rawBytes, truncated, ...(message !== undefined ? { message } : {}) });
  }

  /** Keeps a copy of the next lines of a document; past maxLineBytes the source is read as lines. */
  private bufferDocument(data: Buffer, offset: number, firstLine: number | null): void {
    const doc = this.doc!;
    if (offset + data.length > this.maxLineBytes) {
      this.replayDocument();
      this.lines(data, 0, data.length, offset, firstLine);
      return;
    }
    doc.chunks.push(Buffer.from(data));
    doc.bytes += data.length;
  }

  /** Reads what was buffered for a document as ordinary lines after all. */
  private replayDocument(): void {
    const doc = this.doc;
    if (!doc) return;
    this.doc = null;
    const text = Buffer.concat(doc.chunks, doc.bytes);
    this.lines(text, 0, text.length, doc.offset, doc.line);
  }

  /** The whole buffered source is one record. */
  private parseDocument(): void {
    const doc = this.doc!;
    this.doc = null;
    const text = Buffer.concat(doc.chunks, doc.bytes);
    const sc = this.docScanner;
    const status = sc.scan(text, 0, text.length);
    if (status === INVALID) this.reject('invalid-json', text, 0, text.length, doc.line, doc.offset);
    else if (status === NOT_OBJECT) this.reject('not-an-object', text, 0, text.length, doc.line, doc.offset);
    else this.record(sc, text, 0, text.length, doc.line, doc.offset);
  }

  private takeCompleted(): ColumnBatch[] {
    if (this.completed.length === 0) return NONE;
    const out = this.completed;
    this.completed = [];
    return out;
  }
}
