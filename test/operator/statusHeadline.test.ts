// status.reason / status.message (what `kubectl get slj` shows next to the phase) over the states a
// person meets, and the Event key that keeps a re-checked Invalid from becoming a new Event each time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, LakeJobStatus } from '../../operator/src/crd/types.js';
import { eventName } from '../../operator/src/kube/eventRecorder.js';
import { decide, invalidFromAction } from '../../operator/src/run/decide.js';
import { eventKey, eventsBetween, withoutTimings } from '../../operator/src/run/events.js';
import { HEADLINE_MAX, headline } from '../../operator/src/run/status.js';
import { CONFIG, jobView, lakeJob, NOW, observed, range, run, runOf, scanPlan, scanReceipts, buildPlan, buildReceipts, statusAt, withStatus } from './fixtures.js';

const at = NOW.toISOString();
const c = (type: Condition['type'], status: 'True' | 'False', reason: string, message = ''): Condition => ({ type, status, reason, message, observedGeneration: 1, lastTransitionTime: at });
const healthy = [c('Running', 'True', 'Scanning', 'scan: 3/8 shards done'), c('Succeeded', 'False', 'Scanning'), c('Failed', 'False', 'NoFailure'), c('Invalid', 'False', 'Valid'), c('Suspended', 'False', 'NotSuspended')];
const replace = (list: Condition[], ...by: Condition[]) => list.map((x) => by.find((b) => b.type === x.type) ?? x);

test('headline: the reason a person must act on, and one line saying it', () => {
  const cases: { name: string; conditions: Condition[]; reason: string | undefined; message: string | RegExp | undefined }[] = [
    { name: 'running: no reason, the progress note', conditions: healthy, reason: undefined, message: 'scan: 3/8 shards done' },
    {
      name: 'a missing Secret',
      conditions: replace(healthy, c('Running', 'False', 'Invalid'), c('Invalid', 'True', 'SecretNotFound', 'Secret "lake-s3" not found in namespace "a": create it')),
      reason: 'SecretNotFound',
      message: 'Invalid: SecretNotFound: Secret "lake-s3" not found in namespace "a": create it',
    },
    {
      name: 'Invalid wins over a suspension (the fix is needed either way)',
      conditions: replace(healthy, c('Invalid', 'True', 'BucketNotFound', 'bucket "x" does not exist'), c('Suspended', 'True', 'SpecSuspend')),
      reason: 'BucketNotFound',
      message: 'Invalid: BucketNotFound: bucket "x" does not exist',
    },
    {
      name: 'a failed shard: its multi-line message on one line',
      conditions: replace(healthy, c('Running', 'False', 'CleaningUp', 'stopping'), c('Failed', 'True', 'ShardFailed', 'scan Job j failed\n- scan shard 3, exit code 1\n  last log lines:\n    boom')),
      reason: 'ShardFailed',
      message: 'Failed: ShardFailed: scan Job j failed - scan shard 3, exit code 1 last log lines: boom',
    },
    {
      name: 'pods that cannot start',
      conditions: replace(healthy, c('Running', 'True', 'Scanning', 'scan: 0/8 shards done; 2 pod(s) cannot start: p-0: ErrImagePull: not found')),
      reason: 'PodsCannotStart',
      message: 'scan: 0/8 shards done; 2 pod(s) cannot start: p-0: ErrImagePull: not found',
    },
    { name: 'suspended', conditions: replace(healthy, c('Running', 'False', 'Suspended'), c('Suspended', 'True', 'SpecSuspend')), reason: 'Suspended', message: /^Suspended: spec\.suspend is true/ },
    {
      name: 'succeeded: what was committed',
      conditions: replace(healthy, c('Running', 'False', 'Succeeded'), c('Succeeded', 'True', 'RunCommitted', 'run r committed to s3://lake/x/: 9 rows in 5 tables')),
      reason: undefined,
      message: 'run r committed to s3://lake/x/: 9 rows in 5 tables',
    },
    { name: 'nothing to say', conditions: replace(healthy, c('Running', 'False', 'Pending')), reason: undefined, message: undefined },
    { name: 'a long message is cut', conditions: replace(healthy, c('Invalid', 'True', 'InvalidStorage', 'x'.repeat(5000))), reason: 'InvalidStorage', message: /… \(truncated\)$/ },
  ];
  for (const k of cases) {
    const got = headline(k.conditions);
    assert.equal(got.reason, k.reason, k.name);
    if (k.message instanceof RegExp) assert.match(got.message ?? '', k.message, k.name);
    else assert.equal(got.message, k.message, k.name);
    assert.ok(!got.message?.includes('\n') && (got.message?.length ?? 0) <= HEADLINE_MAX, k.name);
  }
});

