// The Job controller's pure decisions (planJobSync + finishJobStatus), walked through whole Job
// lives in an in-memory world (jobSim.ts), compared against Kubernetes 1.33's behaviour.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPLETION_INDEX, JOB_TRACKING_FINALIZER } from '../../../devcluster/src/controllers/jobPods.js';
import { podsForRemoval } from '../../../devcluster/src/controllers/jobManage.js';
import { ttlDecision } from '../../../devcluster/src/controllers/jobStatus.js';
import { planJobSync } from '../../../devcluster/src/controllers/jobSync.js';
import { JobSim, makeJob } from './jobSim.js';

test('a new Indexed Job creates its first pods as the controller does', () => {
  const sim = new JobSim(makeJob({ completionMode: 'Indexed', completions: 5, parallelism: 2 }, 'etl'));
  const plan = sim.sync();
  assert.equal(plan.createPods.length, 2);
  const [p0, p1] = plan.createPods;
  assert.match(p0!.metadata.name!, /^etl-0-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(p0!.metadata.generateName, 'etl-0-');
  assert.match(p1!.metadata.name!, /^etl-1-/);
  assert.equal(p0!.metadata.annotations![COMPLETION_INDEX], '0');
  assert.equal(p1!.metadata.labels![COMPLETION_INDEX], '1');
  assert.equal(p0!.metadata.labels!['batch.kubernetes.io/job-name'], 'etl');
  assert.equal(p0!.metadata.labels!['batch.kubernetes.io/controller-uid'], 'uid-etl');
  assert.equal(p0!.metadata.labels!.app, 'a', 'template labels kept');
  assert.deepEqual(p0!.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
  assert.deepEqual(p0!.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'etl', uid: 'uid-etl', controller: true, blockOwnerDeletion: true }]);
  assert.equal(p0!.spec.hostname, 'etl-0');
  assert.deepEqual(p0!.spec.containers[0]!.env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } }]);
  assert.equal(sim.status.active, 2);
  assert.equal(sim.status.startTime, '2025-01-01T00:00:00Z');
  assert.equal(sim.status.terminating, 0);
});

test('Indexed Job: never more than parallelism, completedIndexes grows, then SuccessCriteriaMet and Complete', () => {
  const sim = new JobSim(makeJob({ completionMode: 'Indexed', completions: 5, parallelism: 2 }));
  sim.sync();
  const order = [1, 0, 2, 3, 4];
  const seen: string[] = [];
  for (const ix of order) {
    while (!sim.activeIndexes().includes(ix)) sim.sync();
    assert.ok(sim.active().length <= 2, 'parallelism respected');
    sim.advance(1000);
    sim.finish(ix, 'Succeeded');
    sim.sync();
    seen.push(sim.status.completedIndexes ?? '');
  }
  assert.deepEqual(seen, ['1', '0,1', '0-2', '0-3', '0-4']);
  assert.equal(sim.status.succeeded, 5);
  assert.ok(sim.condition('SuccessCriteriaMet'));
  const complete = sim.condition('Complete');
  assert.equal(complete?.reason, 'CompletionsReached');
  assert.equal(complete?.message, 'Reached expected number of succeeded pods');
  assert.equal(sim.status.completionTime, complete?.lastTransitionTime);
  assert.equal(sim.pods.size, 5, 'finished pods stay, without the finalizer');
  assert.ok([...sim.pods.values()].every((p) => !(p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)));
  // A finished Job plans nothing more.
  const again = sim.sync();
  assert.equal(again.createPods.length + again.deletePods.length, 0);
});

