// Faults, each ending in the same tables: a scan shard SIGKILLed while writing its staged object and
// run again; shards run twice at the same time; a failed run (too many rejects; a build shard that
// fails permanently, then discardRun) leaves the committed lake untouched; a commit interrupted after
// every possible step and run again ends in the same lake.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { compareLakes } from '../../helpers/compareLakes.js';
import { repoRoot, tempDir, udacityLogs, udacitySongs } from '../../helpers/paths.js';
import {
  commitRun,
  discardRun,
  lakeLayout,
  makeRunSpec,
  openStorage,
  planBuild,
  planScan,
  listInputs,
  readReceipts,
  runLocal,
  RunFailed,
  shardArgs,
  writeBuildPlan,
  writeScanPlan,
  type RunSpec,
  type Storage,
} from '../../../job-runner/src/index.js';
import { assertExactlyCommitted, assertSameFiles, walk } from './lakeFiles.js';
import { HOSTILE_MAX_LINE_BYTES, writeHostileInput } from './hostileInput.js';

const MAIN_JS = join(repoRoot, 'dist', 'job-runner', 'src', 'main.js');
const memory = { stagingBytes: 512 * 1024, batchRows: 4096 };
const root = tempDir('slake-faults-');
const raw = { songs: udacitySongs, logs: join(root, 'logs') };
let baseline = '';

/** ~60k eventsim-like lines (~20 MB) in 3 files, so a shard runs long enough to be killed mid-write. */
function writeBigLogs(dir: string): void {
  const songs = ['Road', 'Match Me', 'Ten Tonne', 'You Gotta Be'];
  for (let f = 0; f < 3; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const n = f * 20_000 + i;
      lines.push(JSON.stringify({
        artist: n % 7 === 0 ? 'Chase & Status' : `Artist ${n % 97}`, auth: 'Logged In', firstName: `First${n % 50}`, gender: n % 2 ? 'F' : 'M', itemInSession: n % 40,
        lastName: `Last${n % 50}`, length: 200 + (n % 150), level: n % 5 ? 'free' : 'paid', location: `City ${n % 30}`, method: 'PUT', page: n % 9 === 0 ? 'Home' : 'NextSong',
        registration: 1540000000000, sessionId: Math.floor(n / 40), song: songs[n % 4], status: 200, ts: Date.UTC(2018, 9 + f, 1) + n * 60_000, userAgent: 'Mozilla/5.0 (X11)', userId: String(1 + (n % 50)),
      }));
    }
    mkdirSync(join(dir, '2018', String(10 + f)), { recursive: true });
    writeFileSync(join(dir, '2018', String(10 + f), `events-${f}.json`), lines.join('\n'));
  }
}

