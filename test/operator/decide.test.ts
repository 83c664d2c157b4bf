// decide() over observed states: every phase, spec change mid-stage, rerunToken, suspend, failed
// index, missing receipts, deletion, and the restart property (same observation → same decision).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, invalidFromAction, statusChanged, type Action, type Decision } from '../../operator/src/run/decide.js';
import type { LakeJobStatus, SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { runIdFor, specHash } from '../../operator/src/run/identity.js';
import { jobRefusal } from '../../operator/src/run/validity.js';
import type { Observed } from '../../operator/src/run/observed.js';
import { buildPlan, buildReceipts, CONFIG, jobView, lakeJob, NOW, observed, range, run, runOf, scanPlan, scanReceipts, statusAt, UID, withStatus } from './fixtures.js';

function describeAction(a: Action): string {
  switch (a.type) {
    case 'createJob':
      return `createJob ${a.job.metadata?.name} x${a.job.spec?.completions}`;
    case 'deleteJob':
      return `deleteJob ${a.name}`;
    case 'suspendJob':
      return `suspendJob ${a.name} ${a.suspend}`;
    case 'planScan':
    case 'planBuild':
      return `${a.type} ${a.runId}`;
    case 'commit':
      return `commit ${a.runId} then ${a.then.status.phase}`;
    case 'discard':
      return `discard ${a.runId}${a.then ? ` then ${a.then.status.phase} ${a.then.status.runId ?? ''}`.trimEnd() : ''}`;
    default:
      return a.type;
  }
}

interface Want {
  phase?: string;
  actions?: string[];
  events?: string[];
  conditions?: Record<string, string>;
  requeue?: number | 'none';
  unchanged?: boolean;
  check?: (d: Decision, job: SparkifyLakeJob) => void;
}

interface Case {
  name: string;
  job: SparkifyLakeJob;
  obs: Observed;
  want: Want;
}

const j1 = lakeJob();
const R = runOf(j1);
const scanName = `nightly-${R}-scan`;
const buildName = `nightly-${R}-build`;
const atScan = (s: Partial<LakeJobStatus> = {}) => withStatus(j1, statusAt(j1, 'Scanning', s));
const atBuild = (s: Partial<LakeJobStatus> = {}) => withStatus(j1, statusAt(j1, 'Building', s));

// A spec change: generation 2 with another output.
const j2 = lakeJob({ generation: 2, spec: { output: 's3://lake/sparkify-v2/' } });
const R2 = runOf(j2);
const j2WithOldRun = (phase: LakeJobStatus['phase'], extra: Partial<LakeJobStatus> = {}) => withStatus(j2, { ...statusAt(j1, phase), ...extra });

/** An Invalid condition left by a refused Job creation `agoMs` ago. */
const refused = (agoMs: number) => ({ type: 'Invalid' as const, status: 'True' as const, reason: 'JobRejected', message: 'the API server rejected Job x: …', observedGeneration: 1, lastTransitionTime: new Date(NOW.getTime() - agoMs).toISOString() });

const failedScanJob = jobView(R, 'scan', { failedIndexes: [3], failed: 3, active: 0, failure: { reason: 'FailedIndexes', message: 'Job has failed indexes' }, completionTime: '2026-03-01T11:30:00.000Z' });

const cases: Case[] = [
  { name: 'a new lake job first gets the finalizer', job: lakeJob({ finalizers: [] }), obs: observed(), want: { actions: ['addFinalizer'], requeue: 0 } },
  {
    name: 'a valid new lake job starts a run with a deterministic id',
    job: j1,
    obs: observed(),
    want: {
      phase: 'Planning',
      actions: [],
      events: ['RunStarted', 'Planning'],
      requeue: 0,
      conditions: { Running: 'True/Planning', Succeeded: 'False/Planning', Invalid: 'False/Valid' },
      check: (d) => {
        assert.equal(d.status?.runId, runIdFor(UID, 1, undefined));
        assert.equal(d.status?.specHash, specHash(j1.spec));
        assert.equal(d.status?.startTime, NOW.toISOString());
        assert.equal(d.status?.observedGeneration, 1);
        for (const c of d.status!.conditions!) assert.equal(c.observedGeneration, 1);
      },
    },
  },
  {
    name: 'a missing Secret is an Invalid condition, no run, re-checked later',
    job: j1,
    obs: observed({ secret: { state: 'missing' } }),
    want: {
      phase: 'Pending',
      actions: [],
      events: ['Pending', 'SecretNotFound'],
      requeue: CONFIG.invalidRetryMs,
      conditions: { Invalid: 'True/SecretNotFound', Running: 'False/Invalid' },
      check: (d) => {
        const c = d.status!.conditions!.find((x) => x.type === 'Invalid')!;
        assert.match(c.message!, /Secret "lake-s3" \(spec.storage.credentialsSecret\) not found in namespace "analytics": create it with the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
        assert.equal(d.status?.runId, undefined);
      },
    },
  },
  {
    name: 'a Secret without the keys is Invalid naming them',
    job: j1,
    obs: observed({ secret: { state: 'incomplete', missingKeys: ['AWS_SECRET_ACCESS_KEY'] } }),
    want: { phase: 'Pending', conditions: { Invalid: 'True/SecretKeyMissing' }, actions: [] },
  },
  {
    name: 'an output inside an input root is Invalid',
    job: lakeJob({ spec: { output: 's3://raw/log_data/lake/' } }),
    obs: observed(),
    want: { phase: 'Pending', conditions: { Invalid: 'True/OutputOverlapsInput' }, actions: [], requeue: 'none' },
  },
  {
    name: 'a suspended new lake job does not start a run',
    job: lakeJob({ spec: { suspend: true } }),
    obs: observed(),
    want: { phase: 'Pending', conditions: { Suspended: 'True/SpecSuspend', Running: 'False/Suspended' }, actions: [], check: (d) => assert.equal(d.status?.runId, undefined) },
  },
  {
    name: 'Planning without a scan plan plans the scan',
    job: withStatus(j1, statusAt(j1, 'Planning')),
    obs: observed({ run: run(R) }),
    want: { phase: 'Planning', actions: [`planScan ${R}`], requeue: 0 },
  },
  {
    name: 'an S3 problem found by planning stays reported until its retry is due',
    job: withStatus(j1, { ...statusAt(j1, 'Planning'), conditions: [{ type: 'Invalid', status: 'True', reason: 'BucketNotFound', message: 'bucket "raw" does not exist', observedGeneration: 1, lastTransitionTime: new Date(NOW.getTime() - 10_000).toISOString() }] }),
    obs: observed({ run: run(R) }),
    want: { phase: 'Planning', actions: [], requeue: CONFIG.invalidRetryMs - 10_000, conditions: { Invalid: 'True/BucketNotFound' } },
  },
  {
    name: 'a due retry plans again while the S3 problem stays reported',
    job: withStatus(j1, { ...statusAt(j1, 'Planning'), conditions: [{ type: 'Invalid', status: 'True', reason: 'BucketNotFound', message: 'bucket "raw" does not exist', observedGeneration: 1, lastTransitionTime: new Date(NOW.getTime() - 31_000).toISOString() }] }),
    obs: observed({ run: run(R) }),
    want: { phase: 'Planning', actions: [`planScan ${R}`], conditions: { Invalid: 'True/BucketNotFound' }, events: [] },
  },
  {
    name: 'a scan plan without its Job creates the scan Job',
    job: withStatus(j1, statusAt(j1, 'Planning')),
    obs: observed({ run: run(R, { scanPlan }) }),
    want: {
      phase: 'Scanning',
      actions: [`createJob ${scanName} x8`],
      events: ['Scanning'],
      requeue: CONFIG.pollIntervalMs,
      check: (d) => {
        assert.deepEqual(d.status?.plan, { shards: 8, inputObjects: 101, inputBytes: 4_000_000, skew: 1.031 });
        assert.equal(d.status?.progress, '0/8');
      },
    },
  },
  {
    name: 'operator restart mid-scan: the Job exists and receipts are partial → nothing repeated, progress reported',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { succeeded: 3 })], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1, 5]) }) }),
    want: {
      phase: 'Scanning',
      actions: [],
      requeue: CONFIG.pollIntervalMs,
      check: (d) => {
        assert.equal(d.status?.progress, '3/8');
        assert.deepEqual(d.status?.records, { read: 3000, accepted: 2970, rejected: 30 });
        assert.deepEqual(d.status?.stages, [{ name: 'scan', job: scanName, total: 8, completed: 3, failed: 0, active: 2, startTime: '2026-03-01T11:01:00.000Z' }]);
      },
    },
  },
  {
    name: 'a scan index that exhausted its retries fails the run, naming the shard, its inputs and its log',
    job: atScan(),
    obs: observed({
      jobs: [failedScanJob],
      run: run(R, {
        scanPlan,
        scanReceipts: scanReceipts([0, 1, 2, 4, 5, 6, 7]),
        failures: [{ stage: 'scan', index: 3, inputs: ['s3://raw/log_data/2018/11/2018-11-03-events.json'], pod: `${scanName}-3-abcde`, exitCode: 1, reason: 'Error', logTail: '{"level":"error","message":"boom: cannot parse"}' }],
      }),
    }),
    want: {
      phase: 'Failed',
      actions: [],
      events: ['ShardFailed'],
      requeue: 0,
      conditions: { Failed: 'True/ShardFailed', Running: 'False/CleaningUp', Succeeded: 'False/Failed' },
      check: (d) => {
        const m = d.status!.conditions!.find((c) => c.type === 'Failed')!.message!;
        assert.match(m, /scan shard 3, exit code 1/);
        assert.match(m, /2018-11-03-events\.json/);
        assert.match(m, /boom: cannot parse/);
        assert.match(m, new RegExp(`pod ${scanName}-3-abcde`));
        assert.equal(d.status?.completionTime, NOW.toISOString());
      },
    },
  },
  {
    name: 'a failed index whose receipt exists does not fail a complete stage (receipts are the truth)',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { failedIndexes: [2], complete: false, active: 0 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true } }) }),
    want: { phase: 'Building', actions: [`planBuild ${R}`] },
  },
  {
    name: 'too many rejects fail the run with the counts',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8), { read: 100, accepted: 50, rejected: 50 }), quality: { ok: false, message: 'rejected 400 of 800 records (50.00%) > maxRejectRatio 0.01' } }) }),
    want: { phase: 'Failed', conditions: { Failed: 'True/RejectRatioExceeded' }, events: ['RejectRatioExceeded'], check: (d) => assert.match(d.status!.conditions!.find((c) => c.type === 'Failed')!.message!, /400 of 800/) },
  },
  {
    name: 'a complete scan Job with missing receipts waits for S3 within the grace period',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0, completionTime: new Date(NOW.getTime() - 5000).toISOString() })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(7)) }) }),
    want: { phase: 'Scanning', actions: [], requeue: CONFIG.pollIntervalMs },
  },
  {
    name: 'a complete scan Job with missing receipts after the grace period fails the run naming the shards',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0, completionTime: new Date(NOW.getTime() - 60_000).toISOString() })], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1, 2, 3, 4, 6]) }) }),
    want: {
      phase: 'Failed',
      conditions: { Failed: 'True/ReceiptMissing' },
      check: (d) => assert.match(d.status!.conditions!.find((c) => c.type === 'Failed')!.message!, new RegExp(`shard\\(s\\) 5, 7 wrote no receipt under s3://lake/sparkify/_lake/runs/${R}/scan/receipts/`)),
    },
  },
  {
    name: 'a finished scan with a good quality verdict plans the build',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true } }) }),
    want: { phase: 'Building', actions: [`planBuild ${R}`], events: ['Building'], requeue: 0, check: (d) => assert.equal(d.status?.progress, '0/?') },
  },
  {
    name: 'a build plan without its Job creates the build Job',
    job: atBuild(),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan }) }),
    want: { phase: 'Building', actions: [`createJob ${buildName} x4`], events: [] },
  },
  {
    name: 'partitions land while the build runs (0 < landed < total)',
    job: atBuild(),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0 }), jobView(R, 'build', { completions: 4 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts([0, 2]) }) }),
    want: {
      phase: 'Building',
      actions: [],
      requeue: CONFIG.pollIntervalMs,
      check: (d) => {
        assert.equal(d.status?.progress, '2/4');
        const songplays = d.status!.tables!.find((t) => t.name === 'songplays')!;
        assert.deepEqual(songplays, { name: 'songplays', partitions: 2, partitionsLanded: 2, rows: 200, bytes: 10000 });
        const time = d.status!.tables!.find((t) => t.name === 'time')!;
        assert.ok(time.partitionsLanded! > 0 && time.partitionsLanded! <= time.partitions!);
        const songs = d.status!.tables!.find((t) => t.name === 'songs')!;
        assert.ok(songs.partitionsLanded! > 0 && songs.partitionsLanded! < songs.partitions!);
        assert.equal(d.status?.rows, 71 + 69 + 97 + 2 * 90 + 2 * 100);
      },
    },
  },
  {
    name: 'all build receipts: commit, then Succeeded',
    job: atBuild(),
    obs: observed({ jobs: [jobView(R, 'build', { complete: true, active: 0, completions: 4 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts(range(4)) }) }),
    want: {
      phase: 'Committing',
      actions: [`commit ${R} then Succeeded`],
      events: ['Committing'],
      check: (d) => {
        const then = (d.actions[0] as Extract<Action, { type: 'commit' }>).then;
        assert.equal(then.status.lastSuccessfulRunId, R);
        assert.equal(then.status.completionTime, NOW.toISOString());
        assert.deepEqual(then.events.map((e) => e.reason), ['Succeeded']);
        assert.equal(then.status.conditions!.find((c) => c.type === 'Succeeded')!.status, 'True');
        // Once everything landed, partitions are the landed counts (song partitions may vanish in dedup).
        assert.equal(then.status.tables!.find((t) => t.name === 'songs')!.partitions, 3);
      },
    },
  },
  {
    name: 'a Succeeded run is left alone (no S3, no Jobs, no status write)',
    job: withStatus(j1, decide(atBuild(), observed({ jobs: [], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts(range(4)) }) }), CONFIG).actions.map((a) => (a.type === 'commit' ? a.then.status : null)).find(Boolean)!),
    obs: observed({ secret: undefined }),
    want: { phase: 'Succeeded', actions: [], unchanged: true, requeue: 'none' },
  },
  {
    name: 'suspend on a Succeeded run bumps observedGeneration only: no rerun',
    job: { ...withStatus(lakeJob({ generation: 2, spec: { suspend: true } }), { ...statusAt(j1, 'Succeeded'), conditions: [] }) },
    obs: observed({ secret: undefined }),
    want: { phase: 'Succeeded', actions: [], check: (d) => {
      assert.equal(d.status?.runId, R);
      assert.equal(d.status?.observedGeneration, 2);
    } },
  },
  {
    name: 'spec change mid-scan stops the old run first',
    job: j2WithOldRun('Scanning'),
    obs: observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0]) }) }),
    want: { actions: [`deleteJob ${scanName}`], events: ['SpecChanged'], requeue: CONFIG.stopPollMs, check: (d) => assert.equal(d.status, undefined) },
  },
  {
    name: 'spec change: waits while the old Jobs are being deleted',
    job: j2WithOldRun('Scanning'),
    obs: observed({ jobs: [jobView(R, 'scan', { deleting: true })], run: run(R, { scanPlan }) }),
    want: { actions: [], events: [], requeue: CONFIG.stopPollMs },
  },
  {
    name: 'spec change: once the old Jobs are gone the old run is discarded, then the new run starts',
    job: j2WithOldRun('Scanning'),
    obs: observed({ jobs: [], run: run(R, { scanPlan }) }),
    want: {
      actions: [`discard ${R} then Planning ${R2}`],
      check: (d) => {
        assert.notEqual(R2, R);
        const then = (d.actions[0] as Extract<Action, { type: 'discard' }>).then!;
        assert.equal(then.status.specHash, specHash(j2.spec));
        assert.equal(then.status.output, 's3://lake/sparkify-v2/');
        assert.equal((d.actions[0] as Extract<Action, { type: 'discard' }>).output, 's3://lake/sparkify/');
      },
    },
  },
  {
    name: 'spec change after success starts the new run directly (a committed run is never discarded)',
    job: j2WithOldRun('Succeeded', { lastSuccessfulRunId: R }),
    obs: observed({ jobs: [], run: run(R, { committed: true }) }),
    want: { phase: 'Planning', actions: [], events: ['RunStarted', 'Planning'], check: (d) => {
      assert.equal(d.status?.runId, R2);
      assert.equal(d.status?.lastSuccessfulRunId, R);
    } },
  },
  {
    name: 'a changed rerunToken reruns an unchanged spec',
    job: withStatus(lakeJob({ generation: 3, spec: { rerunToken: '2026-03-02' } }), { ...statusAt(j1, 'Succeeded') }),
    obs: observed(),
    want: { phase: 'Planning', events: ['RunStarted', 'Planning'], check: (d) => assert.equal(d.status?.runId, runIdFor(UID, 3, '2026-03-02')) },
  },
  {
    name: 'suspend mid-scan suspends the running Job and reports Suspended',
    job: withStatus(lakeJob({ generation: 2, spec: { suspend: true } }), statusAt(j1, 'Scanning')),
    obs: observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1]) }) }),
    want: { phase: 'Scanning', actions: [`suspendJob ${scanName} true`], events: ['Suspended'], conditions: { Suspended: 'True/SpecSuspend', Running: 'False/Suspended' }, requeue: 'none' },
  },
  {
    name: 'resuming unsuspends the Job',
    job: withStatus(lakeJob({ generation: 3 }), { ...statusAt(j1, 'Scanning'), conditions: [{ type: 'Suspended', status: 'True', reason: 'SpecSuspend', lastTransitionTime: '2026-03-01T11:50:00.000Z' }] }),
    obs: observed({ jobs: [jobView(R, 'scan', { suspended: true, active: 0 })], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1]) }) }),
    want: { phase: 'Scanning', actions: [`suspendJob ${scanName} false`], events: ['Resumed'], conditions: { Suspended: 'False/NotSuspended', Running: 'True/Scanning' } },
  },
  {
    name: 'a failed run waits for its pods to stop before discarding',
    job: withStatus(j1, decideOnce(atScan(), observed({ jobs: [failedScanJob], run: run(R, { scanPlan }) })).status!),
    obs: observed({ jobs: [{ ...failedScanJob, failure: null, active: 1 }], run: run(R, { scanPlan }) }),
    want: { phase: 'Failed', actions: [`deleteJob ${scanName}`], requeue: CONFIG.stopPollMs },
  },
  {
    name: 'a failed run whose Jobs stopped is discarded, then the cleanup is marked done',
    job: withStatus(j1, decideOnce(atScan(), observed({ jobs: [failedScanJob], run: run(R, { scanPlan }) })).status!),
    obs: observed({ jobs: [failedScanJob], run: run(R, { scanPlan }) }),
    want: {
      phase: 'Failed',
      actions: [`discard ${R} then Failed ${R}`],
      check: (d) => {
        const then = (d.actions[0] as Extract<Action, { type: 'discard' }>).then!;
        assert.equal(then.status.conditions!.find((c) => c.type === 'Running')!.reason, 'Failed');
        assert.equal(then.status.conditions!.find((c) => c.type === 'Failed')!.status, 'True');
      },
    },
  },
  {
    name: 'deletion stops the Jobs first',
    job: withStatus(lakeJob({ deleting: true }), statusAt(j1, 'Building')),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0 }), jobView(R, 'build')], run: run(R, { scanPlan }) }),
    want: { actions: [`deleteJob ${scanName}`, `deleteJob ${buildName}`], events: ['Deleting'], requeue: CONFIG.stopPollMs },
  },
  {
    name: 'deletion of an unfinished run discards its staging, then releases the finalizer',
    job: withStatus(lakeJob({ deleting: true }), statusAt(j1, 'Building')),
    obs: observed({ jobs: [], run: run(R, { scanPlan }) }),
    want: { actions: [`discard ${R}`, 'removeFinalizer'] },
  },
  {
    name: 'deletion without the Secret does not hang: the staging is left in place and said so',
    job: withStatus(lakeJob({ deleting: true }), statusAt(j1, 'Building')),
    obs: observed({ jobs: [], secret: { state: 'missing' } }),
    want: { actions: ['removeFinalizer'], events: ['DiscardSkipped'] },
  },
  {
    name: 'spec change without the Secret starts (and reports) the new run without discarding',
    job: j2WithOldRun('Scanning'),
    obs: observed({ jobs: [], secret: { state: 'missing' } }),
    want: { phase: 'Pending', actions: [], conditions: { Invalid: 'True/SecretNotFound' } },
  },
  {
    name: 'deletion after success never discards (committed lake data stays)',
    job: withStatus(lakeJob({ deleting: true }), statusAt(j1, 'Succeeded')),
    obs: observed({ jobs: [], run: run(R, { committed: true }) }),
    want: { actions: ['removeFinalizer'] },
  },
  {
    name: 'deletion mid-commit of a run already committed does not discard it',
    job: withStatus(lakeJob({ deleting: true }), statusAt(j1, 'Committing')),
    obs: observed({ jobs: [], run: run(R, { committed: true }) }),
    want: { actions: ['removeFinalizer'] },
  },
  {
    name: 'deletion without our finalizer does nothing',
    job: withStatus(lakeJob({ deleting: true, finalizers: ['other/x'] }), statusAt(j1, 'Building')),
    obs: observed({ jobs: [jobView(R, 'build')] }),
    want: { actions: [] },
  },
  {
    name: 'Jobs of another run next to the current one are stopped',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan'), jobView('7-deadbeef', 'build', { name: 'nightly-7-deadbeef-build' })], run: run(R, { scanPlan, scanReceipts: scanReceipts([0]) }) }),
    want: { phase: 'Scanning', actions: ['deleteJob nightly-7-deadbeef-build'] },
  },
  {
    name: 'pods that cannot start are reported in the Running message with a Warning, the run keeps waiting',
    job: atScan(),
    obs: observed({ jobs: [jobView(R, 'scan', { ready: 0 })], run: run(R, { scanPlan, stuckPods: [{ pod: `${scanName}-0-abcde`, reason: 'ErrImagePull', message: 'image "x" not found' }] }) }),
    want: {
      phase: 'Scanning',
      actions: [],
      events: ['PodsCannotStart'],
      conditions: { Running: 'True/Scanning' },
      check: (d) => assert.match(d.status!.conditions!.find((c) => c.type === 'Running')!.message!, new RegExp(`0/8 shards done; 1 pod\\(s\\) cannot start: ${scanName}-0-abcde: ErrImagePull: image "x" not found`)),
    },
  },
  {
    name: 'a scan Job the API server refused stays reported, and is not re-created, until the retry is due',
    job: atScan({ conditions: [refused(10_000)] }),
    obs: observed({ run: run(R, { scanPlan }) }),
    want: { phase: 'Scanning', actions: [], events: [], requeue: CONFIG.invalidRetryMs - 10_000, conditions: { Invalid: 'True/JobRejected', Running: 'False/Invalid' } },
  },
  {
    name: 'a due retry creates the refused Job again while the refusal stays reported',
    job: atScan({ conditions: [refused(31_000)] }),
    obs: observed({ run: run(R, { scanPlan }) }),
    want: { phase: 'Scanning', actions: [`createJob ${scanName} x8`], events: [], conditions: { Invalid: 'True/JobRejected' } },
  },
  {
    name: 'once the refused Job exists the refusal is resolved',
    job: atScan({ conditions: [refused(31_000)] }),
    obs: observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan }) }),
    want: { phase: 'Scanning', actions: [], events: ['Valid'], conditions: { Invalid: 'False/Valid', Running: 'True/Scanning' } },
  },
  {
    name: 'a refused build Job is paced the same way',
    job: atBuild({ conditions: [refused(1_000)] }),
    obs: observed({ jobs: [jobView(R, 'scan', { complete: true, active: 0 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan }) }),
    want: { phase: 'Building', actions: [], conditions: { Invalid: 'True/JobRejected' }, requeue: CONFIG.invalidRetryMs - 1_000 },
  },
  {
    name: 'a Secret deleted mid-run keeps the phase, reports Invalid and creates nothing',
    job: atScan({ plan: { shards: 8, inputObjects: 101, inputBytes: 4_000_000, skew: 1.031 }, progress: '2/8' }),
    obs: observed({ secret: { state: 'missing' }, jobs: [jobView(R, 'scan')] }),
    want: { phase: 'Scanning', actions: [], conditions: { Invalid: 'True/SecretNotFound', Running: 'False/Invalid' }, check: (d) => assert.equal(d.status?.progress, '2/8') },
  },
];

