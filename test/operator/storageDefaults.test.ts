// S3 settings: a lake job's spec.storage, field by field, over the operator's defaults (the chart's
// s3.* values), over the built-in ones; and what decide() makes of them — the runner pods' env, an
// Invalid condition naming exactly what to set when no credentials Secret is named anywhere, and no
// rerun when only the operator's defaults change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LakeJobSpecInput, SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { decide, type Action, type DecideConfig } from '../../operator/src/run/decide.js';
import { resolveStorage, type ResolvedStorage, type StorageDefaults } from '../../operator/src/run/storage.js';
import { CONFIG, jobView, lakeJob, observed, run, runOf, scanPlan, statusAt, withStatus } from './fixtures.js';

const MINIO: StorageDefaults = { endpoint: 'http://minio.storage:9000', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'lake-default' };

test('resolveStorage: spec wins field by field, then the operator default, then the built-in', async (t) => {
  const cases: { name: string; spec: LakeJobSpecInput['storage']; defaults: StorageDefaults; want: ResolvedStorage | null }[] = [
    { name: 'nothing anywhere: no storage', spec: undefined, defaults: {}, want: null },
    { name: 'an endpoint but no Secret anywhere: no storage', spec: { endpoint: 'http://minio:9000' }, defaults: { region: 'eu-west-1' }, want: null },
    { name: 'the spec alone, built-in region and addressing', spec: { credentialsSecret: 'mine' }, defaults: {}, want: { region: 'us-east-1', forcePathStyle: false, credentialsSecret: 'mine', credentialsFrom: 'spec' } },
    { name: 'no spec.storage: every field from the operator', spec: undefined, defaults: MINIO, want: { endpoint: 'http://minio.storage:9000', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'lake-default', credentialsFrom: 'operator' } },
    { name: 'an empty spec.storage is the same as none', spec: {}, defaults: MINIO, want: { endpoint: 'http://minio.storage:9000', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'lake-default', credentialsFrom: 'operator' } },
    {
      name: 'the spec names its own Secret; the store comes from the operator',
      spec: { credentialsSecret: 'team-a' },
      defaults: MINIO,
      want: { endpoint: 'http://minio.storage:9000', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'team-a', credentialsFrom: 'spec' },
    },
    {
      name: 'a lake job on AWS next to a MinIO default sets the fields that differ, false included',
      spec: { endpoint: 'https://s3.us-west-2.amazonaws.com', region: 'us-west-2', forcePathStyle: false },
      defaults: MINIO,
      want: { endpoint: 'https://s3.us-west-2.amazonaws.com', region: 'us-west-2', forcePathStyle: false, credentialsSecret: 'lake-default', credentialsFrom: 'operator' },
    },
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(resolveStorage(c.spec, c.defaults), c.want));
});

/** The fixture lake job, written without spec.storage. */
const withoutStorage = (): SparkifyLakeJob => {
  const job = lakeJob();
  delete job.spec.storage;
  return job;
};
const withDefaults = (storageDefaults: StorageDefaults): DecideConfig => ({ ...CONFIG, storageDefaults });

test('decide: no storage in the spec and no operator default is Invalid, saying exactly what to set; no run, no retry', () => {
  const job = withoutStorage();
  assert.equal(job.spec.storage, undefined, 'the CRD no longer requires spec.storage');
  const d = decide(job, observed({ secret: undefined }), CONFIG);
  assert.equal(d.status?.phase, 'Pending');
  assert.equal(d.status?.runId, undefined);
  assert.deepEqual(d.actions, []);
  // Only a spec edit (a new generation) or an operator restarted with defaults can change this.
  assert.equal(d.requeueAfterMs, undefined);
  const invalid = d.status!.conditions!.find((c) => c.type === 'Invalid')!;
  assert.equal(`${invalid.status}/${invalid.reason}`, 'True/StorageNotConfigured');
  assert.match(invalid.message!, /set spec\.storage\.credentialsSecret to a Secret in namespace "analytics" holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  assert.match(invalid.message!, /Helm values s3\.credentialsSecret, s3\.endpoint, s3\.region, s3\.forcePathStyle/);
  assert.deepEqual(d.events.map((e) => e.reason), ['Pending', 'StorageNotConfigured']);
});

test('decide: with operator defaults a lake job without spec.storage runs, its pods get the defaults', () => {
  const job = withoutStorage();
  const start = decide(job, observed(), withDefaults(MINIO));
  assert.equal(start.status?.phase, 'Planning');
  const R = runOf(job);
  const scanning = decide(withStatus(job, statusAt(job, 'Planning')), observed({ run: run(R, { scanPlan }) }), withDefaults(MINIO));
  const create = scanning.actions.find((a): a is Extract<Action, { type: 'createJob' }> => a.type === 'createJob')!;
  const env = Object.fromEntries(create.job.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef?.name]));
  assert.deepEqual(env, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://minio.storage:9000', SPARKIFY_S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'lake-default', AWS_SECRET_ACCESS_KEY: 'lake-default' });
});

test("decide: a missing default Secret names the operator's setting, not the spec's", () => {
  const d = decide(withoutStorage(), observed({ secret: { state: 'missing' } }), withDefaults(MINIO));
  const invalid = d.status!.conditions!.find((c) => c.type === 'Invalid')!;
  assert.equal(invalid.reason, 'SecretNotFound');
  assert.match(invalid.message!, /Secret "lake-default" \(the operator's default --s3-credentials-secret, Helm value s3\.credentialsSecret\) not found in namespace "analytics"/);
});

test('decide: changed operator defaults never rerun an unchanged lake job (they are not part of the spec hash)', () => {
  const job = withoutStorage();
  const done = withStatus(job, { ...statusAt(job, 'Succeeded'), lastSuccessfulRunId: runOf(job) });
  for (const defaults of [MINIO, { ...MINIO, endpoint: 'http://other:9000', credentialsSecret: 'rotated' }]) {
    const d = decide(done, observed({ secret: undefined }), withDefaults(defaults));
    assert.equal(d.status?.runId, runOf(job));
    assert.equal(d.status?.phase, 'Succeeded');
    assert.deepEqual(d.actions, []);
  }
});

test('decide: a run whose storage is no longer configured (operator restarted without defaults) keeps its phase, reports Invalid, creates nothing', () => {
  const job = withoutStorage();
  const R = runOf(job);
  const d = decide(withStatus(job, statusAt(job, 'Scanning', { progress: '2/8' })), observed({ secret: undefined, jobs: [jobView(R, 'scan')] }), CONFIG);
  assert.equal(d.status?.phase, 'Scanning');
  assert.equal(d.status?.progress, '2/8');
  assert.deepEqual(d.actions, []);
  assert.equal(d.status!.conditions!.find((c) => c.type === 'Invalid')!.reason, 'StorageNotConfigured');
});
