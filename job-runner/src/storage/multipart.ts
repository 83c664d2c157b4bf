// Multipart upload with per-part retries and bounded buffering.
//
// Not @aws-sdk/lib-storage's Upload: it cannot retry a part through our policy (the SDK's own retry
// is off so that one policy, with an injectable clock, governs every request), and a failed part
// fails the whole upload, whose streamed body cannot be replayed. Here each part's buffer is kept
// until that part is acknowledged, so a part is retried on its own.
//
// Memory: partSize × (partConcurrency in flight + 1 being filled).
import type { Readable } from 'node:stream';

/** The calls a multipart upload needs, each already retried by the caller. */
export interface MultipartCalls {
  create(): Promise<string>;
  uploadPart(uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  complete(uploadId: string, parts: { PartNumber: number; ETag: string }[]): Promise<void>;
  abort(uploadId: string): Promise<void>;
}

/** S3 allows at most 10,000 parts. */
const MAX_PARTS = 10_000;

/**
 * Uploads `parts` (each but the last at least S3's minimum part size) with at most `concurrency`
 * parts in flight. Aborts the upload on failure so no orphan parts are billed.
 */
export async function uploadParts(calls: MultipartCalls, parts: AsyncIterable<Buffer>, concurrency: number): Promise<number> {
  const uploadId = await calls.create();
  const done: { PartNumber: number; ETag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let partNumber = 0;
  try {
    for await (const body of parts) {
      if (failure) break;
      partNumber++;
      if (partNumber > MAX_PARTS) throw new Error(`object too large: more than ${MAX_PARTS} parts (raise partSize)`);
      const n = partNumber;
      const task: Promise<void> = calls.uploadPart(uploadId, n, body).then(
        (etag) => {
          done.push({ PartNumber: n, ETag: etag });
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    done.sort((a, b) => a.PartNumber - b.PartNumber);
    await calls.complete(uploadId, done);
    return partNumber;
  } catch (err) {
    await Promise.all(inFlight);
    await calls.abort(uploadId).catch(() => undefined);
    throw err;
  }
}

/** Cuts a byte stream into parts of exactly `partSize` bytes (the last may be shorter), copying once. */
export async function* partsOf(body: AsyncIterable<Uint8Array> | Readable, partSize: number, first?: Buffer): AsyncGenerator<Buffer, void, undefined> {
  let part = Buffer.allocUnsafe(partSize);
  let filled = 0;
  const take = (chunk: Uint8Array): Buffer[] => {
    const full: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(partSize - filled, chunk.length - off);
      part.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === partSize) {
        full.push(part);
        part = Buffer.allocUnsafe(partSize);
        filled = 0;
      }
    }
    return full;
  };
  if (first) yield* take(first);
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    yield* take(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  if (filled > 0) yield part.subarray(0, filled);
}