test('NonIndexed Job: failures go through uncountedTerminatedPods, then backoff, then BackoffLimitExceeded', () => {
  const sim = new JobSim(makeJob({ completions: 2, parallelism: 1, backoffLimit: 1 }));
  sim.sync();
  sim.advance(1000);
  const failed = sim.finish(-1, 'Failed', 2);
  const plan = sim.sync();
  // Write #1 records the uid before the finalizer goes; write #2 counts it.
  assert.deepEqual(plan.flushStatus?.uncountedTerminatedPods, { failed: [failed.metadata.uid] });
  assert.deepEqual(plan.removeFinalizersFrom.map((p) => p.metadata.uid), [failed.metadata.uid]);
  assert.equal(sim.status.failed, 1);
  assert.deepEqual(sim.status.uncountedTerminatedPods, {});
  // The replacement waits for the backoff (1 s base here).
  assert.equal(plan.createPods.length, 0);
  assert.equal(plan.requeueAfterMs, 1000);
  sim.advance(999);
  assert.equal(sim.sync().createPods.length, 0);
  sim.advance(1);
  assert.equal(sim.sync().createPods.length, 1);
  sim.advance(10);
  sim.finish(-1, 'Failed', 2);
  sim.sync();
  assert.equal(sim.status.failed, 2);
  const failedCond = sim.condition('Failed');
  assert.equal(failedCond?.reason, 'BackoffLimitExceeded');
  assert.equal(failedCond?.message, 'Job has reached the specified backoff limit');
  assert.ok(sim.condition('FailureTarget'), 'the interim FailureTarget condition comes first');
  assert.equal(sim.status.completionTime, undefined, 'a failed Job has no completionTime');
});

test('backoffLimitPerIndex retries an index, carries the failure count, and reports failedIndexes', () => {
  const sim = new JobSim(makeJob({ completionMode: 'Indexed', completions: 4, parallelism: 4, backoffLimitPerIndex: 1 }));
  sim.sync();
  sim.advance(1000);
  sim.finish(2, 'Failed', 1);
  let plan = sim.sync();
  // The failed pod keeps its finalizer until its replacement exists (so the count can be carried over).
  assert.equal(plan.removeFinalizersFrom.length, 0);
  assert.equal(plan.requeueAfterMs, 1000);
  sim.advance(1000);
  plan = sim.sync();
  assert.equal(plan.createPods.length, 1);
  assert.equal(plan.createPods[0]!.metadata.annotations!['batch.kubernetes.io/job-index-failure-count'], '1');
  sim.sync();
  assert.equal(sim.status.failed, 1, 'the first failure is counted once the replacement exists');
  for (const ix of [0, 1, 3]) sim.finish(ix, 'Succeeded');
  sim.sync();
  assert.equal(sim.status.completedIndexes, '0,1,3');
  sim.advance(10);
  sim.finish(2, 'Failed', 1);
  sim.sync();
  sim.sync();
  assert.equal(sim.status.failedIndexes, '2');
  assert.equal(sim.status.completedIndexes, '0,1,3');
  const failed = sim.condition('Failed');
  assert.equal(failed?.reason, 'FailedIndexes');
  assert.equal(failed?.message, 'Job has failed indexes');
  assert.equal(sim.status.failed, 2);
});

test('podFailurePolicy: FailIndex on an exit code, Ignore on DisruptionTarget, FailJob with the upstream message', () => {
  const rules = [
    { action: 'FailIndex' as const, onExitCodes: { operator: 'In' as const, values: [3] } },
    { action: 'Ignore' as const, onPodConditions: [{ type: 'DisruptionTarget' }] },
    { action: 'FailJob' as const, onExitCodes: { containerName: 'main', operator: 'In' as const, values: [42] } },
  ];
  // FailIndex: the index fails at once, whatever backoffLimitPerIndex allows.
  const a = new JobSim(makeJob({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 5, podFailurePolicy: { rules } }));
  a.sync();
  a.finish(1, 'Failed', 3);
  a.sync();
  assert.equal(a.status.failedIndexes, '1');
  assert.equal(a.activeIndexes().join(), '0,2');
  a.finish(0, 'Succeeded');
  a.finish(2, 'Succeeded');
  a.sync();
  assert.equal(a.condition('Failed')?.reason, 'FailedIndexes');

  // Ignore: a disrupted pod is replaced without counting a failure (after the usual backoff, as upstream).
  const b = new JobSim(makeJob({ completions: 1, backoffLimit: 0, podFailurePolicy: { rules } }));
  b.sync();
  b.finish(-1, 'Failed', 137, [{ type: 'DisruptionTarget', status: 'True' }]);
  const plan = b.sync();
  assert.equal(b.status.failed ?? 0, 0);
  assert.equal(plan.requeueAfterMs, 1000);
  assert.equal(b.condition('Failed'), undefined);
  b.advance(1000);
  assert.equal(b.sync().createPods.length, 1);

  // FailJob: the whole Job fails with the rule's message; other running pods are stopped.
  const c = new JobSim(makeJob({ completions: 3, parallelism: 2, podFailurePolicy: { rules } }, 'fj'));
  c.sync();
  const victim = c.finish(-1, 'Failed', 42);
  const p = c.sync();
  assert.equal(p.deletePods.length, 1, 'the other active pod is deleted');
  c.sync();
  const failed = c.condition('Failed');
  assert.equal(failed?.reason, 'PodFailurePolicy');
  assert.equal(failed?.message, `Container main for pod ns/${victim.metadata.name} failed with exit code 42 matching FailJob rule at index 2`);
  assert.equal(c.status.failed, 2, 'the stopped pod counts as failed once the Job is failing');
});