function decideOnce(job: SparkifyLakeJob, obs: Observed): Decision {
  return decide(job, obs, CONFIG);
}

for (const c of cases) {
  test(`decide: ${c.name}`, () => {
    const d = decide(c.job, c.obs, CONFIG);
    const w = c.want;
    if (w.phase !== undefined) assert.equal(d.status?.phase, w.phase, 'phase');
    if (w.actions !== undefined) assert.deepEqual(d.actions.map(describeAction), w.actions, 'actions');
    if (w.events !== undefined) assert.deepEqual(d.events.map((e) => e.reason), w.events, 'events');
    if (w.requeue !== undefined) assert.equal(d.requeueAfterMs, w.requeue === 'none' ? undefined : w.requeue, 'requeue');
    if (w.conditions) {
      for (const [type, want] of Object.entries(w.conditions)) {
        const got = d.status?.conditions?.find((x) => x.type === type);
        assert.equal(got ? `${got.status}/${got.reason}` : 'absent', want, `condition ${type}`);
      }
    }
    if (w.unchanged) assert.equal(statusChanged(c.job.status, d.status), false, 'status must not be rewritten');
    w.check?.(d, c.job);
    // Restart property: a fresh process observing the same world decides the same, byte for byte.
    assert.deepEqual(decide(structuredClone(c.job), cloneObserved(c.obs), CONFIG), d);
  });
}

