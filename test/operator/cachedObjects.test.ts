// What the informers keep of each object (operator/src/control/cachedObjects.ts): everything the
// operator reads survives, the bulk (pod template, managedFields, last-applied) does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { cachedJob, cachedLakeJob, LAST_APPLIED } from '../../operator/src/control/cachedObjects.js';
import { jobView, stageJob } from '../../operator/src/run/jobs.js';
import { CONFIG, lakeJob, runOf, statusAt, storageOf, withStatus } from './fixtures.js';

const managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:output': {} } } }];

function ownedJob(status: V1Job['status'], extra: Partial<NonNullable<V1Job['metadata']>> = {}): V1Job {
  const lj = lakeJob();
  const job = stageJob({ lakeJob: lj, storage: storageOf(lj), runId: runOf(lj), stage: 'scan', shards: 8, defaultImage: CONFIG.defaultImage });
  return { ...job, metadata: { ...job.metadata, uid: 'job-uid', resourceVersion: '42', managedFields, ...extra } as V1Job['metadata'], ...(status ? { status } : {}) };
}

test('a cached Job tells jobView and onJob exactly what the full Job does', () => {
  const cases: { name: string; job: V1Job }[] = [
    { name: 'just created', job: ownedJob(undefined) },
    { name: 'running', job: ownedJob({ active: 2, ready: 1, succeeded: 3, completedIndexes: '0-2', startTime: new Date('2026-03-01T12:00:00Z') }) },
    { name: 'failed indexes', job: ownedJob({ failed: 2, failedIndexes: '1,3-4', conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True', reason: 'FailedIndexes', message: 'Job has failed indexes' }] }) },
    { name: 'complete', job: ownedJob({ succeeded: 8, conditions: [{ type: 'Complete', status: 'True' }], completionTime: new Date('2026-03-01T12:05:00Z') }) },
    { name: 'being deleted', job: ownedJob({ active: 1 }, { deletionTimestamp: new Date('2026-03-01T12:06:00Z') }) },
    { name: 'suspended', job: (() => { const j = ownedJob({}); j.spec!.suspend = true; return j; })() },
  ];
  for (const { name, job } of cases) {
    const cached = cachedJob(job);
    assert.deepEqual(jobView(cached), jobView(job), name);
    assert.deepEqual(cached.metadata?.ownerReferences, job.metadata?.ownerReferences, `${name}: owner (onJob)`);
    assert.deepEqual(cached.metadata?.labels, job.metadata?.labels, `${name}: labels (jobsOf)`);
    assert.equal(cached.metadata?.resourceVersion, '42', `${name}: resourceVersion (the cache compares it)`);
    assert.equal(cached.metadata?.managedFields, undefined, name);
    assert.deepEqual(cached.spec?.template, {}, `${name}: no pod template`);
    assert.ok(JSON.stringify(cached).length < JSON.stringify(job).length / 2, `${name}: ${JSON.stringify(cached).length} of ${JSON.stringify(job).length} bytes kept`);
  }
});

test('a cached lake job keeps spec, status and the metadata the operator reads, not managedFields or last-applied', () => {
  const base = withStatus(lakeJob({ finalizers: ['lake.sparkify.io/cleanup'], deleting: true }), statusAt(lakeJob(), 'Scanning'));
  const cases: { name: string; annotations?: Record<string, string>; want?: Record<string, string> }[] = [
    { name: 'no annotations' },
    { name: 'only last-applied', annotations: { [LAST_APPLIED]: JSON.stringify({ spec: base.spec }) } },
    { name: 'last-applied and another', annotations: { [LAST_APPLIED]: '{}', 'team/owner': 'analytics' }, want: { 'team/owner': 'analytics' } },
  ];
  for (const { name, annotations, want } of cases) {
    const full = { ...base, metadata: { ...base.metadata, labels: { app: 'lake' }, resourceVersion: '7', ...(annotations ? { annotations } : {}), managedFields, ownerReferences: [] } };
    const cached = cachedLakeJob(full);
    const { managedFields: _m, ownerReferences: _o, annotations: _a, ...kept } = full.metadata;
    assert.deepEqual(cached, { ...full, metadata: { ...kept, ...(want ? { annotations: want } : {}) } }, name);
  }
});
