// Streaming gunzip that tells a truncated stream from a corrupt one and loses no decoded byte.
//
// Why not `pipeline(source, createGunzip())`: zlib processes the last chunk written before end()
// together with the final flush, and when that call fails (a truncated stream always fails there)
// its output is discarded, so the lines just before the cut would vanish. Here every input slice is
// written and fully processed before end() is called, so the failing final flush has no input and
// nothing decoded is lost. Memory stays bounded: zlib itself pauses inside a slice while its output
// is not read (zip bombs included), and we only read as fast as the consumer pulls.
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export type GunzipOutcome =
  | { ok: true; compressedBytes: number; decodedBytes: number }
  | {
      ok: false;
      kind: 'truncated-gzip' | 'corrupt-gzip';
      message: string;
      /** zlib's own words ("incorrect data check", "invalid block type", …). */
      zlibMessage: string;
      /** Compressed bytes zlib had consumed when it failed (whole slices, so approximate). */
      compressedBytes: number;
      /** Decoded bytes delivered before the failure (zlib drops the output of the call that fails). */
      decodedBytes: number;
      rawHead: Buffer;
    };

const SLICE = 64 * 1024;
const TRAILER = 8;

/**
 * Yields the decoded bytes of `source`; when the stream is over, `result.outcome` tells how it
 * ended. Errors of the source itself (storage, network) are thrown. Stopping early destroys the source.
 * @param keepRawBytes how many raw bytes to keep for the `rawHead` of a failed outcome
 */
export async function* gunzip(source: Readable, result: { outcome?: GunzipOutcome }, keepRawBytes = 0): AsyncGenerator<Buffer, void, undefined> {
  const gz = createGunzip({ chunkSize: SLICE });
  let wake: () => void = () => undefined;
  const notify = () => wake();
  let ended = false;
  let zlibError: (Error & { code?: string }) | null = null;
  let sourceError: unknown = null;
  let stopped = false;
  let compressedBytes = 0;
  let decodedBytes = 0;
  const head: Buffer[] = [];
  let headLen = 0;

  gz.on('readable', notify);
  gz.on('end', () => {
    ended = true;
    notify();
  });
  gz.on('error', (err) => {
    zlibError = err;
    notify();
  });

  // Resolves once zlib has consumed the whole slice. When zlib fails on a slice it never calls that
  // write's callback, so the stream closing counts as done too.
  const written = (slice: Buffer) =>
    new Promise<void>((resolve) => {
      const done = () => {
        gz.off('close', done);
        resolve();
      };
      gz.on('close', done);
      gz.write(slice, done);
    });

  const writer = (async () => {
    try {
      const write = async (bytes: Buffer): Promise<boolean> => {
        for (let o = 0; o < bytes.length; o += SLICE) {
          if (stopped || gz.destroyed) return false;
          const slice = bytes.subarray(o, o + SLICE);
          await written(slice);
          compressedBytes += slice.length;
        }
        return !stopped && !gz.destroyed;
      };
      // The last 8 bytes (the CRC32 and size trailer when the object is whole) are written on their
      // own, so that a failed CRC check fails a call that decodes nothing and discards nothing.
      let held = Buffer.alloc(0);
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (headLen < keepRawBytes) {
          head.push(chunk.subarray(0, keepRawBytes - headLen));
          headLen += Math.min(chunk.length, keepRawBytes - headLen);
        }
        const data = chunk.length >= TRAILER ? chunk : Buffer.concat([held, chunk]);
        if (chunk.length >= TRAILER && !(await write(held))) return;
        const cut = data.length - TRAILER;
        if (cut > 0 && !(await write(data.subarray(0, cut)))) return;
        held = Buffer.from(data.subarray(Math.max(0, cut)));
      }
      if ((await write(held)) && !stopped && !gz.destroyed) gz.end();
    } catch (err) {
      if (!stopped) {
        sourceError = err;
        notify();
      }
    }
  })();

  try {
    for (;;) {
      const chunk = gz.read() as Buffer | null;
      if (chunk !== null) {
        decodedBytes += chunk.length;
        yield chunk;
        continue;
      }
      if (sourceError) throw sourceError;
      if (zlibError) {
        result.outcome = outcome(zlibError, compressedBytes, decodedBytes, Buffer.concat(head, headLen));
        return;
      }
      if (ended) {
        result.outcome = { ok: true, compressedBytes, decodedBytes };
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stopped = true;
    gz.destroy();
    source.destroy();
    await writer;
  }
}

function outcome(err: Error & { code?: string }, compressedBytes: number, decodedBytes: number, rawHead: Buffer): GunzipOutcome {
  if (err.code === 'Z_BUF_ERROR') {
    const message = `gzip stream ends early: truncated after ${compressedBytes} compressed bytes (${decodedBytes} bytes decoded); the complete lines before the cut were read, re-upload the object to read the rest`;
    return { ok: false, kind: 'truncated-gzip', message, zlibMessage: err.message, compressedBytes, decodedBytes, rawHead };
  }
  if (err.code === 'Z_DATA_ERROR') {
    return { ok: false, kind: 'corrupt-gzip', message: `corrupt gzip data after ${decodedBytes} decoded bytes (${err.message})`, zlibMessage: err.message, compressedBytes, decodedBytes, rawHead };
  }
  throw err;
}
