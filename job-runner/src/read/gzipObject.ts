// Reads a .gz object for the parser: verify first, then parse (docs/schema-on-read.md, "gzip").
//
// Deflate rarely notices damage where it happens: usually only the CRC-32/ISIZE trailer does, after
// the damaged region has already decoded to garbage, and some garbage lines are valid JSON with
// plausible values. So no line of a gzip object reaches the parser before the whole stream has been
// inflated once and found intact. What the integrity pass finds decides the read:
//
//   integrity pass ──ok──────────────▶ parse pass ──▶ lines ──▶ (must end ok too)
//                  ──truncated-gzip──▶ parse pass ──▶ complete lines, then the tail as one reject
//                                                     (must end truncated at the same point)
//                  ──corrupt-gzip────▶ one corrupt-gzip reject for the whole object, no lines
//
// A truncated stream (the input ends before the trailer) is an exact prefix of the object's text:
// inflate only ever decodes what the bytes say, and the cut only removes bytes. Corruption is different:
// bytes that say something else. Hence the asymmetry.
//
// Memory: an object of at most `inMemoryBytes` stored bytes is fetched once and both passes read the
// buffer; a larger one is streamed twice (two GETs), holding nothing but zlib's window and one output
// chunk. If the object changes between the GETs, the second pass does not end as the first did and the
// read fails (retryable): never a mix of two versions, never records from an unverified stream.
import { Readable } from 'node:stream';
import type { InputSplit } from '../run/types.js';
import type { Storage } from '../storage/storage.js';
import { gunzip, type GunzipOutcome } from './gunzip.js';
import type { BrokenGzipItem, ReadItem } from './items.js';
import type { LineBlocker } from './lineBlocks.js';

/**
 * Objects up to this many stored bytes are verified and parsed from one GET held in memory (see
 * docs/schema-on-read.md for the choice): a second GET of a small object costs a round trip that the
 * bytes do not, while above it re-reading costs less than holding the object.
 */
export const DEFAULT_GZIP_IN_MEMORY_BYTES = 16 * 1024 * 1024;

export type GzipReadPlan = 'in-memory' | 'two-gets';

export function gzipReadPlan(storedBytes: number, inMemoryBytes: number): GzipReadPlan {
  return storedBytes <= inMemoryBytes ? 'in-memory' : 'two-gets';
}

/** The object's text changed between the integrity pass and the parse pass: retry the shard. */
export class GzipObjectChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GzipObjectChangedError';
  }
}

export interface GzipReadOptions {
  /** Raw text kept for a reject (the quarantine's sample size). */
  sampleBytes: number;
  inMemoryBytes: number;
}

export async function* readGzipObject(storage: Storage, split: InputSplit, blocker: LineBlocker, opts: GzipReadOptions): AsyncGenerator<ReadItem, void, undefined> {
  const where = `${storage.root}${split.key}`;
  let held: Buffer | null = null;
  const open = async (): Promise<Readable> => {
    if (gzipReadPlan(split.size, opts.inMemoryBytes) === 'two-gets') return storage.stream(split.key);
    held ??= await storage.get(split.key);
    return Readable.from([held], { objectMode: false });
  };

  const verified = await integrityPass(await open(), opts.sampleBytes);
  if (!verified.outcome.ok && verified.outcome.kind === 'corrupt-gzip') {
    const outcome = verified.outcome;
    // zlib stops reading at the error, so the raw head may hold only the first chunk(s) read.
    const rawWanted = Math.min(opts.sampleBytes, split.size);
    if (outcome.decodedBytes === 0 && outcome.rawHead.length < rawWanted) {
      const inMemory = held as Buffer | null; // assigned inside open()
      outcome.rawHead = inMemory ? inMemory.subarray(0, rawWanted) : await storage.get(split.key, { start: 0, end: rawWanted });
    }
    yield quarantineWhole(outcome, verified.decodedHead, split.size, where);
    return;
  }

  const result: { outcome?: GunzipOutcome } = {};
  for await (const chunk of gunzip(await open(), result)) {
    for (const item of blocker.push(chunk)) yield item;
  }
  held = null;
  const parsed = result.outcome!;
  const changed = secondPassProblem(verified.outcome, parsed, where);
  if (changed) throw new GzipObjectChangedError(changed);
  if (parsed.ok) yield* blocker.finish();
  else yield* blocker.cut('truncated-gzip', parsed.message);
}

