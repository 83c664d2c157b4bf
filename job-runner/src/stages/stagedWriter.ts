// The one staged object of a scan shard: self-contained Arrow IPC segments appended one after
// another, each recorded as a StagedSegment of a StagedPart (dataset × partition × bucket). The
// object is opened at the first segment, so a shard that staged nothing writes nothing.
import type { ColumnBatch } from '../columnar/batch.js';
import { encodeSegment } from '../columnar/segment.js';
import type { PartitionValues, StagedPart } from '../run/types.js';
import type { Storage } from '../storage/storage.js';
import { ObjectSink } from './objectSink.js';

export class StagedWriter {
  private sink: ObjectSink | null = null;
  private readonly parts = new Map<string, StagedPart>();

  constructor(
    private readonly out: Storage,
    readonly key: string,
  ) {}

  async append(dataset: StagedPart['dataset'], partition: PartitionValues, bucket: number, batch: ColumnBatch): Promise<void> {
    if (batch.length === 0) return;
    const bytes = encodeSegment(batch);
    this.sink ??= new ObjectSink(this.out, this.key, 'application/vnd.apache.arrow.stream');
    const offset = this.sink.bytes;
    await this.sink.write(bytes);
    const id = `${dataset}|${JSON.stringify(Object.entries(partition))}|${bucket}`;
    let part = this.parts.get(id);
    if (!part) this.parts.set(id, (part = { dataset, partition, bucket, segments: [], bytes: 0, rows: 0 }));
    part.segments.push({ key: this.key, offset, length: bytes.byteLength, rows: batch.length });
    part.bytes += bytes.byteLength;
    part.rows += batch.length;
  }

  /** Stores the object; returns the parts in the order they were first written. */
  async close(): Promise<StagedPart[]> {
    if (this.sink) await this.sink.close();
    return [...this.parts.values()];
  }

  async abort(reason: Error): Promise<void> {
    await this.sink?.abort(reason);
  }

  /** Bytes of all song segments staged so far (for the per-partition byte estimate). */
  bytesOf(dataset: StagedPart['dataset']): { bytes: number; rows: number } {
    let bytes = 0;
    let rows = 0;
    for (const p of this.parts.values()) {
      if (p.dataset !== dataset) continue;
      bytes += p.bytes;
      rows += p.rows;
    }
    return { bytes, rows };
  }
}
