// Generated eventsim-like data (sparkify-lake generate: Zipf songs, sessions, upgrades, gzip'd and
// hostile lines): the lake built by `sparkify-lake run` equals the DuckDB reference, table by table.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { buildReferenceLake, type ReferenceLake } from '../../helpers/referenceLake.js';
import { assertLakesEqual } from '../../helpers/compareLakes.js';
import { tempDir } from '../../helpers/paths.js';
import { assertExactlyCommitted, cli, lastJson } from './lakeFiles.js';

const root = tempDir('slake-generated-');
const raw = join(root, 'raw');
const lake = join(root, 'lake');
let reference: ReferenceLake;

before(async () => {
  const g = await cli(['generate', '--out', raw, '--songs', '400', '--events', '30000', '--seed', '11', '--days', '75', '--gzip-share', '0.3', '--hostile-share', '0.002']);
  assert.equal(g.code, 0, g.stderr);
  reference = await buildReferenceLake({ songs: join(raw, 'song_data'), logs: join(raw, 'log_data') });
});
after(() => reference?.close());

test('generated: the lake equals the DuckDB reference, with plays matched to songs', async () => {
  const r = await cli(['run', '--songs', join(raw, 'song_data'), '--logs', join(raw, 'log_data'), '--out', lake, '--json', '--parallel', '2', '--max-reject-ratio', '0.05']);
  assert.equal(r.code, 0, r.stderr);
  const summary = lastJson<{ records: { read: number; rejected: number }; tables: Record<string, { rows: number; partitions: number }> }>(r.stdout);
  assert.deepEqual(summary.records, { read: reference.counts.total.read, rejected: reference.counts.total.rejected });
  assert.ok(summary.records.rejected > 0, 'the hostile share produced rejects');
  assert.ok(summary.tables.songplays!.partitions >= 3, 'plays span several months');
  assert.ok((await reference.matchedPlays()) > 100, 'the join has work to do');
  await assertLakesEqual(lake, reference);
  assertExactlyCommitted(lake);
});
