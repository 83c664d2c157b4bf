// The run documents and the commit's refusals, on a real LocalStorage: receipts read back and
// listed; a receipt of another run is refused; a commit with a missing receipt or a missing/changed
// output file is refused with a message naming it, and leaves current.json as it was; discardRun
// never deletes a file of the committed manifest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../../helpers/paths.js';
import {
  commitRun,
  discardRun,
  lakeLayout,
  listReceiptIndexes,
  makeRunSpec,
  openStorage,
  readReceipts,
  type BuildReceipt,
  type ScanReceipt,
  type ScanPlan,
  type BuildPlan,
} from '../../../job-runner/src/index.js';
import { writeJson, writeReceipt } from '../../../job-runner/src/run/documents.js';

function scanReceipt(runId: string, index: number): ScanReceipt {
  return { runId, stage: 'scan', index, splits: 1, records: { read: 10, accepted: 9, rejected: 1, rejectedByReason: { 'invalid-json': 1 } }, drift: { unknownFields: {}, coercions: { 'userId:string->int64': 9 } }, staged: [], songPartitions: [], rejects: null, seconds: 0.1 };
}

async function setup(runId: string, files: { key: string; body: string }[], buildShards = 1) {
  const root = tempDir('slake-commit-');
  const out = openStorage(root);
  const spec = makeRunSpec({ runId, songs: '/s', logs: '/l', output: root, origin: 'test', now: new Date(0) });
  const scanPlan: ScanPlan = { runId, stage: 'scan', shards: 2, inputObjects: 2, inputBytes: 20, skew: 1, tasks: [] };
  const buildPlan: BuildPlan = { runId, stage: 'build', shards: buildShards, inputObjects: 0, inputBytes: 0, skew: 1, tasks: [], partitions: { songs: 0, artists: 0, users: 1, time: 0, songplays: 0 } };
  await writeJson(out, lakeLayout.plan(runId, 'scan'), scanPlan);
  await writeJson(out, lakeLayout.plan(runId, 'build'), buildPlan);
  for (const f of files) await out.put(f.key, f.body);
  const build: BuildReceipt = { runId, stage: 'build', index: 0, files: files.map((f) => ({ table: 'users', key: f.key, partition: {}, rows: 1, bytes: Buffer.byteLength(f.body) })), partitions: { songs: 0, artists: 0, users: 1, time: 0, songplays: 0 }, seconds: 0 };
  for (const r of [scanReceipt(runId, 0), scanReceipt(runId, 1), build]) await writeReceipt(out, r);
  return { root, out, spec, build };
}

test('documents: receipts are read back, listed by index, and a foreign one is refused', async () => {
  const { out, root } = await setup('d1', [{ key: 'users/part-d1-00000.parquet', body: 'x' }]);
  assert.deepEqual(await listReceiptIndexes(out, 'd1', 'scan'), [0, 1]);
  const scan = await readReceipts(out, 'd1', 'scan');
  assert.deepEqual([...scan.keys()], [0, 1]);
  assert.equal(scan.get(1)!.records.read, 10);
  writeFileSync(join(root, lakeLayout.receipt('d1', 'scan', 2)), JSON.stringify(scanReceipt('other', 2)));
  await assert.rejects(readReceipts(out, 'd1', 'scan'), /receipt .*00002\.json names run other scan 2/);
});

test('commit: merges counts and drift, writes manifest, pointer and _SUCCESS', async () => {
  const { out, root, spec, build } = await setup('c1', [{ key: 'users/part-c1-00000.parquet', body: 'abc' }]);
  writeFileSync(join(root, 'users', 'part-old-00000.parquet'), 'stale');
  const scan = [...(await readReceipts(out, 'c1', 'scan')).values()];
  const m = await commitRun(out, spec, scan, [build], { now: () => new Date(Date.UTC(2026, 0, 2)) });
  assert.deepEqual(m.records, { read: 20, accepted: 18, rejected: 2, rejectedByReason: { 'invalid-json': 2 } });
  assert.deepEqual(m.drift.coercions, { 'userId:string->int64': 18 });
  assert.deepEqual(m.tables.users, { rows: 1, partitions: 1, files: 1, bytes: 3 });
  assert.equal(m.committedAt, '2026-01-02T00:00:00.000Z');
  assert.ok(!existsSync(join(root, 'users', 'part-old-00000.parquet')), 'a file not in the manifest is removed');
  for (const t of ['songs', 'artists', 'users', 'time', 'songplays']) assert.ok(existsSync(join(root, t, '_SUCCESS')));
  // Idempotent: a second commit keeps the first committedAt.
  const again = await commitRun(out, spec, scan, [build], { now: () => new Date(Date.UTC(2027, 0, 1)) });
  assert.equal(again.committedAt, m.committedAt);
});

