// Pure decisions of the ReplicaSet, Deployment and garbage-collection controllers, and the work
// queue under an injected clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, KubeObject, Pod, ReplicaSet } from '../../../devcluster/src/client/types.js';
import { findNewReplicaSet, planDeploymentSync, podTemplateHash, rollingBounds } from '../../../devcluster/src/controllers/deploymentSync.js';
import { blockingDependents, decideDependent, ownerStateOf, type OwnerState } from '../../../devcluster/src/controllers/garbageCollection.js';
import { planReplicaSetSync } from '../../../devcluster/src/controllers/replicaSetSync.js';
import { WorkQueue, type Scheduler } from '../../../devcluster/src/controllers/workQueue.js';

const now = new Date('2025-01-01T00:10:00Z');

function deployment(replicas: number, image: string, strategy?: Deployment['spec']['strategy']): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', uid: 'd1', generation: 3 },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } }, strategy },
  };
}

/** Applies a plan as the API would, with every pod of a ReplicaSet becoming available at once when `settle`. */
function apply(d: Deployment, rss: ReplicaSet[], settle: boolean): ReplicaSet[] {
  const plan = planDeploymentSync(d, rss, now);
  let next = rss.map((rs) => plan.updateReplicaSets.find((u) => u.metadata.name === rs.metadata.name) ?? rs);
  if (plan.createReplicaSet) next.push({ ...plan.createReplicaSet, metadata: { ...plan.createReplicaSet.metadata, uid: `rs-${next.length}`, creationTimestamp: `2025-01-01T00:0${next.length}:00Z` } });
  next = next.filter((rs) => !plan.deleteReplicaSets.some((x) => x.metadata.name === rs.metadata.name));
  if (plan.status) d.status = plan.status;
  if (settle) for (const rs of next) rs.status = { replicas: rs.spec.replicas, readyReplicas: rs.spec.replicas, availableReplicas: rs.spec.replicas };
  return next;
}

test('Deployment: first rollout creates one ReplicaSet with the hash label, then reports availability', () => {
  const d = deployment(3, 'img:1');
  let rss = apply(d, [], false);
  assert.equal(rss.length, 1);
  const hash = podTemplateHash(d);
  assert.equal(rss[0]!.metadata.name, `web-${hash}`);
  assert.equal(rss[0]!.spec.replicas, 3);
  assert.equal(rss[0]!.spec.selector.matchLabels!['pod-template-hash'], hash);
  assert.equal(rss[0]!.spec.template.metadata!.labels!['pod-template-hash'], hash);
  assert.equal(rss[0]!.metadata.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(rss[0]!.metadata.ownerReferences![0]!.uid, 'd1');
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetCreated');
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'False');
  rss[0]!.status = { replicas: 3, readyReplicas: 3, availableReplicas: 3 };
  rss = apply(d, rss, true);
  assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.readyReplicas, d.status?.availableReplicas, d.status?.unavailableReplicas, d.status?.observedGeneration], [3, 3, 3, 3, 0, 3]);
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.reason, 'MinimumReplicasAvailable');
  assert.equal(findNewReplicaSet(d, rss)?.metadata.name, `web-${hash}`);
});

test('Deployment: a rolling update stays within maxSurge and maxUnavailable at every step', () => {
  const d = deployment(4, 'img:1', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } });
  let rss = apply(d, [], true);
  rss = apply(d, rss, true);
  d.spec.template.spec.containers[0]!.image = 'img:2';
  const steps: string[] = [];
  for (let i = 0; i < 10 && !(rss.length === 2 && rss.some((r) => r.spec.replicas === 4 && r.spec.template.spec.containers[0]!.image === 'img:2') && rss.some((r) => r.spec.replicas === 0)); i++) {
    rss = apply(d, rss, i % 2 === 1);
    const total = rss.reduce((n, r) => n + (r.spec.replicas ?? 0), 0);
    const available = rss.reduce((n, r) => n + (r.status?.availableReplicas ?? 0), 0);
    assert.ok(total <= 5, `never more than replicas+maxSurge (${total})`);
    assert.ok(available >= 3 || i === 0, `never below replicas-maxUnavailable available (${available})`);
    steps.push(rss.map((r) => `${r.spec.template.spec.containers[0]!.image}=${r.spec.replicas}`).join(' '));
  }
  assert.equal(steps[steps.length - 1], 'img:1=0 img:2=4');
  const newest = rss.find((r) => r.spec.template.spec.containers[0]!.image === 'img:2')!;
  assert.equal(newest.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
});

