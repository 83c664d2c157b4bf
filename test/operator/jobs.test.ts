// The stage Job manifests and the names they carry: deterministic, restricted, complete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobName, labelValue, MAX_JOB_NAME, runIdFor, specHash } from '../../operator/src/run/identity.js';
import { jobView, parseIndexes, stageJob } from '../../operator/src/run/jobs.js';
import { assertRunId } from '../../job-runner/src/index.js';
import { CONFIG, lakeJob, runOf, storageOf } from './fixtures.js';

test('run ids: deterministic, distinct per uid/generation/rerunToken, valid for the engine', () => {
  const table: [string, [string, number, string | undefined], [string, number, string | undefined], boolean][] = [
    ['same inputs', ['u1', 3, 'a'], ['u1', 3, 'a'], true],
    ['other generation', ['u1', 3, 'a'], ['u1', 4, 'a'], false],
    ['other rerunToken', ['u1', 3, 'a'], ['u1', 3, 'b'], false],
    ['no token vs empty token', ['u1', 3, undefined], ['u1', 3, ''], true],
    ['other uid (deleted and re-created)', ['u1', 3, 'a'], ['u2', 3, 'a'], false],
  ];
  for (const [name, a, b, same] of table) {
    assert.equal(runIdFor(...a) === runIdFor(...b), same, name);
    assert.equal(assertRunId(runIdFor(...a)), runIdFor(...a));
  }
  assert.equal(assertRunId(runIdFor('u', 2 ** 40, 'x'.repeat(63))).length <= 40, true);
});

test('spec hash ignores suspend and key order, sees every other change', () => {
  const a = lakeJob().spec;
  assert.equal(specHash({ ...a, suspend: true }), specHash(a));
  const reversed = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
  assert.notEqual(JSON.stringify(reversed(a)), JSON.stringify(a));
  assert.equal(specHash(reversed(a) as typeof a), specHash(a));
  assert.notEqual(specHash({ ...a, rerunToken: 'x' }), specHash(a));
  assert.notEqual(specHash({ ...a, sharding: { ...a.sharding, parallelism: 5 } }), specHash(a));
});

