// The aws-chunked upload framing (Content-Encoding: aws-chunked, x-amz-content-sha256:
// STREAMING-…): the body arrives as `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` chunks, a zero-size
// chunk, optional trailer lines (`x-amz-checksum-crc32:…`) and an empty line. AWS SDKs use it for
// streamed uploads with checksums (the JS SDK's default requestChecksumCalculation); s3rver 3.7.1
// stored the framing as if it were the object. Chunk signatures are not verified (the request's own
// signature is).
import { S3Error } from './errors.js';

const CRLF = Buffer.from('\r\n');
const MAX_LINE = 64 * 1024;

/** Yields the payload of an aws-chunked body; trailer lines are put into `trailers` (lower-cased names). */
export async function* decodeAwsChunked(source: AsyncIterable<Uint8Array>, trailers: Map<string, string>): AsyncGenerator<Buffer> {
  const malformed = (why: string) => new S3Error('InvalidRequest', `Malformed aws-chunked request body: ${why}.`);
  let pending: Buffer = Buffer.alloc(0);
  let state = 'size' as 'size' | 'data' | 'data-end' | 'trailer' | 'done';
  let remaining = 0;
  const line = (): string | null => {
    const at = pending.indexOf(CRLF);
    if (at < 0) {
      if (pending.length > MAX_LINE) throw malformed('a chunk header or trailer line is too long');
      return null;
    }
    const text = pending.subarray(0, at).toString('latin1');
    pending = pending.subarray(at + 2);
    return text;
  };
  for await (const chunk of source) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      if (state === 'size') {
        const header = line();
        if (header === null) break;
        const hex = header.split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw malformed(`bad chunk size ${JSON.stringify(hex)}`);
        remaining = parseInt(hex, 16);
        state = remaining === 0 ? 'trailer' : 'data';
      } else if (state === 'data') {
        if (pending.length === 0) break;
        const n = Math.min(remaining, pending.length);
        yield pending.subarray(0, n);
        pending = pending.subarray(n);
        remaining -= n;
        if (remaining === 0) state = 'data-end';
      } else if (state === 'data-end') {
        if (pending.length < 2) break;
        if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw malformed('a chunk is longer than its declared size');
        pending = pending.subarray(2);
        state = 'size';
      } else if (state === 'trailer') {
        const t = line();
        if (t === null) break;
        if (t === '') {
          state = 'done';
          continue;
        }
        const colon = t.indexOf(':');
        if (colon <= 0) throw malformed(`bad trailer line ${JSON.stringify(t.slice(0, 80))}`);
        trailers.set(t.slice(0, colon).trim().toLowerCase(), t.slice(colon + 1).trim());
      } else {
        if (pending.length > 0) throw malformed('data after the final chunk');
        break;
      }
    }
  }
  // Some clients end right after the zero-size chunk, without the empty line.
  if (state === 'trailer' && pending.length === 0) return;
  if (state !== 'done') throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
}