test('Deployment: Recreate stops old pods before starting new ones; history is trimmed', () => {
  const d = deployment(2, 'img:1', { type: 'Recreate' });
  let rss = apply(d, [], true);
  d.spec.template.spec.containers[0]!.image = 'img:2';
  rss = apply(d, rss, false);
  assert.deepEqual(rss.map((r) => r.spec.replicas), [0, 0], 'old scaled to 0, new waits');
  rss[0]!.status = { replicas: 0 };
  rss = apply(d, rss, true);
  assert.deepEqual(rss.map((r) => r.spec.replicas), [0, 2]);
  const limited = deployment(1, 'img:9');
  limited.spec.revisionHistoryLimit = 1;
  const old = (n: number): ReplicaSet => ({ metadata: { name: `old${n}`, uid: `o${n}`, annotations: { 'deployment.kubernetes.io/revision': String(n) } }, spec: { replicas: 0, selector: {}, template: { spec: { containers: [] } } }, status: { replicas: 0 } });
  const plan = planDeploymentSync(limited, [old(1), old(2), old(3)], now);
  assert.deepEqual(plan.deleteReplicaSets.map((r) => r.metadata.name), ['old1', 'old2']);
  assert.deepEqual(rollingBounds(deployment(10, 'x')), { maxSurge: 3, maxUnavailable: 2 });
  assert.deepEqual(rollingBounds(deployment(1, 'x', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } })), { maxSurge: 0, maxUnavailable: 1 });
});

test('ReplicaSet: creates or deletes to the replica count, least advanced pods first', () => {
  const rs: ReplicaSet = { metadata: { name: 'web-abc', namespace: 'ns', uid: 'r1', generation: 2 }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } } } };
  const pod = (name: string, phase: 'Pending' | 'Running', ready: boolean): Pod => ({ metadata: { name, labels: { app: 'web' }, creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { containers: [], nodeName: 'n' }, status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2025-01-01T00:00:00Z' }] } });
  const up = planReplicaSetSync(rs, [pod('a', 'Running', true)], now, () => 0.5);
  assert.equal(up.create.length, 1);
  assert.match(up.create[0]!.metadata.name!, /^web-abc-[a-z0-9]{5}$/);
  assert.equal(up.create[0]!.metadata.ownerReferences![0]!.kind, 'ReplicaSet');
  assert.deepEqual(up.status, { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 2 });
  const down = planReplicaSetSync(rs, [pod('a', 'Running', true), pod('b', 'Pending', false), pod('c', 'Running', false)], now, () => 0.5);
  assert.deepEqual(down.delete.map((p) => p.metadata.name), ['b']);
  const slow = { ...rs, spec: { ...rs.spec, minReadySeconds: 900 } };
  const wait = planReplicaSetSync(slow, [pod('a', 'Running', true), pod('b', 'Running', true)], now, () => 0.5);
  assert.equal(wait.status?.availableReplicas, 0);
  assert.equal(wait.requeueAfterMs, 300_000);
});

test('garbage collection decisions', () => {
  const ref = (uid: string, block = true) => ({ apiVersion: 'v1', kind: 'X', name: uid, uid, controller: true, blockOwnerDeletion: block });
  const obj = (refs: ReturnType<typeof ref>[], extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name: 'd', uid: 'd', ownerReferences: refs, ...extra } });
  const states = (s: Record<string, OwnerState>) => new Map(Object.entries(s));
  const cases: { name: string; o: KubeObject; owners: Record<string, OwnerState>; deps?: boolean; want: unknown }[] = [
    { name: 'owner alive', o: obj([ref('a')]), owners: { a: 'solid' }, want: { kind: 'none' } },
    { name: 'owner gone', o: obj([ref('a')]), owners: { a: 'dangling' }, want: { kind: 'delete', propagationPolicy: 'Background' } },
    { name: 'one of two gone', o: obj([ref('a'), ref('b')]), owners: { a: 'solid', b: 'dangling' }, want: { kind: 'patchOwnerReferences', ownerReferences: [ref('a')] } },
    { name: 'owner foreground-deleting, no dependents', o: obj([ref('a')]), owners: { a: 'waitingForDependentsDeletion' }, want: { kind: 'delete', propagationPolicy: 'Background' } },
    { name: 'owner foreground-deleting, with dependents', o: obj([ref('a')]), owners: { a: 'waitingForDependentsDeletion' }, deps: true, want: { kind: 'delete', propagationPolicy: 'Foreground' } },
    { name: 'solid and waiting owners: unblock', o: obj([ref('a'), ref('b')]), owners: { a: 'solid', b: 'waitingForDependentsDeletion' }, want: { kind: 'patchOwnerReferences', ownerReferences: [ref('a'), ref('b', false)] } },
    { name: 'already being deleted', o: obj([ref('a')], { deletionTimestamp: 'x' }), owners: { a: 'dangling' }, want: { kind: 'none' } },
    { name: 'orphan finalizer kept', o: obj([ref('a')], { finalizers: ['orphan'] }), owners: { a: 'dangling' }, want: { kind: 'delete', propagationPolicy: 'Orphan' } },
    { name: 'no owners', o: obj([]), owners: {}, want: { kind: 'none' } },
  ];
  for (const k of cases) assert.deepEqual(decideDependent(k.o, states(k.owners), !!k.deps), k.want, k.name);
  const owner: KubeObject = { metadata: { name: 'a', uid: 'a', deletionTimestamp: 'x', finalizers: ['foregroundDeletion'] } };
  assert.equal(ownerStateOf(ref('a'), owner), 'waitingForDependentsDeletion');
  assert.equal(ownerStateOf(ref('a'), { metadata: { uid: 'other' } }), 'dangling', 'same name, new uid');
  assert.equal(ownerStateOf(ref('a'), undefined), 'dangling');
  assert.deepEqual(blockingDependents(owner, [obj([ref('a')]), { metadata: { uid: 'e', ownerReferences: [ref('a', false)] } }]).length, 1);
});

