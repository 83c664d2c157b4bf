// The reconciler (observe → decide → act) driving the real engine through a simulated cluster:
// the Udacity sample becomes a lake equal to DuckDB's reference; a restarted operator repeats
// nothing; conflicts are retried; a spec change never mixes runs; too many rejects fail cleanly;
// deletion discards an unfinished run and never touches a committed lake.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { lakeLayout } from '../../job-runner/src/index.js';
import { Observer } from '../../operator/src/control/observe.js';
import { Reconciler } from '../../operator/src/control/reconciler.js';
import type { LakeJobSpecInput, SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { KubeApiError } from '../../operator/src/kube/rest.js';
import { createLogger } from '../../operator/src/log.js';
import { OperatorMetrics } from '../../operator/src/metrics/operatorMetrics.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig } from '../../operator/src/run/decide.js';
import { EngineRunActions } from '../../operator/src/s3/runActions.js';
import { RunReader } from '../../operator/src/s3/runReader.js';
import { StorageCache } from '../../operator/src/s3/storages.js';
import { assertLakesEqual } from '../helpers/compareLakes.js';
import { tempDir, udacityLogs, udacitySongs } from '../helpers/paths.js';
import { buildReferenceLake, type ReferenceLake } from '../helpers/referenceLake.js';
import { localS3, SimCluster } from './simCluster.js';

const spec = (output = 's3://lake/sparkify/'): LakeJobSpecInput => ({
  source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' },
  output,
  storage: { credentialsSecret: 'lake-s3' },
  sharding: { targetShardBytes: '64Ki', maxShards: 6, parallelism: 2 },
});

let reference: ReferenceLake;
before(async () => {
  reference = await buildReferenceLake({ songs: udacitySongs, logs: udacityLogs });
});
after(() => reference?.close());

interface World {
  sim: SimCluster;
  out: string;
  storageFor: ReturnType<typeof localS3>;
  metrics: OperatorMetrics;
  /** A fresh operator process: new caches, same cluster and S3. */
  operator(config?: Partial<DecideConfig>): Reconciler;
}

function world(extraRoots: Record<string, string> = {}): World {
  const out = tempDir('slake-op-lake-');
  const storageFor = localS3({ 's3://raw/song_data/': udacitySongs, 's3://raw/log_data/': udacityLogs, 's3://lake/sparkify/': out, ...extraRoots });
  const sim = new SimCluster(storageFor);
  sim.secrets.set('lake-s3', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
  const metrics = new OperatorMetrics();
  return {
    sim,
    out,
    storageFor,
    metrics,
    operator(extra = {}) {
      const runs = new RunReader();
      const now = () => new Date();
      const observer = new Observer({ cluster: sim, jobsOf: (ns, uid) => sim.jobsOf(ns, uid), runs, storages: new StorageCache((uri) => storageFor(uri)), now, secretTtlMs: 0, storageDefaults: {}, allowedS3Endpoints: [] });
      return new Reconciler({
        cluster: sim,
        cached: (_ns, name) => sim.get(name),
        observer,
        actions: new EngineRunActions(runs, now),
        config: { ...DEFAULT_DECIDE_CONFIG, defaultImage: 'runner:test', receiptGraceMs: 0, ...extra },
        now,
        metrics,
        log: createLogger('error', true),
      });
    },
  };
}

/** Reconciles (and lets the simulated Jobs run) until `done` holds. */
async function settle(w: World, rec: Reconciler, name: string, done: (lj: SparkifyLakeJob | undefined) => boolean, opts: { runJobs?: boolean } = {}): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (let step = 0; step < 60; step++) {
    try {
      await rec.reconcile(`ns/${name}`);
    } catch (err) {
      errors.push(err);
    }
    if (done(w.sim.get(name))) return errors;
    if (opts.runJobs !== false) await w.sim.runJobs();
  }
  throw new Error(`did not settle: ${JSON.stringify(w.sim.get(name)?.status, null, 1)}\nerrors: ${errors.map(String).join('\n')}`);
}

const phase = (p: string) => (lj: SparkifyLakeJob | undefined) => lj?.status?.phase === p;

test('a lake job runs to Succeeded and its lake equals the DuckDB reference', async () => {
  const w = world();
  w.sim.createLakeJob('nightly', spec());
  const errors = await settle(w, w.operator(), 'nightly', phase('Succeeded'));
  assert.deepEqual(errors, []);
  const st = w.sim.get('nightly')!.status!;
  assert.equal(st.lastSuccessfulRunId, st.runId);
  assert.ok((st.plan?.shards ?? 0) >= 2, `scan shards: ${st.plan?.shards}`);
  assert.equal(st.records!.read, 8056 + 71);
  assert.equal(st.records!.rejected, 0);
  assert.deepEqual(Object.fromEntries(st.tables!.map((t) => [t.name, t.rows])), { songs: 71, artists: 69, users: 97, time: 6813, songplays: 6820 });
  for (const t of st.tables!) assert.equal(t.partitionsLanded, t.partitions, t.name);
  assert.equal(st.conditions!.find((c) => c.type === 'Succeeded')!.status, 'True');
  assert.deepEqual(
    w.sim.events.map((e) => e.reason),
    ['RunStarted', 'Planning', 'Scanning', 'Building', 'Committing', 'Succeeded'],
  );
  assert.equal(w.sim.calls.created, 2);
  await assertLakesEqual(w.out, reference);
  assert.equal(w.metrics.runs.get({ result: 'succeeded' }), 1);
  // Nothing more to do: further reconciles write nothing and create nothing.
  const writes = w.sim.calls.statusWrites;
  await w.operator().reconcile('ns/nightly');
  assert.equal(w.sim.calls.statusWrites, writes);
});

test('an operator restarted mid-scan repeats no stage and creates no duplicate Job', async () => {
  const w = world();
  w.sim.createLakeJob('nightly', spec());
  await settle(w, w.operator(), 'nightly', phase('Scanning'), { runJobs: false });
  const runId = w.sim.get('nightly')!.status!.runId!;
  const planKey = join(w.out, lakeLayout.plan(runId, 'scan'));
  const planTime = statSync(planKey).mtimeMs;
  await w.sim.runJobs({ upTo: 1 }); // one shard lands, then the operator "crashes"
  const restarted = w.operator();
  await restarted.reconcile('ns/nightly');
  assert.equal(w.sim.get('nightly')!.status!.progress, `1/${w.sim.get('nightly')!.status!.plan!.shards}`);
  assert.equal(w.sim.calls.created, 1);
  await settle(w, restarted, 'nightly', phase('Succeeded'));
  assert.equal(w.sim.get('nightly')!.status!.runId, runId, 'the same run continued');
  assert.equal(statSync(planKey).mtimeMs, planTime, 'the scan was not planned again');
  assert.equal(w.sim.calls.created, 2, 'one scan Job and one build Job, ever');
  await assertLakesEqual(w.out, reference);
});

test('status write conflicts (409) are retried and lose nothing', async () => {
  const w = world();
  w.sim.createLakeJob('nightly', spec());
  w.sim.conflicts = 3;
  const errors = await settle(w, w.operator(), 'nightly', phase('Succeeded'));
  assert.ok(errors.length >= 3 && errors.every((e) => e instanceof KubeApiError && e.code === 409), String(errors));
  await assertLakesEqual(w.out, reference);
});

test('a spec change mid-build stops the old run, discards it, and the new run commits alone', async () => {
  const w = world();
  w.sim.createLakeJob('nightly', spec());
  const rec = w.operator();
  await settle(w, rec, 'nightly', (lj) => lj?.status?.phase === 'Building' && w.sim.jobs.size === 2, { runJobs: true });
  const oldRun = w.sim.get('nightly')!.status!.runId!;
  w.sim.updateSpec('nightly', { rerunToken: 'again' });
  await settle(w, rec, 'nightly', phase('Succeeded'));
  const st = w.sim.get('nightly')!.status!;
  assert.notEqual(st.runId, oldRun);
  assert.ok(![...w.sim.jobs.keys()].some((n) => n.includes(oldRun)), 'old Jobs deleted');
  assert.equal(existsSync(join(w.out, lakeLayout.stagedPrefix(oldRun))), false, 'old staging discarded');
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [e.name]));
  assert.ok(!files(join(w.out, 'songplays')).some((f) => f.includes(oldRun)), 'no table file of the old run');
  await assertLakesEqual(w.out, reference);
});

