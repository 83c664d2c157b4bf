// An in-memory Storage for property tests of the reader: it serves streams in chunks of random
// sizes (seeded), so line and block boundaries land everywhere relative to chunk boundaries.
// Real storages are exercised by the other read tests and the storage contract suite.
import { Readable } from 'node:stream';
import { StorageError, type ByteRange, type ObjectInfo, type Storage } from '../../../job-runner/src/storage/storage.js';

export class ChunkyMemoryStorage implements Storage {
  readonly root = 'mem://test/';
  readonly objects = new Map<string, Buffer>();
  /** Bytes served by get() and stream() since construction: checks that reads stay near their range. */
  served = 0;
  streamsOpened = 0;

  constructor(private readonly rand: () => number, private readonly maxChunk = 97) {}

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    for (const key of [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()) yield { key, size: this.objects.get(key)!.length };
  }
  async head(key: string): Promise<ObjectInfo | null> {
    const o = this.objects.get(key);
    return o ? { key, size: o.length } : null;
  }
  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const o = this.objects.get(key);
    if (!o) throw new StorageError('not-found', `object ${this.root}${key} does not exist`, false);
    const bytes = Buffer.from(range ? o.subarray(range.start, range.end) : o);
    this.served += bytes.length;
    return bytes;
  }
  async stream(key: string, range?: ByteRange): Promise<Readable> {
    const o = await this.get(key, range);
    this.served -= o.length; // counted as the chunks are consumed
    this.streamsOpened++;
    const chunks: Buffer[] = [];
    for (let i = 0; i < o.length; ) {
      const n = 1 + Math.floor(this.rand() * this.maxChunk);
      chunks.push(o.subarray(i, i + n));
      i += n;
    }
    const count = (n: number) => (this.served += n);
    async function* gen() {
      for (const c of chunks) {
        count(c.length);
        yield c;
      }
    }
    return Readable.from(gen(), { objectMode: false });
  }
  async put(key: string, body: Buffer | Uint8Array | string): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(c));
    this.objects.set(key, Buffer.concat(parts));
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }
}

/** Mulberry32: a tiny seeded PRNG so failures reproduce from the printed seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
