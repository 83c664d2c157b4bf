// The Job controller, kubelet and garbage collector together, driven by the real kubectl: Indexed
// Jobs run as local processes that see their index; retries, per-index limits, pod failure policy,
// suspend, TTL, deletion and pod faults behave as on Kubernetes 1.33.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JOBS } from '../../../devcluster/src/client/resources.js';
import type { Job, Pod } from '../../../devcluster/src/client/types.js';
import { alive, namespace, nodeContainer, readFiles, sharedDir, startTestCluster, waitFor, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startTestCluster();
});
after(async () => {
  await c?.stop();
});

function job(ns: string, name: string, spec: Record<string, unknown>, script: string, env: Record<string, string> = {}): Record<string, unknown> {
  const { template, ...rest } = spec as { template?: Record<string, unknown> };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      ...rest,
      template: { spec: { restartPolicy: 'Never', containers: [nodeContainer(script, { env: Object.entries(env).map(([n, value]) => ({ name: n, value })) })], ...(template ?? {}) } },
    },
  };
}

const jobStatus = async (ns: string, name: string) => (await c.getJson<Job>(['get', 'job', name, '-n', ns])).status ?? {};
const podsOf = async (ns: string, name: string) => (await c.getJson<{ items: Pod[] }>(['get', 'pods', '-n', ns, '-l', `batch.kubernetes.io/job-name=${name}`])).items;

test('an Indexed Job of 5 completions runs 5 processes that see their index, never more than 2 at once', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('idx'));
  const out = sharedDir('slake-idx-');
  const script = `const fs=require('fs');const i=process.env.JOB_COMPLETION_INDEX;fs.writeFileSync(process.env.OUT+'/'+i+'.start',String(Date.now()));
    setTimeout(()=>{fs.writeFileSync(process.env.OUT+'/'+i+'.end',String(Date.now()));console.log('done index '+i+' on '+require('os').hostname()+' as '+process.env.HOSTNAME)},400)`;
  await c.kOk(['apply', '-f', '-'], job('idx', 'five', { completionMode: 'Indexed', completions: 5, parallelism: 2 }, script, { OUT: out }));
  await c.kOk(['wait', '--for=condition=complete', 'job/five', '-n', 'idx', '--timeout=60s']);

  const files = readFiles(out);
  const spans = [0, 1, 2, 3, 4].map((i) => [Number(files[`${i}.start`]), Number(files[`${i}.end`])] as const);
  assert.ok(spans.every(([s, e]) => s > 0 && e >= s), `every index ran once: ${JSON.stringify(files)}`);
  const edges = spans.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (running += d));
  assert.ok(peak <= 2, `at most 2 at once, saw ${peak}`);

  const st = await jobStatus('idx', 'five');
  assert.equal(st.completedIndexes, '0-4');
  assert.equal(st.succeeded, 5);
  assert.deepEqual((st.conditions ?? []).filter((x) => x.status === 'True').map((x) => x.type), ['SuccessCriteriaMet', 'Complete']);
  const pods = await podsOf('idx', 'five');
  assert.equal(pods.length, 5);
  const p3 = pods.find((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] === '3')!;
  assert.match(p3.metadata.name!, /^five-3-[a-z0-9]{5}$/);
  assert.equal(p3.spec.hostname, 'five-3');
  assert.equal(p3.status?.phase, 'Succeeded');
  assert.equal(p3.status?.containerStatuses?.[0]?.state.terminated?.reason, 'Completed');
  // kubectl logs of a pod, served from the kubelet's log file.
  const logs = await c.kOk(['logs', p3.metadata.name!, '-n', 'idx']);
  assert.match(logs, /^done index 3 on .* as five-3\n$/);
  const table = await c.kOk(['get', 'job', 'five', '-n', 'idx']);
  assert.match(table, /five\s.*5\/5/);
});

test('backoffLimitPerIndex retries a failing index, then reports failedIndexes and completedIndexes', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('perindex'));
  const out = sharedDir('slake-perindex-');
  const script = `const fs=require('fs');const i=process.env.JOB_COMPLETION_INDEX;fs.appendFileSync(process.env.OUT+'/'+i,'x');process.exit(i==='2'?1:0)`;
  await c.kOk(['apply', '-f', '-'], job('perindex', 'flaky', { completionMode: 'Indexed', completions: 4, parallelism: 4, backoffLimitPerIndex: 1 }, script, { OUT: out }));
  await c.kOk(['wait', '--for=condition=failed', 'job/flaky', '-n', 'perindex', '--timeout=60s']);
  const st = await jobStatus('perindex', 'flaky');
  assert.equal(st.failedIndexes, '2');
  assert.equal(st.completedIndexes, '0,1,3');
  assert.equal(st.failed, 2);
  const failed = (st.conditions ?? []).find((x) => x.type === 'Failed');
  assert.equal(failed?.reason, 'FailedIndexes');
  assert.equal(failed?.message, 'Job has failed indexes');
  assert.equal(readFileSync(join(out, '2'), 'utf8'), 'xx', 'index 2 ran twice (1 retry)');
  assert.equal(readFileSync(join(out, '0'), 'utf8'), 'x');
  const counts = (await podsOf('perindex', 'flaky'))
    .filter((p) => p.metadata.labels?.['batch.kubernetes.io/job-completion-index'] === '2')
    .map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-index-failure-count'])
    .sort();
  assert.deepEqual(counts, ['0', '1']);
});

