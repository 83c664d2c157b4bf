// The one seam between the build stage and the Parquet writer (job-runner/src/parquet/): table rows
// in, file bytes out, with the writer's defaults (snappy, dictionary pages, fixed row groups). The
// writer (WebAssembly) is loaded on first use, so scan shard processes never pay for it.
import type { ColumnBatch } from '../columnar/batch.js';
import type { TableName } from '../run/types.js';

let writer: Promise<typeof import('../parquet/writer.js')> | null = null;

export async function encodeTableFile(table: TableName, batch: ColumnBatch): Promise<Uint8Array> {
  writer ??= import('../parquet/writer.js');
  return (await writer).writeTableFile(table, batch);
}