function cloneObserved(o: Observed): Observed {
  return { ...structuredClone({ ...o, run: undefined }), now: new Date(o.now), ...(o.run ? { run: { ...o.run, scanReceipts: new Map(o.run.scanReceipts), buildReceipts: new Map(o.run.buildReceipts) } } : {}) };
}

test('decide: a status written once is not written again (idempotent reconcile)', () => {
  // Walk a run through its phases, feeding each decided status back in with the same observation.
  const steps: [SparkifyLakeJob, Observed][] = [
    [withStatus(j1, statusAt(j1, 'Planning')), observed({ run: run(R) })],
    [atScan(), observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1]) }) })],
    [atBuild(), observed({ jobs: [jobView(R, 'build', { completions: 4 })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts([1]) }) })],
  ];
  for (const [job, obs] of steps) {
    const first = decide(job, obs, CONFIG);
    const again = decide(withStatus(job, first.status!), obs, CONFIG);
    assert.equal(statusChanged(first.status, again.status), false);
    assert.deepEqual(again.events, []);
  }
});

test('decide: lastTransitionTime moves only when a condition changes status', () => {
  const first = decide(atScan(), observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0]) }) }), CONFIG);
  const later = { ...observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1, 2]) }) }), now: new Date(NOW.getTime() + 60_000) };
  const second = decide(withStatus(j1, first.status!), later, CONFIG);
  const lt = (d: Decision, t: string) => d.status!.conditions!.find((c) => c.type === t)!.lastTransitionTime;
  assert.equal(lt(second, 'Running'), lt(first, 'Running'));
  assert.equal(second.status?.progress, '3/8');
  const failed = decide(withStatus(j1, second.status!), { ...later, jobs: [failedScanJob], now: new Date(NOW.getTime() + 120_000) }, CONFIG);
  assert.equal(lt(failed, 'Failed'), new Date(NOW.getTime() + 120_000).toISOString());
  assert.equal(lt(failed, 'Succeeded'), lt(first, 'Succeeded'));
});