test('podFailurePolicy FailIndex on an exit code fails the index at once', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('pfp'));
  const out = sharedDir('slake-pfp-');
  const script = `const fs=require('fs');const i=process.env.JOB_COMPLETION_INDEX;fs.appendFileSync(process.env.OUT+'/'+i,'x');process.exit(i==='1'?3:0)`;
  const spec = {
    completionMode: 'Indexed',
    completions: 3,
    parallelism: 3,
    backoffLimitPerIndex: 4,
    podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { containerName: 'main', operator: 'In', values: [3] } }, { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
  };
  await c.kOk(['apply', '-f', '-'], job('pfp', 'permanent', spec, script, { OUT: out }));
  await c.kOk(['wait', '--for=condition=failed', 'job/permanent', '-n', 'pfp', '--timeout=60s']);
  const st = await jobStatus('pfp', 'permanent');
  assert.equal(st.failedIndexes, '1');
  assert.equal(st.completedIndexes, '0,2');
  assert.equal(readFileSync(join(out, '1'), 'utf8'), 'x', 'no retry of a FailIndex exit code');
});

test('suspend: a suspended Job starts nothing; suspending a running Job stops its processes; resuming runs it', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('susp'));
  const out = sharedDir('slake-susp-');
  const script = `const fs=require('fs');const i=process.env.JOB_COMPLETION_INDEX;fs.writeFileSync(process.env.OUT+'/pid-'+i+'-'+process.pid,'');setTimeout(()=>{},process.env.SLOW==='1'?60000:100)`;
  await c.kOk(['apply', '-f', '-'], job('susp', 'later', { completionMode: 'Indexed', completions: 2, parallelism: 2, suspend: true }, script, { OUT: out, SLOW: '0' }));
  await c.kOk(['wait', '--for=condition=suspended', 'job/later', '-n', 'susp', '--timeout=30s']);
  assert.equal((await podsOf('susp', 'later')).length, 0);
  await c.kOk(['patch', 'job', 'later', '-n', 'susp', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  await c.kOk(['wait', '--for=condition=complete', 'job/later', '-n', 'susp', '--timeout=60s']);

  await c.kOk(['apply', '-f', '-'], job('susp', 'running', { completionMode: 'Indexed', completions: 2, parallelism: 2 }, script, { OUT: out, SLOW: '1' }));
  const pids = await waitFor('two running processes', () => {
    const ps = Object.keys(readFiles(out)).filter((f) => f.startsWith('pid-')).map((f) => Number(f.split('-')[2]));
    return ps.filter(alive).length >= 2 ? ps.filter(alive) : undefined;
  });
  await c.kOk(['patch', 'job', 'running', '-n', 'susp', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  await c.kOk(['wait', '--for=condition=suspended', 'job/running', '-n', 'susp', '--timeout=30s']);
  await waitFor('processes stopped', () => pids.every((p) => !alive(p)));
  await waitFor('pods gone and active 0', async () => (await podsOf('susp', 'running')).length === 0 && (await jobStatus('susp', 'running')).active === 0);
  assert.equal((await jobStatus('susp', 'running')).failed ?? 0, 0, 'suspended pods are not failures');
});

test('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('ttl'));
  await c.kOk(['apply', '-f', '-'], job('ttl', 'short', { completions: 1, ttlSecondsAfterFinished: 2 }, 'console.log("bye")'));
  // Polled in process: kubectl itself can take longer than the TTL on a loaded machine.
  const done = await waitFor('the job to complete', async () => (await c.client.tryGet<Job>(JOBS, 'ttl', 'short'))?.status?.completionTime, 30_000, 20);
  await waitFor('the job to be deleted', async () => !(await c.client.tryGet<Job>(JOBS, 'ttl', 'short')), 30_000, 20);
  assert.ok(Date.now() - Date.parse(done) >= 1000, 'not before its TTL');
  await waitFor('its pods to be deleted', async () => (await podsOf('ttl', 'short')).length === 0, 30_000);
});

test('deleting a Job removes its pods and stops their processes (background and foreground)', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('gc'));
  const out = sharedDir('slake-gc-');
  const script = `require('fs').writeFileSync(process.env.OUT+'/'+process.env.NAME+'-'+process.pid,'');setTimeout(()=>{},60000)`;
  for (const name of ['bg', 'fg']) {
    const j = job('gc', name, { completions: 2, parallelism: 2 }, script, { OUT: out, NAME: name });
    await c.kOk(['apply', '-f', '-'], j);
  }
  const pidsOf = (name: string) => Object.keys(readFiles(out)).filter((f) => f.startsWith(`${name}-`)).map((f) => Number(f.split('-')[1]));
  await waitFor('4 running processes', () => pidsOf('bg').filter(alive).length === 2 && pidsOf('fg').filter(alive).length === 2);
  await c.kOk(['delete', 'job', 'bg', '-n', 'gc', '--wait=false']);
  await waitFor('bg pods gone', async () => (await podsOf('gc', 'bg')).length === 0, 30_000);
  assert.ok(pidsOf('bg').every((p) => !alive(p)), 'bg processes stopped');
  // Foreground: the Job stays (with the foregroundDeletion finalizer) until its pods are gone.
  await c.kOk(['delete', 'job', 'fg', '-n', 'gc', '--cascade=foreground', '--timeout=30s']);
  assert.equal((await podsOf('gc', 'fg')).length, 0);
  assert.ok(pidsOf('fg').every((p) => !alive(p)), 'fg processes stopped');
});

