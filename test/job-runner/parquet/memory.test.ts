// The writer's memory bound: rows reach WebAssembly one row group at a time, so WASM memory (which
// never shrinks) follows the row-group size, not the file size. Its own test file, hence its own
// process: other tests' writes would already have grown the WASM memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as parquetWasm from 'parquet-wasm';
import type { ColumnBatch } from '../../../job-runner/src/columnar/batch.js';
import { writeTableStream } from '../../../job-runner/src/parquet/writer.js';
import { batch, i64, i64big, str, tsMs } from '../columnar/fixtures.js';
import { openDuck, sqlPath } from './duck.js';
import { tempDir } from '../../helpers/paths.js';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';

/** 50k songplays-like rows; `part` shifts the ids so parts differ. */
function part(p: number, rows = 50_000): ColumnBatch {
  const r = Array.from({ length: rows }, (_, i) => p * rows + i);
  return batch({
    songplay_id: i64big(r.map((i) => BigInt(i) * 0x9e3779b97n)),
    start_time: tsMs(r.map((i) => 1541030400000 + i * 997)),
    user_id: i64(r.map((i) => i % 977)),
    level: str(r.map((i) => (i % 3 ? 'paid' : 'free'))),
    song_id: str(r.map((i) => (i % 4 ? null : `SO${(i % 20011).toString().padStart(16, '0')}`))),
    artist_id: str(r.map((i) => (i % 4 ? null : `AR${(i % 5003).toString().padStart(16, '0')}`))),
    session_id: i64(r.map((i) => Math.floor(i / 20))),
    location: str(r.map((i) => `City ${i % 911}, Metro Area`)),
    user_agent: str(r.map((i) => `"Mozilla/5.0 (Windows NT 6.${i % 7}) AppleWebKit/537.${i % 53} (KHTML, like Gecko)"`)),
  });
}

test('streaming 1.2M rows in 16k-row groups keeps WASM memory near one row group', async () => {
  const dir = tempDir('slake-mem-');
  try {
    const file = join(dir, 'songplays.parquet');
    async function* parts(): AsyncGenerator<ColumnBatch> {
      for (let p = 0; p < 24; p++) yield part(p);
    }
    const out = createWriteStream(file);
    let bytes = 0;
    for await (const chunk of writeTableStream('songplays', parts(), { rowGroupRows: 16_384 })) {
      bytes += chunk.byteLength;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const wasmMiB = parquetWasm.wasmMemory().buffer.byteLength / 2 ** 20;
    // 1.2M rows hold ~60 MB of Arrow IPC and the file is ~25 MB: either in WASM at once would exceed this.
    assert.ok(wasmMiB < 24, `WASM memory grew to ${wasmMiB.toFixed(1)} MiB for a ${(bytes / 2 ** 20).toFixed(1)} MiB file`);
    const duck = await openDuck();
    try {
      const [got] = await duck.rows(`SELECT count(*) AS n, count(DISTINCT songplay_id) AS ids, max(session_id) AS s FROM read_parquet(${sqlPath(file)})`);
      assert.deepEqual(got, { n: 1_200_000n, ids: 1_200_000n, s: BigInt(Math.floor((1_200_000 - 1) / 20)) });
      const groups = await duck.rows(`SELECT count(DISTINCT row_group_id) AS g FROM parquet_metadata(${sqlPath(file)})`);
      assert.deepEqual(groups, [{ g: BigInt(Math.ceil(1_200_000 / 16_384)) }]);
    } finally {
      duck.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
