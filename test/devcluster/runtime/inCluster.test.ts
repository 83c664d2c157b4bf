// A process in a pod talks to the API as its ServiceAccount, the way the operator will: client-node's
// `loadFromCluster(process.env.DEVCLUSTER_ROOT)` finds KUBERNETES_SERVICE_HOST/PORT and the token,
// ca.crt and namespace files the kubelet wrote (TokenRequest), over HTTPS. RBAC allows what its Role
// grants and refuses the rest with the real 403 message.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
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

// No isolation between pods and the host: what a pod holds must be private to the user it runs as.
// Run as root (as here), the kubelet drops pods to their runAsUser, so the token must be chowned to
// it; run as anyone else every pod is that one user, and the modes alone protect the files.
test('service-account tokens and Secret files are 0600 of the pod\'s user; other users cannot read or list them', async () => {
  const root = process.getuid?.() === 0;
  const self = process.getuid?.() ?? 0;
  await c.kOk(['apply', '-f', '-'], namespace('private'));
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'private' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'private' }, stringData: { password: 'hunter2' } },
  ] });
  const probe = (paths: string[]) => `const fs = require('fs');
    for (const p of ${JSON.stringify(paths)}.map((p) => p.replace('$ROOT', process.env.DEVCLUSTER_ROOT))) {
      try { const n = fs.statSync(p).isDirectory() ? fs.readdirSync(p).length : fs.readFileSync(p).length; console.log(n > 0 ? 'ok' : 'empty'); }
      catch (e) { console.log(e.code); }
    }`;
  const pod = (name: string, uid: number, script: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'private' },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsUser: uid, runAsGroup: uid },
      volumes: [{ name: 'creds', secret: { secretName: 'creds' } }],
      containers: [nodeContainer(script, { volumeMounts: [{ name: 'creds', mountPath: '/etc/creds' }] })],
    },
  });
  const finished = (name: string): Promise<Pod> => waitFor(`${name} to finish`, async () => {
    const p = await c.getJson<Pod>(['get', 'pod', name, '-n', 'private']);
    return ['Succeeded', 'Failed'].includes(p.status?.phase ?? '') ? p : undefined;
  }, 60_000);
  const token = '$ROOT/var/run/secrets/kubernetes.io/serviceaccount/token';
  await c.kOk(['apply', '-f', '-'], pod('owner', 65532, probe([token, '$ROOT/etc/creds/password', '$ROOT/var/run/secrets/kubernetes.io/serviceaccount/namespace'])));
  const owner = await finished('owner');
  assert.equal(await c.kOk(['logs', 'owner', '-n', 'private']), 'ok\nok\nok\n', 'the pod reads its own token, Secret and namespace');

  const podDir = join(c.dataDir, 'pods', `private_owner_${owner.metadata.uid}`);
  const ownerPaths = { token: join(podDir, 'root', token.slice('$ROOT/'.length)), secret: join(podDir, 'volumes', 'creds', 'password'), home: join(podDir, 'home') };
  const podUser = root ? 65532 : self;
  const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);
  const passage = root ? '711' : '700';
  const want = { token: ['600', podUser], secret: ['600', podUser], home: ['700', podUser], dataDir: [passage, self], pods: [passage, self], podDir: [passage, self], logs: ['700', self] };
  const got = Object.fromEntries(Object.entries({ ...ownerPaths, dataDir: c.dataDir, pods: join(c.dataDir, 'pods'), podDir, logs: join(c.dataDir, 'logs') }).map(([k, p]) => [k, [mode(p), statSync(p).uid]]));
  assert.deepEqual(got, want);

  if (!root) return; // one user: nobody else to keep out
  // Another pod user, told exactly where the first pod's files are, gets EACCES for each; it cannot
  // list the folders above them either, yet it reads its own token.
  await c.kOk(['apply', '-f', '-'], pod('intruder', 65533, probe([ownerPaths.token, ownerPaths.secret, ownerPaths.home, join(c.dataDir, 'pods'), c.dataDir, join(c.dataDir, 'logs'), token])));
  await finished('intruder');
  assert.equal(await c.kOk(['logs', 'intruder', '-n', 'private']), 'EACCES\nEACCES\nEACCES\nEACCES\nEACCES\nEACCES\nok\n');
});