test('too many rejects fail the run with the counts and leave the last committed lake intact', async () => {
  const bad = tempDir('slake-op-bad-');
  mkdirSync(join(bad, '2018', '11'), { recursive: true });
  writeFileSync(join(bad, '2018', '11', '2018-11-01-events.json'), ['{"ts": 1541990258796, "userId": "7", "page": "NextSong"}', 'not json', '{"broken": ', '[1,2]'].join('\n'));
  const w = world({ 's3://raw/bad_logs/': bad });
  // First a good run commits a lake…
  w.sim.createLakeJob('nightly', spec());
  await settle(w, w.operator(), 'nightly', phase('Succeeded'));
  // …then the spec points at bad input.
  w.sim.updateSpec('nightly', { source: { songs: 's3://raw/song_data/', logs: 's3://raw/bad_logs/' } });
  await settle(w, w.operator(), 'nightly', (lj) => lj?.status?.phase === 'Failed' && lj.status.conditions?.find((c) => c.type === 'Running')?.reason === 'Failed');
  const failed = w.sim.get('nightly')!.status!.conditions!.find((c) => c.type === 'Failed')!;
  assert.equal(failed.reason, 'RejectRatioExceeded');
  assert.match(failed.message!, /3/);
  const failedRun = w.sim.get('nightly')!.status!.runId!;
  assert.deepEqual([...w.sim.jobs.keys()].filter((n) => n.includes(failedRun)), [`nightly-${failedRun}-scan`], 'no build Job for the failed run');
  await assertLakesEqual(w.out, reference);
});