test('Job names stay within 52 characters, distinct for long names', () => {
  const runId = '12-0123abcd';
  assert.equal(jobName('nightly', runId, 'scan'), 'nightly-12-0123abcd-scan');
  const long1 = 'a'.repeat(200);
  const long2 = `${'a'.repeat(199)}b`;
  for (const n of [long1, long2, 'x.y-z'.repeat(20), `${'b'.repeat(40)}-`]) {
    for (const stage of ['scan', 'build'] as const) {
      const name = jobName(n, runId, stage);
      assert.ok(name.length <= MAX_JOB_NAME, `${name} is ${name.length} chars`);
      assert.match(name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      assert.ok(name.endsWith(`-${runId}-${stage}`));
    }
  }
  assert.notEqual(jobName(long1, runId, 'scan'), jobName(long2, runId, 'scan'));
});

test('label values are valid for any name', () => {
  assert.equal(labelValue('nightly'), 'nightly');
  for (const v of ['x'.repeat(100), 'a.b.c-' + 'z'.repeat(80), '-weird-']) {
    const l = labelValue(v);
    assert.ok(l.length <= 63);
    assert.match(l, /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/);
  }
});

test('stage Job: deterministic, owned, labelled, Indexed with per-index retries', () => {
  const lj = lakeJob({ spec: { runner: { image: 'reg/runner:1', imagePullPolicy: 'IfNotPresent', ttlSecondsAfterFinished: 600 } } });
  const runId = runOf(lj);
  const a = stageJob({ lakeJob: lj, storage: storageOf(lj), runId, stage: 'scan', shards: 12, defaultImage: CONFIG.defaultImage });
  const b = stageJob({ lakeJob: structuredClone(lj), storage: storageOf(structuredClone(lj)), runId, stage: 'scan', shards: 12, defaultImage: CONFIG.defaultImage });
  assert.deepEqual(a, b);
  assert.ok(!JSON.stringify(a).includes('2026'), 'no timestamps in the manifest');
  assert.equal(a.metadata?.name, `nightly-${runId}-scan`);
  assert.deepEqual(a.metadata?.ownerReferences, [{ apiVersion: 'lake.sparkify.io/v1alpha1', kind: 'SparkifyLakeJob', name: 'nightly', uid: lj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(a.metadata?.labels, {
    'app.kubernetes.io/name': 'sparkify-lake',
    'app.kubernetes.io/component': 'job-runner',
    'app.kubernetes.io/managed-by': 'sparkify-lake-operator',
    'lake.sparkify.io/lake-job': 'nightly',
    'lake.sparkify.io/lake-job-uid': lj.metadata.uid,
    'lake.sparkify.io/run-id': runId,
    'lake.sparkify.io/stage': 'scan',
  });
  const s = a.spec!;
  assert.equal(s.completionMode, 'Indexed');
  assert.equal(s.completions, 12);
  assert.equal(s.parallelism, 4);
  assert.equal(s.backoffLimitPerIndex, 2);
  assert.equal(s.maxFailedIndexes, 0);
  assert.equal(s.ttlSecondsAfterFinished, 600);
  assert.equal(s.suspend, false);
  assert.deepEqual(s.podFailurePolicy?.rules.map((r) => r.action), ['FailIndex', 'Ignore']);
  assert.deepEqual(s.podFailurePolicy?.rules[0]!.onExitCodes, { containerName: 'runner', operator: 'In', values: [3] });
  assert.deepEqual(s.template.metadata?.labels, a.metadata?.labels);
  const pod = s.template.spec!;
  assert.equal(pod.restartPolicy, 'Never');
  assert.equal(pod.containers[0]!.image, 'reg/runner:1');
  assert.deepEqual(pod.containers[0]!.args, ['shard', '--out', 's3://lake/sparkify/', '--run-id', runId, '--stage', 'scan']);
  // Parallelism never exceeds the shards.
  assert.equal(stageJob({ lakeJob: lj, storage: storageOf(lj), runId, stage: 'build', shards: 2, defaultImage: 'x' }).spec?.parallelism, 2);
  assert.equal(stageJob({ lakeJob: lakeJob(), storage: storageOf(lakeJob()), runId, stage: 'build', shards: 2, defaultImage: 'def:1' }).spec?.template.spec?.containers[0]!.image, 'def:1');
});

test('stage Job pods are restricted: non-root, read-only root, no capabilities, no token, creds by reference', () => {
  const lj = lakeJob();
  const job = stageJob({ lakeJob: lj, storage: storageOf(lj), runId: runOf(lj), stage: 'build', shards: 3, defaultImage: 'img' });
  const pod = job.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.ok((pod.securityContext?.runAsUser ?? 0) > 0);
  assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] });
  assert.deepEqual(c.volumeMounts, [{ name: 'scratch', mountPath: '/tmp' }]);
  assert.deepEqual(pod.volumes, [{ name: 'scratch', emptyDir: { sizeLimit: '256Mi' } }], 'scratch is capped: a runner cannot fill the node disk');
  const env = Object.fromEntries(c.env!.map((e) => [e.name, e]));
  assert.deepEqual(env.AWS_ACCESS_KEY_ID!.valueFrom, { secretKeyRef: { name: 'lake-s3', key: 'AWS_ACCESS_KEY_ID' } });
  assert.deepEqual(env.AWS_SECRET_ACCESS_KEY!.valueFrom, { secretKeyRef: { name: 'lake-s3', key: 'AWS_SECRET_ACCESS_KEY' } });
  assert.equal(env.AWS_ACCESS_KEY_ID!.value, undefined);
  assert.equal(env.AWS_ENDPOINT_URL!.value, 'http://minio:9000');
  assert.equal(env.AWS_REGION!.value, 'us-east-1');
  assert.equal(env.SPARKIFY_S3_FORCE_PATH_STYLE!.value, 'true');
  assert.equal(env.TMPDIR, undefined);
});

test('stage Job passes resources, nodeSelector, tolerations and affinity through', () => {
  const runner = {
    resources: { limits: { memory: '2Gi', cpu: 2 }, requests: { cpu: '500m' } },
    nodeSelector: { pool: 'batch' },
    tolerations: [{ key: 'batch', operator: 'Exists' as const, effect: 'NoSchedule' as const }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
  };
  const lj = lakeJob({ spec: { runner: runner as never } });
  const pod = stageJob({ lakeJob: lj, storage: storageOf(lj), runId: runOf(lj), stage: 'scan', shards: 1, defaultImage: 'img' }).spec!.template.spec!;
  assert.deepEqual(pod.containers[0]!.resources, { limits: { memory: '2Gi', cpu: '2' }, requests: { cpu: '500m' } });
  assert.deepEqual(pod.nodeSelector, runner.nodeSelector);
  assert.deepEqual(pod.tolerations, runner.tolerations);
  assert.deepEqual(pod.affinity, runner.affinity);
  const plain = stageJob({ lakeJob: lakeJob(), storage: storageOf(lakeJob()), runId: runOf(lj), stage: 'scan', shards: 1, defaultImage: 'img' }).spec!.template.spec!;
  assert.equal('nodeSelector' in plain || 'tolerations' in plain || 'affinity' in plain, false);
});

test('jobView reads typed-client Dates and raw watch JSON alike', () => {
  const lj = lakeJob();
  const job = stageJob({ lakeJob: lj, storage: storageOf(lj), runId: runOf(lj), stage: 'scan', shards: 6, defaultImage: 'img' });
  job.metadata!.uid = 'j-uid';
  job.status = { active: 1, succeeded: 3, failed: 4, failedIndexes: '1,4-5', startTime: new Date('2026-03-01T10:00:00Z'), conditions: [{ type: 'FailureTarget', status: 'True', reason: 'FailedIndexes', message: 'm' }, { type: 'Failed', status: 'True', reason: 'FailedIndexes', message: 'Job has failed indexes' }] } as never;
  const v = jobView(job)!;
  assert.equal(v.runId, runOf(lj));
  assert.equal(v.stage, 'scan');
  assert.deepEqual(v.failedIndexes, [1, 4, 5]);
  assert.deepEqual(v.failure, { reason: 'FailedIndexes', message: 'Job has failed indexes' });
  assert.equal(v.startTime, '2026-03-01T10:00:00.000Z');
  const raw = JSON.parse(JSON.stringify(job));
  assert.deepEqual(jobView(raw), v);
  assert.equal(jobView({ metadata: { name: 'x', labels: {} } }), null);
  assert.deepEqual(parseIndexes(''), []);
  assert.deepEqual(parseIndexes('0-2,7'), [0, 1, 2, 7]);
});