test('invalidFromAction reports the S3 problem and re-arms the retry timer', () => {
  const job = withStatus(j1, { ...statusAt(j1, 'Planning'), conditions: [{ type: 'Invalid', status: 'True', reason: 'BucketNotFound', message: 'old', observedGeneration: 1, lastTransitionTime: '2026-03-01T10:00:00.000Z' }] });
  const d = invalidFromAction(job, NOW, 'BucketNotFound', 'bucket "raw" does not exist at http://minio:9000 (create it, or fix spec.source)', CONFIG);
  const c = d.status!.conditions!.find((x) => x.type === 'Invalid')!;
  assert.equal(c.status, 'True');
  assert.equal(c.lastTransitionTime, NOW.toISOString());
  assert.match(c.message!, /create it, or fix spec.source/);
  assert.equal(d.requeueAfterMs, CONFIG.invalidRetryMs);
  assert.equal(d.status?.phase, 'Planning');
  assert.deepEqual(d.actions, []);
});

test('jobRefusal: 422/400 point at the runner fields, 403 at RBAC, quotas and admission', () => {
  const table: [number, string, RegExp][] = [
    [422, 'JobRejected', /rejected Job j-scan: boom \(the Job is built from spec\.runner/],
    [400, 'JobRejected', /rejected Job j-scan: boom/],
    [403, 'JobForbidden', /forbade creating Job j-scan: boom \(check the operator's RBAC for this namespace — the chart's watchNamespaces — and its ResourceQuotas/],
  ];
  for (const [code, reason, message] of table) {
    const r = jobRefusal(code, 'j-scan', 'boom');
    assert.equal(r.reason, reason, String(code));
    assert.match(r.message, message);
    assert.equal(r.retry, true);
  }
});
