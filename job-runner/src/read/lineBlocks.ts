// Cuts a byte stream into blocks of whole lines. Pure and synchronous: bytes in, items out, so the
// split rule and the memory bound are tested without any I/O.
//
// Memory: the block being filled (< blockBytes, plus the line that crosses it) and the current
// incomplete line (at most maxLineBytes + 1 bytes; past that the line is known to be oversized, only
// its head is kept and the rest is counted and dropped). Nothing else is retained.
//
//   push(chunk) ──▶ lines completed ──▶ block ──(≥ blockBytes)──▶ LinesItem
//                └▶ line too long  ──▶ flush block, OversizedItem
//   a line starting at ≥ limit ──▶ done (the next split owns it)
import type { BrokenGzipItem, LinesItem, OversizedItem, ReadItem } from './items.js';

const NL = 0x0a;
const CR = 0x0d;

export interface LineBlockerOptions {
  maxLineBytes: number;
  blockBytes: number;
  maxRejectSampleBytes: number;
  /**
   * The first block is held until it reaches this size (default blockBytes). A whole-object read
   * sets it to max(blockBytes, maxLineBytes) so that a small object, pretty-printed JSON included,
   * always arrives as one block.
   */
  firstBlockBytes?: number;
}

export class LineBlocker {
  private readonly max: number;
  private readonly sample: number;
  private threshold: number;
  private readonly blockBytes: number;

  /** Offset of the next byte pushed. */
  private pos: number;
  /** The current, incomplete line. */
  private lineStart: number;
  private lineNo: number | null;
  private partial: Buffer[] = [];
  private partialLen = 0;
  private lastByte = -1;
  /** Oversized mode: the current line is too long; only its head is kept. */
  private skipping = false;
  private skipHead: Buffer = Buffer.alloc(0);

  private block: Buffer[] = [];
  private blockLen = 0;
  private blockOffset = 0;
  private blockFirstLine: number | null = null;

  private finished = false;
  /** Set once a line starts at or past `limit`: the caller can stop reading. */
  done: boolean;

  /**
   * @param start offset of the first byte that will be pushed; a line starts there
   * @param firstLine its 1-based line number, or null when unknown
   * @param limit lines starting at or after this offset are not ours
   */
  constructor(opts: LineBlockerOptions, start: number, firstLine: number | null, private readonly limit = Infinity) {
    if (!(opts.maxLineBytes >= 1) || !(opts.blockBytes >= 1) || !(opts.maxRejectSampleBytes >= 0)) {
      throw new Error(`invalid read options: maxLineBytes ${opts.maxLineBytes}, blockBytes ${opts.blockBytes}, maxRejectSampleBytes ${opts.maxRejectSampleBytes}`);
    }
    this.max = opts.maxLineBytes;
    this.sample = opts.maxRejectSampleBytes;
    this.blockBytes = opts.blockBytes;
    this.threshold = Math.max(opts.firstBlockBytes ?? opts.blockBytes, opts.blockBytes);
    this.pos = start;
    this.lineStart = start;
    this.lineNo = firstLine;
    this.done = start >= limit;
  }

  /** Feeds the next bytes; returns the items they complete. Ignores input once done. */
  push(chunk: Buffer): ReadItem[] {
    const out: ReadItem[] = [];
    if (this.done || this.finished || chunk.length === 0) return out;
    const base = this.pos;
    this.pos += chunk.length;
    const last = chunk.lastIndexOf(NL);
    if (last === -1) {
      this.extendPartial(chunk);
      return out;
    }
    // Lines strictly inside the chunk are shorter than the chunk: when that cannot exceed the limit,
    // they are taken as whole ranges (no per-line work but counting); else line by line.
    const wholeRanges = chunk.length - 1 <= this.max;
    let p = 0;
    for (let i = chunk.indexOf(NL, 0); i !== -1 && i <= last; i = chunk.indexOf(NL, p)) {
      this.completeLine(chunk, p, i, out);
      p = i + 1;
      if (this.nextLine(base + p, 1, out)) return out;
      if (wholeRanges && p <= last) {
        if (this.appendLines(chunk, p, last + 1, base, out)) return out;
        p = last + 1;
        break;
      }
    }
    if (p < chunk.length) this.extendPartial(chunk.subarray(p));
    return out;
  }

  /** `lines` lines ended; the next starts at `start`. True when it is past the limit (done). */
  private nextLine(start: number, lines: number, out: ReadItem[]): boolean {
    this.lineStart = start;
    if (this.lineNo !== null) this.lineNo += lines;
    if (start < this.limit) return false;
    this.done = true;
    this.flushBlock(out);
    return true;
  }

