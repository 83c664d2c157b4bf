// A small chart (a CRD in crds/, a custom resource, a Deployment, a Service, RBAC) through the real
// helm 3.17: `helm template | kubectl apply -f -`, then install, upgrade and uninstall, which store
// releases in Secrets found by label selectors.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { helm } from '../../helpers/kube.js';
import { startTestCluster, widgetCrd, type TestCluster } from './harness.js';

const templates = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}-sa
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cfg
data:
  replicas: "{{ .Values.replicas }}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: { app: {{ .Release.Name }}-web }
spec:
  replicas: {{ .Values.replicas }}
  selector: { matchLabels: { app: {{ .Release.Name }}-web } }
  template:
    metadata: { labels: { app: {{ .Release.Name }}-web } }
    spec:
      serviceAccountName: {{ .Release.Name }}-sa
      containers:
        - name: web
          image: {{ .Values.image }}
          env:
            - { name: MODE, value: {{ .Values.mode | quote }} }
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-svc
spec:
  selector: { app: {{ .Release.Name }}-web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .Release.Name }}-role
rules: [{ apiGroups: ["example.test"], resources: [widgets, widgets/status], verbs: [get, list, watch, update, patch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .Release.Name }}-rb
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ .Release.Name }}-role }
subjects: [{ kind: ServiceAccount, name: {{ .Release.Name }}-sa }]
---
apiVersion: example.test/v1
kind: Widget
metadata:
  name: {{ .Release.Name }}-widget
spec:
  size: {{ .Values.replicas }}
`;

function writeChart(dir: string): string {
  const chart = join(dir, 'chart');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  mkdirSync(join(chart, 'crds'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), stringify({ apiVersion: 'v2', name: 'widgets', version: '0.1.0', appVersion: '1.0.0', kubeVersion: '>=1.28.0-0' }));
  writeFileSync(join(chart, 'values.yaml'), stringify({ replicas: 1, image: 'nginx:1.25', mode: 'fast' }));
  writeFileSync(join(chart, 'crds', 'widgets.yaml'), stringify(widgetCrd));
  writeFileSync(join(chart, 'templates', 'all.yaml'), templates);
  return chart;
}

describe('devcluster API server with helm', () => {
  let c: TestCluster;
  let chart: string;
  const h = (args: string[]) =>
    helm(c.kubeconfig, args, { env: { KUBECACHEDIR: join(c.dir, 'kubecache'), HELM_CACHE_HOME: join(c.dir, 'helm-cache'), HELM_CONFIG_HOME: join(c.dir, 'helm-config'), HELM_DATA_HOME: join(c.dir, 'helm-data') } });
  const ok = async (args: string[]) => {
    const r = await h(args);
    assert.equal(r.code, 0, `helm ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    c = await startTestCluster();
    chart = writeChart(c.dir);
  });
  after(async () => {
    await c.stop();
  });

  test('helm template | kubectl apply -f -', async () => {
    const rendered = await ok(['template', 'tpl', chart, '--namespace', 'default', '--include-crds']);
    // As against a real cluster, the custom resource cannot be mapped before its CRD is established:
    // kubectl creates everything else and reports it; a second apply creates it.
    const first = await c.kubectl(['apply', '-n', 'default', '-f', '-'], { input: rendered });
    assert.equal(first.code, 1);
    assert.match(first.stderr, /no matches for kind "Widget" in version "example.test\/v1"\nensure CRDs are installed first/);
    const out = first.stdout;
    for (const line of [
      'customresourcedefinition.apiextensions.k8s.io/widgets.example.test created',
      'serviceaccount/tpl-sa created',
      'deployment.apps/tpl-web created',
      'service/tpl-svc created',
      'rolebinding.rbac.authorization.k8s.io/tpl-rb created',
    ])
      assert.ok(out.includes(line), `${line} in:\n${out}`);
    await c.k(['wait', '--for=condition=Established', 'crd/widgets.example.test', '--timeout=60s']);
    const again = await c.k(['apply', '-n', 'default', '-f', '-'], { input: rendered });
    assert.match(again, /widget.example.test\/tpl-widget created/);
    assert.match(again, /deployment.apps\/tpl-web unchanged/);
    const svc = JSON.parse(await c.k(['-n', 'default', 'get', 'svc', 'tpl-svc', '-o', 'json']));
    assert.match(svc.spec.clusterIP, /^10\.96\./);
    assert.equal(svc.spec.ports[0].protocol, 'TCP');
  });

  test('helm install, upgrade and uninstall', async () => {
    const installed = await ok(['install', 'rel', chart, '--namespace', 'apps', '--create-namespace']);
    assert.match(installed, /STATUS: deployed/);
    assert.match(installed, /REVISION: 1/);
    const secrets = JSON.parse(await c.k(['-n', 'apps', 'get', 'secrets', '-l', 'owner=helm,name=rel', '-o', 'json']));
    assert.deepEqual(
      secrets.items.map((s: { metadata: { name: string; labels: Record<string, string> } }) => `${s.metadata.name}:${s.metadata.labels.status}`),
      ['sh.helm.release.v1.rel.v1:deployed'],
    );
    assert.match(await c.k(['-n', 'apps', 'get', 'widget', 'rel-widget']), /rel-widget\s+1\s+red/);

    const upgraded = await ok(['upgrade', 'rel', chart, '--namespace', 'apps', '--set', 'replicas=3', '--set', 'image=nginx:1.26', '--set', 'mode=safe']);
    assert.match(upgraded, /REVISION: 2/);
    const d = JSON.parse(await c.k(['-n', 'apps', 'get', 'deploy', 'rel-web', '-o', 'json']));
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'safe' }]);
    assert.equal(d.metadata.annotations['meta.helm.sh/release-name'], 'rel');
    assert.match(await c.k(['-n', 'apps', 'get', 'widget', 'rel-widget']), /rel-widget\s+3\s+red/);
    const history = await ok(['history', 'rel', '--namespace', 'apps']);
    assert.match(history, /1\s+.*superseded/);
    assert.match(history, /2\s+.*deployed/);
    assert.match(await ok(['list', '--namespace', 'apps']), /rel\s+apps\s+2\s+.*deployed\s+widgets-0.1.0/);

    assert.match(await ok(['uninstall', 'rel', '--namespace', 'apps']), /release "rel" uninstalled/);
    const left = await c.k(['-n', 'apps', 'get', 'deploy,svc,cm,secret,role,rolebinding,widgets', '-o', 'name']);
    assert.deepEqual(left.trim().split('\n'), ['configmap/kube-root-ca.crt'], 'only what the cluster itself put in the namespace is left');
    assert.equal((await c.k(['get', 'crd', '-o', 'name'])).trim(), 'customresourcedefinition.apiextensions.k8s.io/widgets.example.test', 'CRDs in crds/ stay, as helm documents');
  });
});