class FakeScheduler implements Scheduler {
  t = 0;
  timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  advance(ms: number) {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }
}

test('work queue: duplicates collapse, one sync per key at a time, failures back off, addAfter', async () => {
  const sched = new FakeScheduler();
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let release: (() => void) | undefined;
  let failA = 2;
  const q = new WorkQueue(
    async (key) => {
      calls.push(key);
      if (key === 'a' && failA-- > 0) throw new Error('boom');
    },
    { name: 't', concurrency: 4, baseBackoffMs: 10, maxBackoffMs: 15, scheduler: sched },
  );
  const ticks = async (until: () => boolean) => {
    for (let i = 0; i < 100 && !until(); i++) await new Promise((r) => setImmediate(r));
  };
  // One worker: duplicates queued behind a busy key collapse; a key re-added while it is being
  // processed runs again afterwards, never concurrently.
  const one = new WorkQueue(
    async (key) => {
      calls.push(key);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (key === 'slow') await new Promise<void>((r) => (release = r));
      inFlight--;
    },
    { name: 'one', concurrency: 1, scheduler: sched },
  );
  one.add('slow');
  await ticks(() => release !== undefined);
  const first = release!;
  for (const k of ['b', 'b', 'slow', 'b', 'slow']) one.add(k);
  first();
  await ticks(() => release !== first);
  release!();
  await one.idle();
  assert.deepEqual(calls, ['slow', 'b', 'slow']);
  assert.equal(maxInFlight, 1);
  calls.length = 0;

  q.add('a');
  await q.idle();
  assert.deepEqual(calls, ['a']);
  sched.advance(9);
  await q.idle();
  assert.equal(calls.length, 1, 'first retry after 10 ms');
  sched.advance(1);
  await q.idle();
  assert.equal(calls.length, 2);
  sched.advance(15);
  await q.idle();
  assert.equal(calls.length, 3, 'second retry capped at 15 ms');
  sched.advance(100);
  await q.idle();
  assert.equal(calls.length, 3, 'success forgets the key');

  q.addAfter('later', 50);
  q.addAfter('later', 20);
  q.addAfter('later', 80);
  sched.advance(20);
  await q.idle();
  assert.deepEqual(calls.slice(3), ['later']);
  sched.advance(100);
  await q.idle();
  assert.equal(calls.length, 4, 'the earliest addAfter wins, once');
  q.stop();
});
