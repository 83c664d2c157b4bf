// The garbage collector with kinds it never saw: a custom resource (installed while the cluster
// runs) owning ordinary objects, deleted in the background, the foreground and with orphaning.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../../devcluster/src/client/types.js';
import { namespace, startTestCluster, waitFor, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startTestCluster();
});
after(async () => {
  await c?.stop();
});

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

async function widgetWithChildren(name: string): Promise<string> {
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'gc' } });
  const w = await c.getJson<KubeObject>(['get', 'widget', name, '-n', 'gc']);
  const owner = { apiVersion: 'example.com/v1', kind: 'Widget', name, uid: w.metadata.uid, blockOwnerDeletion: true };
  for (const i of [1, 2]) {
    await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-child-${i}`, namespace: 'gc', ownerReferences: [owner] }, data: { i: String(i) } });
  }
  return w.metadata.uid!;
}

const children = async (name: string) => (await c.kOk(['get', 'configmaps', '-n', 'gc', '-o', 'name'])).split('\n').filter((l) => l.includes(`${name}-child-`));

test('dependents of a custom resource are collected (background, foreground) or orphaned', async () => {
  await c.kOk(['apply', '-f', '-'], crd);
  await c.kOk(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
  await c.kOk(['apply', '-f', '-'], namespace('gc'));

  await widgetWithChildren('bg');
  await c.kOk(['delete', 'widget', 'bg', '-n', 'gc']);
  await waitFor('background: children collected', async () => (await children('bg')).length === 0, 30_000);

  await widgetWithChildren('fg');
  await c.kOk(['delete', 'widget', 'fg', '-n', 'gc', '--cascade=foreground', '--timeout=30s']);
  assert.deepEqual(await children('fg'), [], 'foreground: the owner went only after its children');

  const uid = await widgetWithChildren('orphan');
  await c.kOk(['delete', 'widget', 'orphan', '-n', 'gc', '--cascade=orphan', '--timeout=30s']);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await children('orphan')).length, 2, 'orphaned children stay');
  const child = await c.getJson<KubeObject>(['get', 'configmap', 'orphan-child-1', '-n', 'gc']);
  assert.ok(!(child.metadata.ownerReferences ?? []).some((r) => r.uid === uid), 'and lose the reference');

  // A child whose owner never existed (wrong uid) is collected too; one with a live second owner only loses the dead reference.
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'alive', namespace: 'gc' } });
  const alive = await c.getJson<KubeObject>(['get', 'widget', 'alive', '-n', 'gc']);
  const dead = { apiVersion: 'example.com/v1', kind: 'Widget', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' };
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'haunted', namespace: 'gc', ownerReferences: [dead] } });
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'gc', ownerReferences: [dead, { apiVersion: 'example.com/v1', kind: 'Widget', name: 'alive', uid: alive.metadata.uid }] } });
  await waitFor('the haunted child collected', async () => (await c.k(['get', 'configmap', 'haunted', '-n', 'gc'])).stderr.includes('NotFound'), 30_000);
  await waitFor('the dead reference dropped', async () => (await c.getJson<KubeObject>(['get', 'configmap', 'shared', '-n', 'gc'])).metadata.ownerReferences?.length === 1, 30_000);
  assert.equal((await c.getJson<KubeObject>(['get', 'configmap', 'shared', '-n', 'gc'])).metadata.ownerReferences![0]!.name, 'alive');
});