test('a failed shard fails the run; its staging is discarded; the lake is untouched', async () => {
  const w = world();
  w.sim.createLakeJob('nightly', spec());
  w.sim.failIndexes = [{ stage: 'build', index: 0 }];
  await settle(w, w.operator(), 'nightly', (lj) => lj?.status?.phase === 'Failed' && lj.status.conditions?.find((c) => c.type === 'Running')?.reason === 'Failed');
  const st = w.sim.get('nightly')!.status!;
  assert.equal(st.conditions!.find((c) => c.type === 'Failed')!.reason, 'ShardFailed');
  assert.match(st.conditions!.find((c) => c.type === 'Failed')!.message!, /build shard 0/);
  assert.match(st.conditions!.find((c) => c.type === 'Failed')!.message!, /songplays|users|artists|songs|time/, 'names what the shard held');
  assert.equal(existsSync(join(w.out, lakeLayout.stagedPrefix(st.runId!))), false);
  assert.equal(existsSync(join(w.out, lakeLayout.current())), false, 'nothing committed');
});

test('deleting an unfinished lake job discards its run; deleting a finished one keeps the lake', async () => {
  const w = world();
  w.sim.createLakeJob('nightly', spec());
  const rec = w.operator();
  await settle(w, rec, 'nightly', (lj) => lj?.status?.phase === 'Building' && w.sim.jobs.size === 2, { runJobs: true });
  const runId = w.sim.get('nightly')!.status!.runId!;
  w.sim.deleteLakeJob('nightly');
  await settle(w, rec, 'nightly', (lj) => lj === undefined, { runJobs: false });
  assert.equal(w.sim.jobs.size, 0);
  assert.equal(existsSync(join(w.out, lakeLayout.stagedPrefix(runId))), false);

  const w2 = world();
  w2.sim.createLakeJob('nightly', spec());
  const rec2 = w2.operator();
  await settle(w2, rec2, 'nightly', phase('Succeeded'));
  w2.sim.deleteLakeJob('nightly');
  await settle(w2, rec2, 'nightly', (lj) => lj === undefined, { runJobs: false });
  await assertLakesEqual(w2.out, reference);
});