  /**
   * Appends the whole lines chunk[from, to) (to - 1 is a '\n'), none longer than the limit, cutting
   * blocks at the first line end past the threshold. True when the limit was reached (done).
   */
  private appendLines(chunk: Buffer, from: number, to: number, base: number, out: ReadItem[]): boolean {
    // Lines starting at or after `limit` belong to the next split: end the range at the newline
    // before the first of them.
    if (base + to > this.limit) {
      const q = chunk.indexOf(NL, Math.max(from, this.limit - 1 - base));
      if (q !== -1 && q < to) to = q + 1;
    }
    while (from < to) {
      if (this.blockLen === 0) {
        this.blockOffset = base + from;
        this.blockFirstLine = this.lineNo;
      }
      const room = this.threshold - this.blockLen;
      const end = to - from <= room ? to : chunk.indexOf(NL, from + room - 1) + 1;
      this.block.push(chunk.subarray(from, end));
      this.blockLen += end - from;
      const lines = this.lineNo === null ? 0 : countNewlines(chunk, from, end);
      from = end;
      if (this.blockLen >= this.threshold) this.flushBlock(out);
      if (this.nextLine(base + end, lines, out)) return true;
    }
    return false;
  }

  /** The object ended: its last line needs no '\n'. Returns the remaining items. */
  finish(): ReadItem[] {
    const out: ReadItem[] = [];
    if (this.finished) return out;
    this.finished = true;
    if (!this.done && (this.skipping || this.partialLen > 0)) this.completeLine(Buffer.alloc(0), 0, 0, out);
    this.flushBlock(out);
    return out;
  }

  /**
   * The stream broke (a truncated or corrupt gzip): flush the complete lines and report the
   * incomplete tail, which is not a line of the object.
   */
  cut(type: BrokenGzipItem['type'], message: string): ReadItem[] {
    const out: ReadItem[] = [];
    this.finished = true;
    this.flushBlock(out);
    const tail = this.skipping ? this.skipHead : Buffer.concat(this.partial, this.partialLen).subarray(0, this.sample);
    out.push({ type, offset: this.lineStart, line: this.lineNo, tail: Buffer.from(tail), length: this.partialLen, message });
    return out;
  }

  /** Bytes held right now (block + incomplete line, or an oversized line's head). */
  get retainedBytes(): number {
    return this.blockLen + (this.skipping ? this.skipHead.length : this.partialLen);
  }

  private extendPartial(bytes: Buffer): void {
    this.lastByte = bytes[bytes.length - 1]!;
    this.partialLen += bytes.length;
    if (this.skipping) {
      this.growHead(bytes);
      return;
    }
    this.partial.push(bytes);
    // Past max + 1 bytes the line is oversized whatever follows (at most one '\r' is not content).
    if (this.partialLen > this.max + 1) {
      this.skipping = true;
      this.skipHead = Buffer.from(Buffer.concat(this.partial, this.partialLen).subarray(0, this.sample));
      this.partial = [];
    }
  }

  /** The head of an oversized line is its first `sample` bytes, however the line was chunked. */
  private growHead(bytes: Buffer): void {
    if (this.skipHead.length >= this.sample || bytes.length === 0) return;
    this.skipHead = Buffer.concat([this.skipHead, bytes.subarray(0, this.sample - this.skipHead.length)]);
  }

  /** The line made of `partial` plus chunk[p, i) ends here (a '\n' at i, or the end of the object). */
  private completeLine(chunk: Buffer, p: number, i: number, out: ReadItem[]): void {
    const rawLen = this.partialLen + (i - p);
    const last = i > p ? chunk[i - 1]! : this.lastByte;
    const length = rawLen > 0 && last === CR ? rawLen - 1 : rawLen;
    if (this.skipping || length > this.max) {
      this.flushBlock(out);
      if (this.skipping) this.growHead(chunk.subarray(p, i));
      const head = this.skipping ? this.skipHead : Buffer.from(Buffer.concat([...this.partial, chunk.subarray(p, i)]).subarray(0, this.sample));
      const item: OversizedItem = { type: 'oversized', offset: this.lineStart, line: this.lineNo, length, head };
      out.push(item);
    } else {
      if (this.blockLen === 0) {
        this.blockOffset = this.lineStart;
        this.blockFirstLine = this.lineNo;
      }
      for (const piece of this.partial) this.block.push(piece);
      const end = i < chunk.length ? i + 1 : i; // include the '\n' when there is one
      if (end > p) this.block.push(chunk.subarray(p, end));
      this.blockLen += this.partialLen + (end - p);
      if (this.blockLen >= this.threshold) this.flushBlock(out);
    }
    this.partial = [];
    this.partialLen = 0;
    this.lastByte = -1;
    this.skipping = false;
  }

  private flushBlock(out: ReadItem[]): void {
    if (this.blockLen === 0) return;
    const data = this.block.length === 1 ? this.block[0]! : Buffer.concat(this.block, this.blockLen);
    const item: LinesItem = { type: 'lines', data, offset: this.blockOffset, firstLine: this.blockFirstLine };
    out.push(item);
    this.block = [];
    this.blockLen = 0;
    this.threshold = this.blockBytes;
  }
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i !== -1 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}