test('decide() writes reason and message, and clears them when the cause is gone', () => {
  const j = lakeJob();
  const R = runOf(j);
  const missing = decide(j, observed({ secret: { state: 'missing' } }), CONFIG).status!;
  assert.equal(missing.phase, 'Pending', 'the phase stays the lifecycle');
  assert.equal(missing.reason, 'SecretNotFound');
  assert.match(missing.message!, /^Invalid: SecretNotFound: Secret "lake-s3" \(spec\.storage\.credentialsSecret\) not found in namespace "analytics"/);

  // The Secret appears: the run starts and the reason goes away.
  const started = decide(withStatus(j, missing), observed(), CONFIG).status!;
  assert.equal(started.phase, 'Planning');
  assert.equal(started.reason, undefined);
  assert.equal(started.message, 'listing the inputs');

  const scanning = decide(withStatus(j, statusAt(j, 'Scanning')), observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1]) }) }), CONFIG).status!;
  assert.deepEqual([scanning.reason, scanning.message], [undefined, 'scan: 2/8 shards done']);

  const failed = decide(withStatus(j, statusAt(j, 'Scanning')), observed({ jobs: [jobView(R, 'scan', { failedIndexes: [1], failure: { reason: 'FailedIndexes', message: 'x' } })], run: run(R, { scanPlan }) }), CONFIG).status!;
  assert.equal(failed.reason, 'ShardFailed');
  assert.match(failed.message!, /^Failed: ShardFailed: scan Job nightly-.*-scan failed/);

  const s3 = invalidFromAction(withStatus(j, statusAt(j, 'Planning')), NOW, 'StorageUnreachable', 'cannot reach S3 endpoint http://127.0.0.1:9: connect ECONNREFUSED (list s3://raw/song_data/ after 8 attempts over 5.6 s)', CONFIG).status!;
  assert.equal(s3.phase, 'Planning');
  assert.equal(s3.reason, 'StorageUnreachable');
  assert.match(s3.message!, /^Invalid: StorageUnreachable: cannot reach S3 endpoint/);

  const committing = decide(withStatus(j, statusAt(j, 'Building')), observed({ jobs: [], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts(range(4)) }) }), CONFIG);
  const done = committing.actions.find((a) => a.type === 'commit');
  assert.ok(done?.type === 'commit');
  assert.equal(done.then.status.reason, undefined);
  assert.match(done.then.status.message!, new RegExp(`^run ${R} committed to s3://lake/sparkify/`));
});

test('withoutTimings: the same problem seen again has the same key; another problem does not', () => {
  const cases: [string, string, string, boolean][] = [
    ['attempt count and seconds', 'cannot reach S3 endpoint http://h:9: ECONNREFUSED (list s3://raw/a/ after 8 attempts over 5.6 s)', 'cannot reach S3 endpoint http://h:9: ECONNREFUSED (list s3://raw/a/ after 7 attempts over 5.3 s)', true],
    ['milliseconds', 'request timed out after 30000 ms', 'request timed out after 29990 ms', true],
    ['another endpoint', 'cannot reach S3 endpoint http://h:9: ECONNREFUSED', 'cannot reach S3 endpoint http://h:10: ECONNREFUSED', false],
    ['counts are not timings', 'scan: 3 shards failed', 'scan: 4 shards failed', false],
    ['an s3:// URI is not "3 s"', 'bucket s3://a3 s3://b', 'bucket s3://a3 s3://c', false],
  ];
  for (const [name, a, b, same] of cases) {
    assert.equal(withoutTimings(a) === withoutTimings(b), same, `${name}: ${withoutTimings(a)} | ${withoutTimings(b)}`);
    const ea = { type: 'Warning' as const, reason: 'StorageUnreachable', message: a };
    const eb = { ...ea, message: b };
    assert.equal(eventKey('u1', ea) === eventKey('u1', eb), same, name);
    assert.equal(eventName({ name: 'nightly', namespace: 'n', uid: 'u1' }, ea) === eventName({ name: 'nightly', namespace: 'n', uid: 'u1' }, eb), same, name);
  }
  const e = { type: 'Warning' as const, reason: 'SecretNotFound', message: 'm' };
  assert.notEqual(eventKey('u1', e), eventKey('u2', e), 'a re-created lake job (new uid) gets its own Events');
  assert.notEqual(eventKey('u1', e), eventKey('u1', { ...e, reason: 'SecretKeyMissing' }));
  assert.match(eventName({ name: 'nightly', namespace: 'n', uid: 'u1' }, e), /^nightly\.[0-9a-f]{16}$/);
  assert.ok(eventName({ name: 'x'.repeat(253), namespace: 'n', uid: 'u1' }, e).length <= 253);
});

test('eventsBetween: an Invalid whose message changed only in its timings is not announced again', () => {
  const st = (message: string): LakeJobStatus => ({ phase: 'Planning', conditions: [c('Invalid', 'True', 'StorageUnreachable', message)] });
  const a = 'cannot reach S3 endpoint http://h:9 (list s3://raw/a/ after 8 attempts over 5.6 s)';
  assert.deepEqual(eventsBetween(st(a), st(a.replace('5.6', '5.3').replace('8 attempts', '7 attempts'))), []);
  assert.deepEqual(eventsBetween(st(a), st('cannot reach S3 endpoint http://other:9')).map((e) => e.reason), ['StorageUnreachable']);
  assert.deepEqual(eventsBetween({ phase: 'Planning', conditions: [] }, st(a)).map((e) => e.reason), ['StorageUnreachable']);
});
