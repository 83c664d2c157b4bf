// The reference model of "lines of an object" that readSplit must agree with, written the obvious
// way (split the whole buffer), and a flattener that turns readSplit's items back into lines.
import type { ReadItem } from '../../../job-runner/src/read/items.js';

export interface ModelLine {
  offset: number;
  /** 1-based. */
  line: number;
  /** The line's bytes without its '\n' (a '\r' before it is kept). */
  bytes: Buffer;
}

export function modelLines(data: Buffer): ModelLine[] {
  const out: ModelLine[] = [];
  let start = 0;
  let n = 1;
  while (start < data.length) {
    const nl = data.indexOf(0x0a, start);
    const end = nl === -1 ? data.length : nl;
    out.push({ offset: start, line: n++, bytes: data.subarray(start, end) });
    start = end + 1;
  }
  return out;
}

/** Length as the reader measures it: without '\n' and without one '\r' before it. */
export function contentLength(bytes: Buffer): number {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
}

export interface SeenLine {
  offset: number;
  line: number | null;
  /** Present for lines from blocks. */
  bytes?: Buffer;
  oversized?: { length: number; head: Buffer };
}

/** Lines of the items, in order; checks each block's own invariants on the way. */
export function flatten(items: ReadItem[], problems: string[]): SeenLine[] {
  const out: SeenLine[] = [];
  for (const item of items) {
    if (item.type === 'oversized') {
      out.push({ offset: item.offset, line: item.line, oversized: { length: item.length, head: item.head } });
      continue;
    }
    if (item.type !== 'lines') continue;
    if (item.data.length === 0) problems.push(`empty block at ${item.offset}`);
    let start = 0;
    let line = item.firstLine;
    while (start < item.data.length) {
      const nl = item.data.indexOf(0x0a, start);
      const end = nl === -1 ? item.data.length : nl;
      out.push({ offset: item.offset + start, line, bytes: item.data.subarray(start, end) });
      start = end + 1;
      if (line !== null) line++;
    }
  }
  return out;
}