/** A Job pod script that records its attempt and runs until the test writes `<OUT>/go`: faults hit a pod that is certainly running. */
const untilGo = `const fs=require('fs');const o=process.env.OUT;const i=process.env.JOB_COMPLETION_INDEX;fs.appendFileSync(o+'/attempts-'+i,'x');fs.writeFileSync(o+'/started-'+i,'');const t=setInterval(()=>{if(fs.existsSync(o+'/go'))clearInterval(t)},50)`;
const attempts = (out: string) => Object.fromEntries(Object.entries(readFiles(out)).filter(([f]) => f.startsWith('attempts-')).map(([f, s]) => [f.slice('attempts-'.length), s.length]));

test('a pod killed mid-run gets DisruptionTarget, and its index is retried', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('kill'));
  const out = sharedDir('slake-kill-');
  await c.kOk(['apply', '-f', '-'], job('kill', 'victim', { completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 2 }, untilGo, { OUT: out }));
  await waitFor('index 0 running', () => existsSync(join(out, 'started-0')));
  const killed = await c.faults.pods.killJobIndex('kill', 'victim', 0);
  writeFileSync(join(out, 'go'), '');
  await c.kOk(['wait', '--for=condition=complete', 'job/victim', '-n', 'kill', '--timeout=60s']);
  assert.deepEqual(attempts(out), { '0': 2, '1': 1 }, 'index 0 ran again, index 1 once');
  const st = await jobStatus('kill', 'victim');
  assert.equal(st.failed, 1);
  assert.equal(st.completedIndexes, '0,1');
  const pod = await c.getJson<Pod>(['get', 'pod', killed, '-n', 'kill']);
  assert.equal(pod.status?.phase, 'Failed');
  assert.equal(pod.status?.containerStatuses?.[0]?.state.terminated?.exitCode, 137);
  const disruption = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
  assert.equal(disruption?.status, 'True');
  assert.equal(disruption?.reason, 'TerminationByKubelet');
});

test('killRandomPodAfter picks a running pod of the Job; the Job still completes', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('chaos'));
  const out = sharedDir('slake-chaos-');
  await c.kOk(['apply', '-f', '-'], job('chaos', 'monkey', { completionMode: 'Indexed', completions: 3, parallelism: 3 }, untilGo, { OUT: out }));
  await waitFor('all three indexes running', () => [0, 1, 2].every((i) => existsSync(join(out, `started-${i}`))));
  const chaos = c.faults.pods.killRandomPodAfter(100, { namespace: 'chaos', jobName: 'monkey' });
  const killed = await chaos.done;
  assert.match(killed ?? '', /^monkey-\d-/);
  writeFileSync(join(out, 'go'), '');
  await c.kOk(['wait', '--for=condition=complete', 'job/monkey', '-n', 'chaos', '--timeout=60s']);
  assert.deepEqual(Object.values(attempts(out)).sort(), [1, 1, 2]);
  assert.equal(attempts(out)[/^monkey-(\d)-/.exec(killed!)![1]!], 2, 'the killed index ran twice');
  assert.equal((await jobStatus('chaos', 'monkey')).failed, 1);
});

test('deleting a namespace with a running Job finishes, and its processes stop', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('doomed'));
  const out = sharedDir('slake-doomed-');
  const script = `require('fs').writeFileSync(process.env.OUT+'/'+process.pid,'');setTimeout(()=>{},60000)`;
  await c.kOk(['apply', '-f', '-'], job('doomed', 'forever', { completions: 2, parallelism: 2 }, script, { OUT: out }));
  const pids = await waitFor('two processes', () => {
    const ps = Object.keys(readFiles(out)).map(Number).filter(alive);
    return ps.length === 2 ? ps : undefined;
  });
  await c.kOk(['delete', 'namespace', 'doomed', '--timeout=60s']);
  assert.ok(pids.every((p) => !alive(p)), 'processes stopped');
  assert.match((await c.k(['get', 'namespace', 'doomed'])).stderr, /NotFound/);
});