function runMain(out: string, runId: string, stage: 'scan' | 'build', index: number) {
  const child = spawn(process.execPath, [MAIN_JS, ...shardArgs(out, runId, stage), '--index', String(index)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
  return { child, done };
}

async function planRun(out: string, runId: string, input = raw): Promise<{ spec: RunSpec; store: Storage; shards: number }> {
  const spec = makeRunSpec({ runId, ...input, output: out, origin: 'test', sharding: { minShards: 2 }, memory });
  const store = openStorage(out);
  const plan = planScan(spec, await listInputs(spec, openStorage));
  await writeScanPlan(store, spec, plan);
  return { spec, store, shards: plan.shards };
}

async function build(spec: RunSpec, store: Storage): Promise<number> {
  const plan = planBuild(spec, [...(await readReceipts(store, spec.runId, 'scan')).values()]);
  await writeBuildPlan(store, plan);
  return plan.shards;
}

async function commit(spec: RunSpec, store: Storage) {
  return commitRun(store, spec, [...(await readReceipts(store, spec.runId, 'scan')).values()], [...(await readReceipts(store, spec.runId, 'build')).values()]);
}

/** Every table file and the commit pointer, as bytes: what "untouched" means. */
function snapshot(lake: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of [...['songs', 'artists', 'users', 'time', 'songplays'].flatMap((t) => walk(join(lake, t))), join(lake, '_lake', 'current.json')]) {
    m.set(p.slice(lake.length), readFileSync(p).toString('base64'));
  }
  return m;
}

before(async () => {
  writeBigLogs(raw.logs);
  baseline = join(root, 'baseline');
  await runLocal({ ...raw, output: baseline, parallel: 2, memory, executor: 'thread' });
});

test('faults: a scan shard killed mid-write leaves no object and no receipt; re-run and duplicate shards give identical tables', async () => {
  const out = join(root, 'killed');
  const { spec, store, shards } = await planRun(out, 'killed1');
  assert.equal(shards, 2);
  const staged = join(out, '_lake', 'runs', 'killed1', 'staged');
  const victim = runMain(out, 'killed1', 'scan', 0);
  // Kill it once its staged object is being written (a temp file exists), before it is complete.
  for (let i = 0; i < 4000 && !(existsSync(staged) && readdirSync(staged).some((n) => n.startsWith('.slake-tmp-'))); i++) await new Promise((r) => setTimeout(r, 2));
  victim.child.kill('SIGKILL');
  const killed = await victim.done;
  assert.equal(killed.signal, 'SIGKILL', `the shard finished before it could be killed:\n${killed.output}`);
  assert.ok(!existsSync(join(out, lakeLayout.receipt('killed1', 'scan', 0))), 'a killed shard writes no receipt');
  assert.ok(!existsSync(join(staged, 'scan-00000.arrows')), 'no partial staged object under the real key');

  // Re-run shard 0; run shard 1 twice at the same time.
  const results = await Promise.all([runMain(out, 'killed1', 'scan', 0).done, runMain(out, 'killed1', 'scan', 1).done, runMain(out, 'killed1', 'scan', 1).done]);
  for (const r of results) assert.equal(r.code, 0, r.output);
  const buildShards = await build(spec, store);
  const twice = await Promise.all([runMain(out, 'killed1', 'build', 0).done, runMain(out, 'killed1', 'build', 0).done]);
  for (const r of twice) assert.equal(r.code, 0, r.output);
  for (let i = 1; i < buildShards; i++) assert.equal((await runMain(out, 'killed1', 'build', i).done).code, 0);
  await commit(spec, store);
  assertExactlyCommitted(out);
  assertSameFiles(out, baseline);
  const cmp = await compareLakes(out, baseline);
  assert.ok(cmp.equal, cmp.report);
});

test('faults: SIGTERM stops a shard cleanly: exit 1, no receipt, no staged object, a JSON log line', async () => {
  const out = join(root, 'terminated');
  await planRun(out, 'term1');
  const shard = runMain(out, 'term1', 'scan', 0);
  const staged = join(out, '_lake', 'runs', 'term1', 'staged');
  for (let i = 0; i < 4000 && !(existsSync(staged) && readdirSync(staged).length > 0); i++) await new Promise((r) => setTimeout(r, 2));
  shard.child.kill('SIGTERM');
  const r = await shard.done;
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /"level":"error".*SIGTERM/);
  assert.match(r.output, /"exitCode":1/);
  assert.ok(!existsSync(join(out, lakeLayout.receipt('term1', 'scan', 0))));
  assert.deepEqual(existsSync(staged) ? readdirSync(staged).filter((n) => !n.startsWith('.slake-tmp-')) : [], []);
});

test('faults: too many rejects fail the run and leave the committed lake untouched', async () => {
  const lake = join(root, 'guarded');
  cpSync(baseline, lake, { recursive: true });
  const before = snapshot(lake);
  const hostile = writeHostileInput(join(root, 'hostile'));
  await assert.rejects(
    runLocal({ ...hostile, output: lake, parallel: 2, executor: 'thread', quality: { maxRejectRatio: 0.05 }, read: { maxLineBytes: HOSTILE_MAX_LINE_BYTES } }),
    (err: Error) => err instanceof RunFailed && /rejected \d+ of \d+ records \(\d+%\), over the limit of 5%.*Top reasons: invalid-ts \d+/.test(err.message),
  );
  assert.deepEqual(snapshot(lake), before);
  const runs = readdirSync(join(lake, '_lake', 'runs'));
  for (const r of runs) assert.ok(!existsSync(join(lake, '_lake', 'runs', r, 'staged')) || readdirSync(join(lake, '_lake', 'runs', r, 'staged')).length === 0, `staged data of ${r} removed`);
});

