// Reads one input split as blocks of whole lines (see items.ts), streaming, with memory bounded by
// blockBytes + maxLineBytes whatever the object's size.
//
// The split rule is Hadoop's LineRecordReader rule: a split [start, end) owns exactly the lines that
// START inside it. A split with start > 0 looks at byte start-1: if it is '\n' a line starts at
// `start`; otherwise the partial first line belongs to the previous split and is skipped. The last
// owned line may run past `end`, and the split reads on until it finishes it. So over any set of
// splits that tile an object, every line is read exactly once.
//
// Gzip objects are never split: they are verified, then decoded as one stream (gzipObject.ts). A
// corrupt stream is one BrokenGzipItem and nothing else; a truncated one ends the read with one
// BrokenGzipItem after the complete lines decoded before the cut.
import type { Readable } from 'node:stream';
import type { InputSplit } from '../run/types.js';
import type { Storage } from '../storage/storage.js';
import { DEFAULT_GZIP_IN_MEMORY_BYTES, readGzipObject } from './gzipObject.js';
import { DEFAULT_BLOCK_BYTES, type ReadItem, type ReadSplitOptions } from './items.js';
import { LineBlocker } from './lineBlocks.js';

export type { ReadItem, ReadSplitOptions, LinesItem, OversizedItem, BrokenGzipItem } from './items.js';

/** Bytes read past `end` in the first request, enough to finish the last line almost always. */
const LOOKAHEAD = 256 * 1024;
/** Further reads past `end` (a very long last line) double from here up to MAX_WINDOW. */
const FIRST_WINDOW = 1 << 20;
const MAX_WINDOW = 64 << 20;
/** Ranges up to this size are read with one get() instead of a stream (a song file: one call). */
export const DEFAULT_WHOLE_READ_BYTES = 1 << 20;

export async function* readSplit(storage: Storage, split: InputSplit, opts: ReadSplitOptions): AsyncGenerator<ReadItem, void, undefined> {
  checkSplit(storage, split);
  const blockBytes = opts.blockBytes ?? DEFAULT_BLOCK_BYTES;
  if (split.size === 0 || split.start >= split.end) return;
  const whole = split.start === 0 && split.end >= split.size;
  const blockerAt = (start: number) =>
    new LineBlocker(
      {
        maxLineBytes: opts.maxLineBytes,
        blockBytes,
        maxRejectSampleBytes: opts.maxRejectSampleBytes,
        firstBlockBytes: whole ? Math.max(blockBytes, opts.maxLineBytes) : undefined,
      },
      start,
      start === 0 ? 1 : null,
      whole ? Infinity : split.end,
    );
  if (split.compressed) {
    const inMemoryBytes = opts.gzipInMemoryBytes ?? DEFAULT_GZIP_IN_MEMORY_BYTES;
    yield* readGzipObject(storage, split, blockerAt(0), { sampleBytes: opts.maxRejectSampleBytes, inMemoryBytes });
    return;
  }

  // With start > 0, look for the end of the previous split's last line first, from byte start-1.
  let blocker = split.start === 0 ? blockerAt(0) : null;
  let pos = split.start === 0 ? 0 : split.start - 1;
  for await (const chunk of rangeChunks(storage, split.key, pos, split.end, split.size, opts.wholeReadBytes ?? DEFAULT_WHOLE_READ_BYTES)) {
    let data = chunk;
    if (!blocker) {
      const nl = chunk.indexOf(0x0a);
      pos += chunk.length;
      if (nl === -1) {
        if (pos + 1 >= split.end) return; // the next line starts at or after `end`: not ours
        continue;
      }
      const lineStart = pos - chunk.length + nl + 1;
      if (lineStart >= split.end) return;
      blocker = blockerAt(lineStart);
      data = chunk.subarray(nl + 1);
    }
    for (const item of blocker.push(data)) yield item;
    if (blocker.done) return;
  }
  if (blocker) yield* blocker.finish();
}

/**
 * The object's bytes from `from`: first up to `end` plus a lookahead, then in growing windows until
 * the consumer stops or the object (as listed: `size`) ends. Bounded reads keep S3 from sending
 * bytes nobody wants, without a second request in the common case.
 */
async function* rangeChunks(storage: Storage, key: string, from: number, end: number, size: number, wholeReadBytes: number): AsyncGenerator<Buffer, void, undefined> {
  let start = from;
  let stop = Math.min(size, end + LOOKAHEAD);
  let window = FIRST_WINDOW;
  while (start < stop) {
    if (stop - start <= wholeReadBytes) {
      // A small read (a song file, the tail of a split) in one call: no stream to set up and drain.
      const bytes = await storage.get(key, { start, end: stop });
      if (bytes.length > 0) yield bytes;
      if (bytes.length < stop - start) return;
    } else {
      const stream: Readable = await storage.stream(key, { start, end: stop });
      let got = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        got += chunk.length;
        yield chunk;
      }
      if (got < stop - start) return; // the object is shorter than listed: it ends here
    }
    start = stop;
    stop = Math.min(size, stop + window);
    window = Math.min(window * 2, MAX_WINDOW);
  }
}

function checkSplit(storage: Storage, split: InputSplit): void {
  const ok =
    Number.isSafeInteger(split.start) && Number.isSafeInteger(split.end) && Number.isSafeInteger(split.size) &&
    split.start >= 0 && split.start <= split.end && split.end <= split.size;
  if (!ok) throw new Error(`invalid split of ${storage.root}${split.key}: [${split.start}, ${split.end}) of ${split.size} bytes`);
  if (split.compressed && (split.start !== 0 || split.end !== split.size)) {
    throw new Error(`invalid split of ${storage.root}${split.key}: a gzip object cannot be split (got [${split.start}, ${split.end}) of ${split.size} bytes)`);
  }
}
