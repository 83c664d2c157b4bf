// The API server through @kubernetes/client-node 1.4 over HTTPS: typed CRUD and conflicts, an
// in-cluster client (loadFromCluster) with a TokenRequest token, and an informer that survives
// dropped watches, a 410 Gone (re-list) and injected watch errors (restarted by a small harness, as
// DESIGN.md notes client-node's informer stops for good on other errors).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { eventually, startTestCluster, type TestCluster } from './harness.js';

describe('devcluster API server with @kubernetes/client-node', () => {
  let c: TestCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  before(async () => {
    c = await startTestCluster();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
  });
  after(async () => {
    await c.stop();
  });

  test('typed CRUD over HTTPS, 409 on a stale resourceVersion, 404 and 409 Status bodies', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'crud' }, data: { a: '1' } } });
    assert.ok(created.metadata?.uid);
    const stale = { ...created, data: { a: '2' } };
    await core.replaceNamespacedConfigMap({ name: 'crud', namespace: 'inf', body: { ...created, data: { a: '3' } } });
    await assert.rejects(core.replaceNamespacedConfigMap({ name: 'crud', namespace: 'inf', body: stale }), (e: k8s.ApiException<string>) => {
      assert.equal(e.code, 409);
      const body = JSON.parse(e.body);
      assert.equal(body.reason, 'Conflict');
      assert.equal(body.message, 'Operation cannot be fulfilled on configmaps "crud": the object has been modified; please apply your changes to the latest version and try again');
      return true;
    });
    await assert.rejects(core.readNamespacedConfigMap({ name: 'nope', namespace: 'inf' }), (e: k8s.ApiException<string>) => e.code === 404 && JSON.parse(e.body).message === 'configmaps "nope" not found');
    await assert.rejects(core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'crud' } } }), (e: k8s.ApiException<string>) => e.code === 409 && JSON.parse(e.body).reason === 'AlreadyExists');
    const same = await core.replaceNamespacedConfigMap({ name: 'crud', namespace: 'inf', body: await core.readNamespacedConfigMap({ name: 'crud', namespace: 'inf' }) });
    assert.equal(same.metadata?.resourceVersion, (await core.readNamespacedConfigMap({ name: 'crud', namespace: 'inf' })).metadata?.resourceVersion, 'a no-op update keeps the resourceVersion');
  });

  test('an in-cluster client (loadFromCluster) authenticates with a TokenRequest token bound to its pod', async () => {
    await core.createNamespacedServiceAccount({ namespace: 'inf', body: { metadata: { name: 'worker' } } });
    const pod = await core.createNamespacedPod({ namespace: 'inf', body: { metadata: { name: 'worker-0' }, spec: { serviceAccountName: 'worker', containers: [{ name: 'c', image: 'job-runner:dev' }] } } });
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'worker',
      namespace: 'inf',
      body: { spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker-0', uid: pod.metadata!.uid } } },
    });
    const root = join(c.dir, 'pod-fs');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), tr.status!.token);
    writeFileSync(join(sa, 'ca.crt'), c.api.caPem);
    writeFileSync(join(sa, 'namespace'), 'inf');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = String(c.api.port);
    try {
      const inCluster = new k8s.KubeConfig();
      inCluster.loadFromCluster(root);
      const auth = inCluster.makeApiClient(k8s.AuthenticationV1Api);
      const review = await auth.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
      assert.equal(review.status?.userInfo?.username, 'system:serviceaccount:inf:worker');
      assert.deepEqual(review.status?.userInfo?.extra?.['authentication.kubernetes.io/pod-name'], ['worker-0']);
      const podClient = inCluster.makeApiClient(k8s.CoreV1Api);
      await assert.rejects(podClient.listNamespacedPod({ namespace: 'inf' }), (e: k8s.ApiException<string>) =>
        e.code === 403 && JSON.parse(e.body).message === 'pods is forbidden: User "system:serviceaccount:inf:worker" cannot list resource "pods" in API group "" in the namespace "inf"',
      );
      // The token dies with its pod (a pod that never ran is removed at once).
      await core.deleteNamespacedPod({ name: 'worker-0', namespace: 'inf' });
      await assert.rejects(auth.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }), (e: k8s.ApiException<string>) => e.code === 401);
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = saved.host;
      process.env.KUBERNETES_SERVICE_PORT = saved.port;
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
    }
  });

  test('the informer survives dropped watches, a 410 Gone (re-list) and failed watch requests', async () => {
    let lists = 0;
    const seen = new Map<string, string>();
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: 'inf' });
    });
    informer.on('add', (o) => seen.set(o.metadata!.name!, o.data?.v ?? ''));
    informer.on('update', (o) => seen.set(o.metadata!.name!, o.data?.v ?? ''));
    informer.on('delete', (o) => seen.delete(o.metadata!.name!));
    // The harness client-node needs: its informer stops on any error but 410, so restart it.
    let restarts = 0;
    let stopped = false;
    informer.on('error', () => {
      if (stopped) return;
      restarts++;
      setTimeout(() => void informer.start(), 100);
    });
    await informer.start();
    try {
      const put = (name: string, v: string) => core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name }, data: { v } } });
      await put('a', '1');
      await eventually(() => seen.get('a') === '1', 20_000, 'add of a');
      const listsBefore = lists;

      assert.ok(c.api.faults.dropWatches({ resource: 'configmaps' }) >= 1);
      await put('b', '1');
      await eventually(() => seen.get('b') === '1', 20_000, 'add of b after a dropped watch');
      assert.equal(lists, listsBefore, 'a dropped watch resumes from its resourceVersion without re-listing');

      c.api.compactWatchHistory();
      c.api.faults.dropWatches({ resource: 'configmaps' });
      await put('c', '1');
      await eventually(() => seen.get('c') === '1', 20_000, 'add of c after 410');
      assert.ok(lists > listsBefore, 'a 410 Gone makes the informer re-list');

      const undo = c.api.faults.failRequests({ status: 500, verbs: ['watch'], resource: 'configmaps', count: 2 });
      c.api.faults.dropWatches({ resource: 'configmaps' });
      await put('d', '1');
      await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'inf' });
      await eventually(() => seen.get('d') === '1' && !seen.has('a'), 20_000, 'add of d and delete of a after failed watches');
      assert.ok(restarts >= 1, 'the harness restarted the informer');
      undo();
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