test('faults: a build shard failing permanently exits 3; discardRun restores the committed lake', async () => {
  const lake = join(root, 'broken');
  cpSync(baseline, lake, { recursive: true });
  const before = snapshot(lake);
  const { spec, store, shards } = await planRun(lake, 'broken1');
  for (let i = 0; i < shards; i++) assert.equal((await runMain(lake, 'broken1', 'scan', i).done).code, 0);
  const buildShards = await build(spec, store);
  // Shard 1 writes its files; then scan 0's staged object disappears and shard 0 cannot build.
  for (let i = 1; i < buildShards; i++) assert.equal((await runMain(lake, 'broken1', 'build', i).done).code, 0);
  assert.notDeepEqual(snapshot(lake), before, 'the failed run wrote table files');
  rmSync(join(lake, '_lake', 'runs', 'broken1', 'staged', 'scan-00000.arrows'));
  const failed = await runMain(lake, 'broken1', 'build', 0).done;
  assert.equal(failed.code, 3, failed.output);
  assert.match(failed.output, /"level":"error".*scan-00000\.arrows/);
  await discardRun(store, 'broken1');
  assert.deepEqual(snapshot(lake), before);
});

/** Fails every mutating call after the first `allowed` ones: a commit process dying at that step. */
function dyingAfter(store: Storage, allowed: number): Storage {
  let calls = 0;
  const guard = () => {
    if (calls++ >= allowed) throw new Error(`simulated crash after ${allowed} writes`);
  };
  return {
    root: store.root,
    list: (p) => store.list(p),
    head: (k) => store.head(k),
    get: (k, r) => store.get(k, r),
    stream: (k, r) => store.stream(k, r),
    put: async (k, b, o) => (guard(), store.put(k, b, o)),
    putStream: async (k, b, o) => (guard(), store.putStream(k, b, o)),
    delete: async (keys) => (guard(), store.delete(keys)),
  };
}

test('faults: a commit interrupted after any step, run again, ends in the same lake', async () => {
  const prepared = join(root, 'commit-prepared');
  cpSync(baseline, prepared, { recursive: true });
  const udacity = { songs: udacitySongs, logs: udacityLogs };
  const { spec, store, shards } = await planRun(prepared, 'commit1', udacity);
  for (let i = 0; i < shards; i++) assert.equal((await runMain(prepared, 'commit1', 'scan', i).done).code, 0);
  const buildShards = await build(spec, store);
  for (let i = 0; i < buildShards; i++) assert.equal((await runMain(prepared, 'commit1', 'build', i).done).code, 0);
  const oldRun = JSON.parse(readFileSync(join(prepared, '_lake', 'current.json'), 'utf8')).runId as string;

  const clean = join(root, 'commit-clean');
  cpSync(prepared, clean, { recursive: true });
  await commit({ ...spec, output: clean }, openStorage(clean));
  const want = snapshot(clean);

  for (let allowed = 0; ; allowed++) {
    const lake = join(root, `commit-${allowed}`);
    cpSync(prepared, lake, { recursive: true });
    const real = openStorage(lake);
    const scan = [...(await readReceipts(real, 'commit1', 'scan')).values()];
    const built = [...(await readReceipts(real, 'commit1', 'build')).values()];
    let crashed = false;
    try {
      await commitRun(dyingAfter(real, allowed), spec, scan, built, { now: () => new Date(JSON.parse(readFileSync(join(clean, lakeLayout.current()), 'utf8')).committedAt) });
    } catch {
      crashed = true;
      const pointer = JSON.parse(readFileSync(join(lake, '_lake', 'current.json'), 'utf8')).runId as string;
      assert.ok(pointer === oldRun || pointer === 'commit1');
      // Whichever run the pointer names, every file of its manifest is there: readers see a whole lake.
      const current = JSON.parse(readFileSync(join(lake, lakeLayout.current()), 'utf8')) as { manifest: string };
      const manifest = JSON.parse(readFileSync(join(lake, current.manifest), 'utf8')) as { files: { key: string }[] };
      for (const f of manifest.files) assert.ok(existsSync(join(lake, f.key)), `${f.key} of the committed run ${pointer} is missing after a crash at step ${allowed}`);
    }
    await commitRun(real, spec, scan, built, { now: () => new Date(JSON.parse(readFileSync(join(clean, lakeLayout.current()), 'utf8')).committedAt) });
    assert.deepEqual(snapshot(lake), want, `commit interrupted after ${allowed} writes`);
    rmSync(lake, { recursive: true, force: true });
    if (!crashed) break;
  }
});
