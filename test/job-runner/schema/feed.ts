// Feeds a parser the way the reader does: blocks of whole lines (cut at random line boundaries
// when a random source is given), with each block's object offset and first line number.
import type { ColumnBatch } from '../../../job-runner/src/columnar/batch.js';
import type { ParseInput, RecordParser, SourceInfo } from '../../../job-runner/src/schema/recordParser.js';
import type { RejectedRecord } from '../../../job-runner/src/schema/rejects.js';
import type { Rng } from './lineGen.js';

export function* lineBlocks(text: Buffer, r: Rng | null, firstLine: number | null = 1, base = 0): Generator<ParseInput> {
  let at = 0;
  let line = firstLine;
  while (at < text.length) {
    let end = text.length;
    if (r) {
      const want = at + 1 + Math.floor(r() * 4000);
      if (want < text.length) {
        const nl = text.indexOf(0x0a, want);
        end = nl < 0 ? text.length : nl + 1;
      }
    }
    const data = text.subarray(at, end);
    yield { type: 'lines', data, offset: base + at, firstLine: line };
    if (line !== null) for (const b of data) if (b === 0x0a) line++;
    at = end;
  }
}

/** Runs whole sources through a parser; returns every batch and reject. */
export function feedSources(
  make: (onReject: (r: RejectedRecord) => void) => RecordParser,
  sources: { src: SourceInfo; items: Iterable<ParseInput> }[],
): { batches: ColumnBatch[]; rejects: RejectedRecord[]; parser: RecordParser } {
  const rejects: RejectedRecord[] = [];
  const parser = make((x) => rejects.push(x));
  const batches: ColumnBatch[] = [];
  for (const { src, items } of sources) {
    parser.beginSource(src);
    for (const item of items) batches.push(...parser.push(item));
    batches.push(...parser.endSource());
  }
  batches.push(...parser.finish());
  return { batches, rejects, parser };
}
