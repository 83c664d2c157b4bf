// A process in a pod talks to the API as its ServiceAccount, the way the operator will: client-node's
// `loadFromCluster(process.env.DEVCLUSTER_ROOT)` finds KUBERNETES_SERVICE_HOST/PORT and the token,
// ca.crt and namespace files the kubelet wrote (TokenRequest), over HTTPS. RBAC allows what its Role
// grants and refuses the rest with the real 403 message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pod } from '../../../devcluster/src/client/types.js';
import { namespace, nodeContainer, startTestCluster, waitFor, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startTestCluster();
});
after(async () => {
  await c?.stop();
});

const client = `(async () => {
  const fs = require('fs');
  const tokenFile = process.env.DEVCLUSTER_ROOT + '/var/run/secrets/kubernetes.io/serviceaccount/token';
  if (!fs.existsSync(tokenFile)) { console.log('no token'); return; }
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster(process.env.DEVCLUSTER_ROOT);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ns = kc.getContextObject(kc.getCurrentContext()).namespace;
  console.log('server ' + kc.getCurrentCluster().server.replace(/:\\d+$/, ''));
  const cms = await core.listNamespacedConfigMap({ namespace: ns });
  console.log('configmaps ok ' + cms.items.map((c) => c.metadata.name).filter((n) => n === 'visible').join(','));
  try {
    await core.listNamespacedSecret({ namespace: ns });
    console.log('secrets allowed');
  } catch (e) {
    console.log('secrets ' + e.code + ' ' + (typeof e.body === 'string' ? JSON.parse(e.body) : e.body).message);
  }
})().catch((e) => { console.error(e); process.exit(1); });`;

test('a ServiceAccount client in a pod is allowed what its Role grants and refused the rest with 403', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('incluster'));
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'incluster' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'cm-reader', namespace: 'incluster' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader-cm', namespace: 'incluster' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'incluster' }] },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'visible', namespace: 'incluster' }, data: { a: 'b' } },
  ];
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'List', items: objects });
  const pod = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'incluster' }, spec: { restartPolicy: 'Never', containers: [nodeContainer(client)], ...spec } });
  await c.kOk(['apply', '-f', '-'], pod('as-reader', { serviceAccountName: 'reader' }));
  await c.kOk(['apply', '-f', '-'], pod('no-token', { serviceAccountName: 'reader', automountServiceAccountToken: false }));
  for (const name of ['as-reader', 'no-token']) {
    await waitFor(`${name} to finish`, async () => ['Succeeded', 'Failed'].includes((await c.getJson<Pod>(['get', 'pod', name, '-n', 'incluster'])).status?.phase ?? ''), 60_000);
  }
  const logs = await c.kOk(['logs', 'as-reader', '-n', 'incluster']);
  assert.equal(
    logs,
    [
      'server https://127.0.0.1',
      'configmaps ok visible',
      'secrets 403 secrets is forbidden: User "system:serviceaccount:incluster:reader" cannot list resource "secrets" in API group "" in the namespace "incluster"',
      '',
    ].join('\n'),
  );
  assert.equal(await c.kOk(['logs', 'no-token', '-n', 'incluster']), 'no token\n');
});