test('maxFailedIndexes exceeded fails the Job before the other indexes finish', () => {
  const sim = new JobSim(makeJob({ completionMode: 'Indexed', completions: 5, parallelism: 5, backoffLimitPerIndex: 0, maxFailedIndexes: 1 }));
  sim.sync();
  sim.finish(0, 'Failed');
  sim.sync();
  assert.equal(sim.status.failedIndexes, '0');
  assert.equal(sim.condition('Failed'), undefined);
  sim.finish(3, 'Failed');
  sim.sync();
  assert.equal(sim.condition('FailureTarget')?.reason, 'MaxFailedIndexesExceeded');
  sim.sync();
  assert.equal(sim.condition('Failed')?.message, 'Job has exceeded the specified maximal number of failed indexes');
  assert.equal(sim.active().length, 0);
  assert.equal(sim.status.failedIndexes, '0,3');
});

test('suspend deletes active pods without counting them, resume restarts the clock', () => {
  const sim = new JobSim(makeJob({ completionMode: 'Indexed', completions: 3, parallelism: 2 }));
  sim.sync();
  sim.job.spec.suspend = true;
  sim.advance(5000);
  const plan = sim.sync();
  assert.equal(plan.deletePods.length, 2);
  assert.ok(plan.deletePods.every((d) => d.removeFinalizer));
  assert.equal(sim.condition('Suspended')?.reason, 'JobSuspended');
  assert.equal(sim.status.failed ?? 0, 0);
  assert.equal(sim.pods.size, 0);
  sim.job.spec.suspend = false;
  sim.advance(5000);
  sim.sync();
  const cond = sim.job.status!.conditions!.find((c) => c.type === 'Suspended')!;
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'JobResumed');
  assert.equal(sim.status.startTime, '2025-01-01T00:00:10Z');
  assert.equal(sim.active().length, 2);
});

test('activeDeadlineSeconds: requeued for the deadline, then DeadlineExceeded and pods stopped', () => {
  const sim = new JobSim(makeJob({ completions: 1, activeDeadlineSeconds: 30 }));
  const first = sim.sync();
  assert.equal(first.requeueAfterMs, 30_000);
  sim.advance(30_000);
  const plan = sim.sync();
  assert.equal(plan.deletePods.length, 1);
  sim.sync();
  assert.equal(sim.condition('Failed')?.reason, 'DeadlineExceeded');
  assert.equal(sim.condition('Failed')?.message, 'Job was active longer than specified deadline');
});