test('a missing Secret is an Invalid condition; creating it lets the run proceed', async () => {
  const w = world();
  w.sim.secrets.clear();
  w.sim.createLakeJob('nightly', spec());
  const rec = w.operator();
  await settle(w, rec, 'nightly', (lj) => lj?.status?.conditions?.find((c) => c.type === 'Invalid')?.reason === 'SecretNotFound', { runJobs: false });
  assert.equal(w.sim.get('nightly')!.status!.phase, 'Pending');
  assert.equal(w.sim.jobs.size, 0);
  w.sim.secrets.set('lake-s3', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
  await settle(w, rec, 'nightly', phase('Succeeded'));
  assert.ok(w.sim.events.some((e) => e.reason === 'Valid'));
});

test('a stage Job the API server refuses (422) is an Invalid condition with its message, retried at the Invalid pace; fixing the spec runs', async () => {
  const w = world();
  // What a real API server says about requests above limits (the CRD passes resources through).
  w.sim.validateJob = (job) => {
    const r = job.spec?.template.spec?.containers[0]?.resources;
    if (r?.requests?.memory === '4Gi' && r.limits?.memory === '2Gi') {
      return new KubeApiError(422, 'Invalid', `POST /apis/batch/v1/namespaces/ns/jobs: 422 Job.batch "${job.metadata?.name}" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "4Gi": must be less than or equal to memory limit of 2Gi`);
    }
    return undefined;
  };
  w.sim.createLakeJob('nightly', { ...spec(), runner: { resources: { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } } } });
  const rec = w.operator({ invalidRetryMs: 400 });
  const invalid = (lj: SparkifyLakeJob | undefined) => lj?.status?.conditions?.find((c) => c.type === 'Invalid' && c.status === 'True');
  const errors = await settle(w, rec, 'nightly', (lj) => invalid(lj)?.reason === 'JobRejected', { runJobs: false });
  assert.deepEqual(errors, [], 'a refusal is reported, not thrown to the work queue');
  const st = w.sim.get('nightly')!.status!;
  assert.equal(st.phase, 'Scanning');
  assert.match(invalid(w.sim.get('nightly'))!.message!, /rejected Job nightly-.*-scan: .*must be less than or equal to memory limit of 2Gi .*fix the field it names/);
  assert.equal(st.conditions!.find((c) => c.type === 'Running')!.status, 'False');
  assert.equal(w.sim.jobs.size, 0);
  assert.ok(w.sim.events.some((e) => e.type === 'Warning' && e.reason === 'JobRejected'));
  // Not retried before the Invalid pace: reconciles in between create nothing and write nothing.
  const attempts = w.sim.calls.createJob;
  const writes = w.sim.calls.statusWrites;
  assert.ok((await rec.reconcile('ns/nightly'))! > 0, 'a timed look again');
  assert.equal(w.sim.calls.createJob, attempts);
  assert.equal(w.sim.calls.statusWrites, writes);
  await new Promise((r) => setTimeout(r, 450));
  await rec.reconcile('ns/nightly');
  assert.equal(w.sim.calls.createJob, attempts + 1, 'retried once the pace allows');
  assert.equal(invalid(w.sim.get('nightly'))?.reason, 'JobRejected', 'still refused, still reported');
  // The person fixes the spec: a new run, no Invalid left, and it commits.
  w.sim.updateSpec('nightly', { runner: { resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } } } });
  await settle(w, rec, 'nightly', phase('Succeeded'));
  assert.equal(invalid(w.sim.get('nightly')), undefined);
  assert.deepEqual(Object.fromEntries(w.sim.get('nightly')!.status!.tables!.map((t) => [t.name, t.rows])), { songs: 71, artists: 69, users: 97, time: 6813, songplays: 6820 });
});
