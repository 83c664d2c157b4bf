// The footer rewrite that drops ARROW:schema: other key/value entries and every other footer field
// survive, the file stays readable (DuckDB checks), and bad input is refused.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RecordBatchStreamWriter, tableFromIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import { toArrowRecordBatch } from '../../../job-runner/src/columnar/arrowBatch.js';
import { dropFooterKeys, footerKeys } from '../../../job-runner/src/parquet/footer.js';
import { tempDir } from '../../helpers/paths.js';
import { batch, f64, str } from '../columnar/fixtures.js';
import { openDuck, sqlPath } from './duck.js';

function fileWithMetadata(extra: [string, string][]): Uint8Array {
  const b = batch({ s: str(['a', null, 'é']), d: f64([1, 2, null]) });
  const writer = new RecordBatchStreamWriter();
  writer.write(toArrowRecordBatch(b, () => ({ nullable: true, int64Metadata: false })));
  writer.finish();
  const props = new parquetWasm.WriterPropertiesBuilder().setKeyValueMetadata(new Map(extra)).setCreatedBy('footer test').build();
  return parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(writer.toUint8Array(true)), props);
}

test('only the named key goes; other entries, rows, created_by and statistics stay', async () => {
  const original = fileWithMetadata([
    ['owner', 'sparkify'],
    ['note', 'ü'.repeat(300)],
  ]);
  assert.deepEqual(footerKeys(original).sort(), ['ARROW:schema', 'note', 'owner']);
  const rewritten = dropFooterKeys(original, new Set(['ARROW:schema']));
  assert.deepEqual(footerKeys(rewritten).sort(), ['note', 'owner']);
  assert.ok(rewritten.byteLength < original.byteLength);
  const dir = tempDir('slake-footer-');
  const duck = await openDuck();
  try {
    const file = join(dir, 'f.parquet');
    writeFileSync(file, rewritten);
    assert.deepEqual(await duck.rows(`SELECT s, d FROM read_parquet(${sqlPath(file)})`), [{ s: 'a', d: 1 }, { s: null, d: 2 }, { s: 'é', d: null }]);
    const kv = await duck.rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlPath(file)}) ORDER BY 1`);
    assert.deepEqual(kv, [{ k: 'note', v: 'ü'.repeat(300) }, { k: 'owner', v: 'sparkify' }]);
    const [meta] = await duck.rows(`SELECT created_by, num_rows FROM parquet_file_metadata(${sqlPath(file)})`);
    assert.deepEqual(meta, { created_by: 'footer test', num_rows: 3n });
    const [stats] = await duck.rows(`SELECT stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${sqlPath(file)}) WHERE path_in_schema = 'd'`);
    assert.deepEqual(stats, { stats_min_value: '1.0', stats_max_value: '2.0', stats_null_count: 1n });
  } finally {
    duck.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // The rewritten file also reads in arrow-rs, now without the Arrow schema hint.
  assert.equal(String(tableFromIPC(parquetWasm.readParquet(rewritten).intoIPCStream()).schema.fields[0].type), 'Utf8');
});

test('dropping the only entry removes the field; nothing to drop returns the same bytes', () => {
  const original = fileWithMetadata([]);
  const rewritten = dropFooterKeys(original, new Set(['ARROW:schema']));
  assert.deepEqual(footerKeys(rewritten), []);
  assert.equal(dropFooterKeys(rewritten, new Set(['ARROW:schema'])), rewritten);
});

test('not Parquet, or a tail without the footer, is an error', () => {
  assert.throws(() => footerKeys(new TextEncoder().encode('definitely not a parquet file')), /PAR1 magic missing/);
  const file = fileWithMetadata([]);
  assert.throws(() => dropFooterKeys(file.subarray(file.byteLength - 20), new Set(['ARROW:schema']), false), /footer of \d+ bytes is not inside the 20 bytes given/);
  const broken = file.slice();
  broken[broken.byteLength - 9] ^= 0x7f; // the footer's last byte (its STOP): the struct no longer ends where it should
  assert.throws(() => footerKeys(broken), /Parquet footer/);
});