test('a deleted pod is replaced at once (TerminatingOrFailed), but not before it ends with a podFailurePolicy', () => {
  const a = new JobSim(makeJob({ completions: 1, backoffLimit: 3 }));
  a.sync();
  const p = a.active()[0]!;
  p.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
  p.status = { phase: 'Running' };
  const plan = a.sync();
  assert.equal(a.status.failed, 1, 'a terminating pod counts as failed');
  assert.equal(plan.createPods.length, 0, 'but the replacement waits for the backoff');
  a.advance(1000);
  assert.equal(a.sync().createPods.length, 1);

  const b = new JobSim(makeJob({ completions: 1, backoffLimit: 3, podFailurePolicy: { rules: [{ action: 'Count', onExitCodes: { operator: 'NotIn', values: [0] } }] } }));
  b.sync();
  const q = b.active()[0]!;
  q.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
  q.status = { phase: 'Running' };
  const planB = b.sync();
  assert.equal(planB.createPods.length, 0);
  assert.equal(b.status.terminating, 1);
  assert.equal(b.status.failed ?? 0, 0);
});

test('podsForRemoval: duplicated and out-of-range indexes first, then the least advanced pods', () => {
  const job = makeJob({ completionMode: 'Indexed', completions: 3, parallelism: 3 });
  const pod = (name: string, index: string | undefined, phase: 'Pending' | 'Running', ready = false) => ({
    metadata: { name, uid: name, annotations: (index === undefined ? {} : { [COMPLETION_INDEX]: index }) as Record<string, string>, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { containers: [], nodeName: 'n' },
    status: { phase, conditions: ready ? [{ type: 'Ready', status: 'True' as const }] : [] },
  });
  const pods = [pod('a', '0', 'Running', true), pod('b', '0', 'Pending'), pod('c', '7', 'Running'), pod('d', undefined, 'Running'), pod('e', '1', 'Running', true), pod('f', '2', 'Pending')];
  assert.deepEqual(podsForRemoval(job, pods, 0).map((p) => p.metadata.name).sort(), ['b', 'c', 'd']);
  assert.deepEqual(podsForRemoval(job, pods, 4).map((p) => p.metadata.name).sort(), ['b', 'c', 'd', 'f']);
});

test('ttlSecondsAfterFinished', () => {
  const job = makeJob({ ttlSecondsAfterFinished: 5 });
  assert.deepEqual(ttlDecision(job, new Date('2025-01-01T00:00:10Z')), { deleteNow: false });
  job.status = { completionTime: '2025-01-01T00:00:10Z', conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2025-01-01T00:00:10Z' }] };
  assert.deepEqual(ttlDecision(job, new Date('2025-01-01T00:00:12Z')), { deleteNow: false, requeueAfterMs: 3000 });
  assert.deepEqual(ttlDecision(job, new Date('2025-01-01T00:00:15Z')), { deleteNow: true });
  job.spec.ttlSecondsAfterFinished = undefined;
  assert.deepEqual(ttlDecision(job, new Date('2025-01-01T00:10:00Z')), { deleteNow: false });
});

test('restartPolicy OnFailure: container restarts count against backoffLimit', () => {
  const job = makeJob({ completions: 1, backoffLimit: 2 });
  job.spec.template.spec.restartPolicy = 'OnFailure';
  const sim = new JobSim(job);
  sim.sync();
  const p = sim.active()[0]!;
  p.status = { phase: 'Running', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: false, restartCount: 2, state: { running: {} }, lastState: {} }] };
  sim.sync();
  sim.sync();
  assert.equal(sim.condition('Failed')?.reason, 'BackoffLimitExceeded');
});

test('a work-queue style Job (parallelism without completions) completes when one pod succeeded and the rest ended', () => {
  const sim = new JobSim(makeJob({ parallelism: 2 }));
  sim.sync();
  assert.equal(sim.active().length, 2);
  const [a, b] = sim.active();
  sim.finishPod(a!, 'Succeeded', 0);
  const plan = planJobSync({ job: sim.job, pods: [...sim.pods.values()], now: new Date(sim.now), backoff: sim.backoff, backoffSettings: sim.settings, random: sim.random });
  assert.equal(plan.createPods.length, 0, 'no new pods once one succeeded');
  sim.sync();
  assert.equal(sim.condition('Complete'), undefined, 'waits for the other pod');
  sim.finishPod(b!, 'Succeeded', 0);
  sim.sync();
  assert.ok(sim.condition('Complete'));
  assert.equal(sim.status.succeeded, 2);
});