const refusals: { name: string; breakIt: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<{ scan: ScanReceipt[]; build: BuildReceipt[] }>; want: RegExp }[] = [
  {
    name: 'a missing build receipt',
    breakIt: async ({ out, build }) => ({ scan: [...(await readReceipts(out, 'x1', 'scan')).values()], build: [build].filter(() => false) }),
    want: /cannot commit run x1: build receipts missing for shard\(s\) 0 \(have 0 of 1\)/,
  },
  {
    name: 'an output file that is gone',
    breakIt: async ({ out, build }) => {
      await out.delete(['users/part-x1-00000.parquet']);
      return { scan: [...(await readReceipts(out, 'x1', 'scan')).values()], build: [build] };
    },
    want: /cannot commit run x1: 1 output file\(s\) missing or changed, e\.g\. .*users\/part-x1-00000\.parquet \(receipt says 3 bytes, storage has nothing\)/,
  },
  {
    name: 'an output file that changed',
    breakIt: async ({ out, build }) => {
      await out.put('users/part-x1-00000.parquet', 'abcdef');
      return { scan: [...(await readReceipts(out, 'x1', 'scan')).values()], build: [build] };
    },
    want: /receipt says 3 bytes, storage has 6 bytes/,
  },
];
for (const c of refusals) {
  test(`commit refuses ${c.name} and leaves the pointer as it was`, async () => {
    const ctx = await setup('x1', [{ key: 'users/part-x1-00000.parquet', body: 'abc' }]);
    await writeJson(ctx.out, lakeLayout.current(), { runId: 'previous', manifest: '_lake/manifests/previous.json', committedAt: 'then' });
    const { scan, build } = await c.breakIt(ctx);
    await assert.rejects(commitRun(ctx.out, ctx.spec, scan, build), c.want);
    assert.equal(JSON.parse((await ctx.out.get(lakeLayout.current())).toString()).runId, 'previous');
    assert.equal(await ctx.out.head(lakeLayout.manifest('x1')), null);
  });
}

test('discardRun removes the run\'s files but never a committed one', async () => {
  const { out, root, spec, build } = await setup('k1', [{ key: 'users/part-k1-00000.parquet', body: 'abc' }]);
  await commitRun(out, spec, [...(await readReceipts(out, 'k1', 'scan')).values()], [build]);
  await out.put('users/part-k2-00000.parquet', 'new run file');
  await out.put(`${lakeLayout.stagedPrefix('k2')}scan-00000.arrows`, 'staged');
  await discardRun(out, 'k2');
  assert.ok(!existsSync(join(root, 'users', 'part-k2-00000.parquet')));
  assert.ok(!existsSync(join(root, lakeLayout.stagedPrefix('k2'), 'scan-00000.arrows')));
  await discardRun(out, 'k1');
  assert.ok(existsSync(join(root, 'users', 'part-k1-00000.parquet')), 'the committed run keeps its files');
});

test('commit and discardRun remove temp files of killed writers older than the grace period (injected clock)', async () => {
  const { out, root, spec, build } = await setup('t1', [{ key: 'users/part-t1-00000.parquet', body: 'abc' }]);
  const now = new Date(Date.UTC(2026, 0, 2, 12));
  const temp = (rel: string, ageMs: number) => {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'half a write');
    const t = new Date(now.getTime() - ageMs);
    utimesSync(path, t, t);
    return path;
  };
  const hour = 3600_000;
  const staleTable = temp('songs/year=2000/artist_id=AR1/.slake-tmp-aaaaaa', 2 * hour);
  const staleStaged = temp(`${lakeLayout.stagedPrefix('t1')}.slake-tmp-bbbbbb`, 2 * hour);
  const staleRejects = temp(`${lakeLayout.rejectsPrefix('t1')}.slake-tmp-cccccc`, 2 * hour);
  const live = temp('users/.slake-tmp-dddddd', 10 * 60_000);
  const scan = [...(await readReceipts(out, 't1', 'scan')).values()];
  await commitRun(out, spec, scan, [build], { now: () => now });
  for (const p of [staleTable, staleStaged, staleRejects]) assert.ok(!existsSync(p), `${p} removed`);
  assert.ok(!existsSync(join(root, 'songs', 'year=2000')), 'folders left empty are pruned');
  assert.ok(existsSync(live), 'a temp file written 10 minutes ago may belong to a live writer');

  const staleOther = temp(`${lakeLayout.stagedPrefix('t2')}.slake-tmp-eeeeee`, 30 * 60_000);
  await discardRun(out, 't2', { now: () => now, staleWriteGraceMs: 20 * 60_000 });
  assert.ok(!existsSync(staleOther), 'discardRun sweeps the run it discards, with its own grace period');
  assert.ok(existsSync(live));
});
