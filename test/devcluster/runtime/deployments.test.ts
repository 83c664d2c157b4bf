// Deployment → ReplicaSet → pods with the real helm: `helm install --wait` returns once the
// Deployment is available, `helm upgrade` rolls the pods to the new template, `helm uninstall`
// removes everything (the garbage collector takes the ReplicaSets and pods). `kubectl rollout undo` in
// between brings the first ReplicaSet back.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Deployment, Pod, ReplicaSet } from '../../../devcluster/src/client/types.js';
import { repoRoot } from '../../helpers/paths.js';
import { alive, sharedDir, startTestCluster, waitFor, type TestCluster } from './harness.js';

const chart = join(repoRoot, 'test', 'devcluster', 'runtime', 'fixtures', 'web-chart');
let c: TestCluster;
before(async () => {
  c = await startTestCluster();
});
after(async () => {
  await c?.stop();
});

async function served(): Promise<string[]> {
  const pods = (await c.getJson<{ items: Pod[] }>(['get', 'pods', '-n', 'web', '-l', 'app.kubernetes.io/instance=site'])).items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
  const answers: string[] = [];
  for (const p of pods) {
    const port = (JSON.parse(p.metadata.annotations!['devcluster.sparkify.io/host-ports']!) as Record<string, number>)['8080'];
    answers.push(await (await fetch(`http://127.0.0.1:${port}/`)).text());
  }
  return answers.sort();
}

test('helm install --wait, upgrade (rolling) and uninstall of a chart with a Deployment', async () => {
  const pids = sharedDir('slake-web-');
  const install = await c.helm(['install', 'site', chart, '-n', 'web', '--create-namespace', '--set', `pids=${pids}`, '--wait', '--timeout', '90s']);
  assert.equal(install.code, 0, install.stderr);
  const rollout = await c.kOk(['rollout', 'status', 'deployment/site', '-n', 'web', '--timeout=30s']);
  assert.match(rollout, /deployment "site" successfully rolled out/);
  const d = await c.getJson<Deployment>(['get', 'deployment', 'site', '-n', 'web']);
  assert.equal(d.status?.observedGeneration, d.metadata.generation);
  assert.equal(d.status?.readyReplicas, 2);
  assert.equal(d.status?.availableReplicas, 2);
  assert.equal(d.status?.updatedReplicas, 2);
  const cond = (t: string) => d.status?.conditions?.find((x) => x.type === t);
  assert.equal(cond('Available')?.status, 'True');
  assert.equal(cond('Available')?.reason, 'MinimumReplicasAvailable');
  assert.equal(cond('Progressing')?.reason, 'NewReplicaSetAvailable');
  assert.deepEqual(await served(), ['v1', 'v1']);
  const v1Pids = readdirSync(pids).map(Number);
  assert.equal(v1Pids.length, 2);

  const upgrade = await c.helm(['upgrade', 'site', chart, '-n', 'web', '--set', `pids=${pids}`, '--set', 'message=v2', '--wait', '--timeout', '90s']);
  assert.equal(upgrade.code, 0, upgrade.stderr);
  await c.kOk(['rollout', 'status', 'deployment/site', '-n', 'web', '--timeout=60s']);
  await waitFor('only v2 pods serving', async () => JSON.stringify(await served()) === '["v2","v2"]', 30_000);
  const rss = (await c.getJson<{ items: ReplicaSet[] }>(['get', 'replicasets', '-n', 'web'])).items;
  assert.equal(rss.length, 2, 'the old ReplicaSet is kept (scaled to 0) as history');
  assert.deepEqual(rss.map((rs) => rs.spec.replicas).sort(), [0, 2]);
  assert.deepEqual(rss.map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision']).sort(), ['1', '2']);
  await waitFor('the v1 processes to stop', () => v1Pids.every((p) => !alive(p)), 30_000);
  const v2Pids = readdirSync(pids).map(Number).filter((p) => readFileSync(join(pids, String(p)), 'utf8') === 'v2');
  assert.equal(v2Pids.length, 2);

  // `kubectl rollout undo` sends the old template back (with `creationTimestamp: null`, as Go encodes
  // it): the Deployment must recognise its old ReplicaSet and scale it up again, not make a third.
  assert.match(await c.kOk(['rollout', 'undo', 'deployment/site', '-n', 'web']), /deployment.apps\/site rolled back/);
  await c.kOk(['rollout', 'status', 'deployment/site', '-n', 'web', '--timeout=60s']);
  await waitFor('v1 pods serving again', async () => JSON.stringify(await served()) === '["v1","v1"]', 30_000);
  const afterUndo = (await c.getJson<{ items: ReplicaSet[] }>(['get', 'replicasets', '-n', 'web'])).items;
  assert.deepEqual(afterUndo.map((rs) => `${rs.metadata.annotations?.['deployment.kubernetes.io/revision']}:${rs.spec.replicas}`).sort(), ['2:0', '3:2'], 'the revision-1 ReplicaSet came back as revision 3');
  assert.match(await c.kOk(['rollout', 'history', 'deployment/site', '-n', 'web']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);

  const uninstall = await c.helm(['uninstall', 'site', '-n', 'web', '--wait', '--timeout', '60s']);
  assert.equal(uninstall.code, 0, uninstall.stderr);
  await waitFor('ReplicaSets and pods collected', async () => {
    const left = await c.kOk(['get', 'deployments,replicasets,pods,services', '-n', 'web', '-o', 'name']);
    return left.trim() === '';
  }, 30_000);
  await waitFor('the v2 processes to stop', () => v2Pids.every((p) => !alive(p)), 30_000);
});
