// An object written incrementally: the producer awaits write(chunk) and the storage's putStream pulls
// the chunks, so a shard's staged data and its rejects stream out with at most a few chunks in memory.
// The object appears only when close() succeeds (LocalStorage renames a temp file, S3 completes the
// multipart upload); abort() makes putStream fail, so a killed or failed shard leaves no partial object.
import type { Storage } from '../storage/storage.js';

const MAX_QUEUED = 4;

export class ObjectSink {
  /** Bytes written so far: the offset of the next chunk in the object. */
  bytes = 0;
  private readonly queue: Uint8Array[] = [];
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;
  private ended = false;
  private failure: Error | null = null;
  private readonly upload: Promise<void>;

  constructor(
    store: Storage,
    readonly key: string,
    contentType: string,
  ) {
    this.upload = store.putStream(key, this.chunks(), { contentType });
    // Observed by write/close/abort; never an unhandled rejection in between.
    this.upload.catch(() => undefined);
  }

  private async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const chunk = this.queue.shift();
      if (chunk) {
        this.wake('producer');
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  private wake(who: 'producer' | 'consumer'): void {
    const fn = who === 'producer' ? this.wakeProducer : this.wakeConsumer;
    if (who === 'producer') this.wakeProducer = null;
    else this.wakeConsumer = null;
    fn?.();
  }

  /** Queues a chunk; waits while the upload is behind. Rejects if the upload failed. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.ended || this.failure) throw new Error(`write to ${this.key} after close or abort`);
    if (chunk.byteLength === 0) return;
    this.queue.push(chunk);
    this.bytes += chunk.byteLength;
    this.wake('consumer');
    while (this.queue.length > MAX_QUEUED) {
      const drained = new Promise<void>((resolve) => (this.wakeProducer = resolve));
      await Promise.race([drained, this.upload.then(() => Promise.reject(new Error(`upload of ${this.key} ended early`)))]);
    }
  }

  /** Ends the object and waits until it is stored. */
  async close(): Promise<void> {
    this.ended = true;
    this.wake('consumer');
    await this.upload;
  }

  /** Fails the upload so that no object (or the previous one) stays under the key. */
  async abort(reason: Error): Promise<void> {
    if (this.ended && !this.failure) return;
    this.failure = reason;
    this.ended = true;
    this.wake('consumer');
    await this.upload.catch(() => undefined);
  }
}
