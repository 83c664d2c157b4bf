// Faults on the dev cluster, each ending in the same tables as the fault-free run (DuckDB's
// reference): a shard pod killed mid-run; S3 answering 503 SlowDown; the API server failing requests
// (500, 429, 409) and dropping watches; the operator killed and restarted mid-stage (no duplicate
// Jobs, no repeated stage); leader failover between two operator replicas.
import assert from 'node:assert/strict';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { after, before, test } from 'node:test';
import { lakeLayout } from '../../job-runner/src/index.js';
import type { SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { assertLakesEqual } from '../helpers/compareLakes.js';
import { startFlakyS3Proxy } from '../helpers/flakyS3Proxy.js';
import { udacityLogs, udacitySongs } from '../helpers/paths.js';
import { buildReferenceLake, type ReferenceLake } from '../helpers/referenceLake.js';
import { downloadLake, lakeJobManifest, OPERATOR_NS, startLakeCluster, waitFor, type LakeCluster, type OperatorProcess } from './e2eHarness.js';

const LEADER_ARGS = ['--leader-elect', '--lease-namespace', OPERATOR_NS, '--lease-duration', '4', '--invalid-retry', '2'];

let c: LakeCluster;
let op: OperatorProcess;
let reference: ReferenceLake;

before(async () => {
  [c, reference] = await Promise.all([startLakeCluster(), buildReferenceLake({ songs: udacitySongs, logs: udacityLogs })]);
  op = await c.startOperator({ args: LEADER_ARGS, name: 'op-a' });
});

after(async () => {
  reference?.close();
  await op?.kill('SIGTERM');
  await c?.stop();
});

async function apply(ns: string, name: string, o: Parameters<typeof lakeJobManifest>[3] = {}): Promise<void> {
  await c.namespace(ns);
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest(ns, name, c.s3Endpoint, o)) });
}

async function status(ns: string, name: string): Promise<SparkifyLakeJob> {
  return (await c.getLakeJob(ns, name))!;
}

async function untilSucceeded(ns: string, name: string, timeoutMs = 240_000): Promise<SparkifyLakeJob> {
  return waitFor(
    async () => {
      const lj = await status(ns, name);
      if (lj.status?.phase === 'Failed') throw new Error(`run failed: ${JSON.stringify(lj.status.conditions)}`);
      return lj.status?.phase === 'Succeeded' ? lj : undefined;
    },
    timeoutMs,
    `${ns}/${name} to succeed`,
  );
}

async function jobsIn(ns: string): Promise<{ name: string; uid: string; failed: number; active: number }[]> {
  const list = JSON.parse(await c.k(['get', 'jobs', '-n', ns, '-o', 'json'])) as { items: { metadata: { name: string; uid: string }; status?: { failed?: number; active?: number } }[] };
  return list.items.map((j) => ({ name: j.metadata.name, uid: j.metadata.uid, failed: j.status?.failed ?? 0, active: j.status?.active ?? 0 }));
}

async function expectReferenceLake(ns: string, name: string): Promise<void> {
  await assertLakesEqual(await downloadLake(c, 'lake', `${ns}-${name}/`), reference);
}

test('a shard pod killed mid-run is retried and the lake is the same', async () => {
  await apply('podkill', 'nightly');
  const job = await waitFor(async () => (await jobsIn('podkill')).find((j) => j.name.endsWith('-scan') && j.active > 0), 60_000, 'a running scan pod');
  const killed = await waitFor(async () => {
    for (let i = 0; i < 4; i++) {
      try {
        return await c.dev.faults.pods.killJobIndex('podkill', job.name, i);
      } catch {
        // that index is not running right now
      }
    }
    return undefined;
  }, 30_000, 'a pod to kill');
  assert.ok(killed);
  const lj = await untilSucceeded('podkill', 'nightly');
  assert.equal(lj.status?.conditions?.find((x) => x.type === 'Failed')?.status, 'False');
  await expectReferenceLake('podkill', 'nightly');
});

test('S3 answering 503 SlowDown to a fifth of the requests: retried, same lake', async () => {
  const proxy = await startFlakyS3Proxy(c.s3Endpoint, { failRate: 0.2, seed: 7, mode: 'slowdown' });
  try {
    await c.namespace('slowdown');
    const m = lakeJobManifest('slowdown', 'nightly', proxy.endpoint);
    await c.k(['apply', '-f', '-'], { input: JSON.stringify(m) });
    await untilSucceeded('slowdown', 'nightly');
    assert.ok(proxy.stats.failed > 20, `only ${proxy.stats.failed} of ${proxy.stats.requests} requests failed`);
  } finally {
    await proxy.close();
  }
  await expectReferenceLake('slowdown', 'nightly');
});