/** Inflates the whole stream, keeping only the first `keep` decoded bytes; the outcome says how it ended. */
export async function integrityPass(source: Readable, keep: number): Promise<{ outcome: GunzipOutcome; decodedHead: Buffer }> {
  const result: { outcome?: GunzipOutcome } = {};
  const head: Buffer[] = [];
  let headLen = 0;
  for await (const chunk of gunzip(source, result, keep)) {
    if (headLen >= keep) continue;
    const part = Buffer.from(chunk.subarray(0, keep - headLen));
    head.push(part);
    headLen += part.length;
  }
  return { outcome: result.outcome!, decodedHead: Buffer.concat(head, headLen) };
}

/**
 * The reject standing for a corrupt object: line 1, offset 0, its first decoded bytes (or its first
 * raw bytes when nothing decoded), and `length` the bytes its sample is the head of.
 */
export function quarantineWhole(outcome: Extract<GunzipOutcome, { ok: false }>, decodedHead: Buffer, storedBytes: number, where: string): BrokenGzipItem {
  const showRaw = outcome.decodedBytes === 0;
  return {
    type: 'corrupt-gzip',
    offset: 0,
    line: 1,
    tail: showRaw ? outcome.rawHead : decodedHead,
    length: showRaw ? storedBytes : outcome.decodedBytes,
    message: corruptionMessage(outcome, storedBytes, where),
  };
}

/** What failed, where, and what to do, in a person's terms. */
export function corruptionMessage(outcome: Extract<GunzipOutcome, { ok: false }>, storedBytes: number, where: string): string {
  const what = describeZlibError(outcome.zlibMessage, outcome.decodedBytes);
  return (
    `corrupt gzip object ${where}: ${what} (zlib: ${outcome.zlibMessage}) after ${outcome.compressedBytes} of ` +
    `${storedBytes} compressed bytes, ${outcome.decodedBytes} bytes decoded before the error. ` +
    `The whole object is quarantined and none of its lines were read, since damaged gzip data decodes to ` +
    `plausible garbage; re-upload the object from its source.`
  );
}

function describeZlibError(zlibMessage: string, decodedBytes: number): string {
  if (/incorrect header check/.test(zlibMessage) && decodedBytes === 0) return 'not a gzip stream (named .gz but its first bytes are not a gzip header)';
  if (/incorrect header check/.test(zlibMessage)) return 'bytes after the last gzip member are not a gzip header';
  if (/header/.test(zlibMessage) || /unknown compression method/.test(zlibMessage)) return 'the gzip header is damaged';
  if (/incorrect data check/.test(zlibMessage)) return 'the CRC-32 of the decoded data does not match the trailer';
  if (/incorrect length check/.test(zlibMessage)) return 'the decoded size does not match the trailer (ISIZE)';
  return 'the deflate data is damaged';
}

/**
 * Null when the parse pass ended as the integrity pass did; otherwise why the object must have
 * changed between the two reads.
 */
export function secondPassProblem(first: GunzipOutcome, second: GunzipOutcome, where: string): string | null {
  const end = (o: GunzipOutcome) => (o.ok ? 'a complete stream' : `a ${o.kind} stream`);
  if (first.ok === second.ok && (first.ok || (!second.ok && first.kind === second.kind)) && first.decodedBytes === second.decodedBytes) return null;
  return (
    `gzip object ${where} changed while it was read: the integrity pass found ${end(first)} of ${first.decodedBytes} decoded bytes, ` +
    `the parse pass ${end(second)} of ${second.decodedBytes}. The shard fails so that a retry reads one version; ` +
    `do not overwrite input objects while a run reads them.`
  );
}
