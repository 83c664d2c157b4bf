// The real Udacity sample, end to end on local folders: `sparkify-lake run` (the CLI, shards in
// child processes) gives tables equal to the DuckDB reference and the known numbers; a second run on
// unchanged input gives byte-identical files (songplay_id included) and removes the first run's
// files; `inspect` reports the committed lake.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { buildReferenceLake, type ReferenceLake } from '../../helpers/referenceLake.js';
import { assertLakesEqual } from '../../helpers/compareLakes.js';
import { tempDir, udacitySongs, udacityLogs } from '../../helpers/paths.js';
import { runLocal } from '../../../job-runner/src/index.js';
import { assertExactlyCommitted, assertSameFiles, cli, lastJson } from './lakeFiles.js';

let reference: ReferenceLake;
const lake = join(tempDir('slake-udacity-'), 'lake');
let firstCopy = '';

before(async () => {
  reference = await buildReferenceLake({ songs: udacitySongs, logs: udacityLogs });
});
after(() => reference?.close());

interface RunJson {
  runId: string;
  records: { read: number; rejected: number };
  tables: Record<string, { rows: number; partitions: number; files: number; bytes: number }>;
  skew: number;
  seconds: number;
}

test('udacity: sparkify-lake run builds the five tables equal to the DuckDB reference', async () => {
  const r = await cli(['run', '--songs', udacitySongs, '--logs', udacityLogs, '--out', lake, '--json', '--parallel', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on stderr when it is not a terminal');
  const summary = lastJson<RunJson>(r.stdout);
  assert.deepEqual(
    Object.fromEntries(Object.entries(summary.tables).map(([t, s]) => [t, s.rows])),
    { songs: 71, artists: 69, users: 97, time: 6813, songplays: 6820 },
  );
  assert.deepEqual(summary.records, { read: 8056 + 71, rejected: 0 });
  assert.equal(summary.tables.songs!.partitions, 69);
  assert.ok(summary.skew >= 1 && summary.seconds > 0);
  await assertLakesEqual(lake, reference);
  assert.equal(await reference.matchedPlays(), 1);
  const m = assertExactlyCommitted(lake);
  assert.equal(m.runId, summary.runId);
  firstCopy = join(tempDir('slake-udacity-copy-'), 'lake');
  cpSync(lake, firstCopy, { recursive: true });
});

test('udacity: a second run on unchanged input gives identical files and keeps only itself', async () => {
  assert.ok(firstCopy, 'needs the first run');
  const result = await runLocal({ songs: udacitySongs, logs: udacityLogs, output: lake, parallel: 2, executor: 'thread', sharding: { splitBytes: 64 * 1024 } });
  assert.notEqual(result.runId, assertExactlyCommitted(firstCopy).runId);
  assert.ok(result.scan.tasks.some((t) => t.splits.some((s) => s.start > 0)), 'byte-range splits were exercised');
  assertExactlyCommitted(lake);
  assertSameFiles(lake, firstCopy);
  await assertLakesEqual(lake, reference);
});

test('udacity: inspect shows the committed tables and the last run', async () => {
  const r = await cli(['inspect', lake, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const info = lastJson<{ runId: string; tables: Record<string, { rows: number }>; records: { read: number; rejected: number } }>(r.stdout);
  assert.equal(info.tables.songplays!.rows, 6820);
  assert.equal(info.records.read, 8127);
  const text = await cli(['inspect', lake]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /songplays\s+6,820\s+1\s+1/);
  assert.match(text.stdout, new RegExp(`last run ${info.runId}`));
  const none = await cli(['inspect', join(tempDir(), 'nothing')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no committed lake at .*sparkify-lake run/);
});