test('API 500/429/409 and dropped watches: the operator retries and converges', async () => {
  const faults = c.dev.faults.api;
  const undo = [
    faults.failRequests({ status: 500, fraction: 0.1, resource: 'sparkifylakejobs', seed: 11 }),
    faults.failRequests({ status: 429, fraction: 0.1, resource: 'sparkifylakejobs', seed: 12 }),
    faults.failRequests({ status: 409, fraction: 0.15, verbs: ['update', 'patch'], resource: 'sparkifylakejobs', seed: 13 }),
    faults.failRequests({ status: 500, fraction: 0.3, verbs: ['create'], resource: 'jobs', seed: 14 }),
    faults.failRequests({ status: 500, fraction: 0.2, verbs: ['list', 'watch'], resource: 'jobs', seed: 15 }),
  ];
  let dropping = true;
  let dropped = 0;
  const dropper = (async () => {
    while (dropping) {
      await new Promise((r) => setTimeout(r, 1500));
      dropped += faults.dropWatches({ resource: 'sparkifylakejobs' }) + faults.dropWatches({ resource: 'jobs' });
    }
  })();
  try {
    await c.namespace('apifaults');
    // kubectl itself must get through the faults too: retry the apply.
    await waitFor(async () => (await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('apifaults', 'nightly', c.s3Endpoint)) })).code === 0, 30_000, 'kubectl apply through the faults');
    await untilSucceeded('apifaults', 'nightly');
  } finally {
    dropping = false;
    await dropper;
    for (const u of undo) u();
  }
  assert.ok(dropped > 0, 'watches were dropped');
  const jobs = await jobsIn('apifaults');
  assert.equal(jobs.length, 2, `one Job per stage: ${jobs.map((j) => j.name).join(', ')}`);
  const metrics = await (await fetch(`${op.metricsUrl}/metrics`)).text();
  assert.match(metrics, /sparkify_lake_reconcile_errors_total\{kind="kubernetes"\} [1-9]/);
  await expectReferenceLake('apifaults', 'nightly');
});

test('the operator killed (SIGKILL) and restarted mid-stage: no duplicate Jobs, no repeated stage', async () => {
  await apply('restart', 'nightly');
  const mid = await waitFor(async () => {
    const lj = await status('restart', 'nightly');
    const done = Number(lj.status?.progress?.split('/')[0] ?? 0);
    return lj.status?.phase === 'Scanning' && done >= 1 ? lj : undefined;
  }, 120_000, 'the scan to be under way');
  const runId = mid.status!.runId!;
  const planBefore = await c.s3.send(new HeadObjectCommand({ Bucket: 'lake', Key: `restart-nightly/${lakeLayout.plan(runId, 'scan')}` }));
  const scanJobBefore = (await jobsIn('restart')).find((j) => j.name.endsWith('-scan'))!;
  assert.equal(await op.kill('SIGKILL'), null);
  op = await c.startOperator({ args: LEADER_ARGS, name: 'op-b' });
  const lj = await untilSucceeded('restart', 'nightly');
  assert.equal(lj.status?.runId, runId, 'the same run continued');
  const planAfter = await c.s3.send(new HeadObjectCommand({ Bucket: 'lake', Key: `restart-nightly/${lakeLayout.plan(runId, 'scan')}` }));
  assert.equal(planAfter.LastModified?.getTime(), planBefore.LastModified?.getTime(), 'the scan was not planned again');
  const jobs = await jobsIn('restart');
  assert.equal(jobs.length, 2);
  assert.equal(jobs.find((j) => j.name.endsWith('-scan'))!.uid, scanJobBefore.uid, 'the scan Job was not re-created');
  await expectReferenceLake('restart', 'nightly');
});

test('leader failover: two replicas, one acts; when it dies the other takes over within seconds', async () => {
  const standby = await c.startOperator({ args: LEADER_ARGS, name: 'op-c' });
  try {
    const leaderOf = async (o: OperatorProcess) => /^sparkify_lake_leader 1$/m.test(await (await fetch(`${o.metricsUrl}/metrics`)).text());
    assert.equal(await leaderOf(op), true, 'the running operator leads');
    assert.equal(await leaderOf(standby), false, 'the new replica stands by');
    await apply('failover', 'nightly');
    await waitFor(async () => (await status('failover', 'nightly')).status?.phase === 'Scanning', 120_000, 'the scan to start');
    const killedAt = Date.now();
    await op.kill('SIGKILL');
    await waitFor(() => leaderOf(standby), 20_000, 'the standby to lead');
    const failoverMs = Date.now() - killedAt;
    assert.ok(failoverMs < 10_000, `failover took ${failoverMs} ms`);
    await untilSucceeded('failover', 'nightly');
    assert.equal((await jobsIn('failover')).length, 2);
    await expectReferenceLake('failover', 'nightly');
  } finally {
    op = standby;
  }
});
