// The chart without a cluster: `helm lint`, `helm template` for the main value combinations with
// assertions on the rendered objects, the operator flags the Deployment passes checked by the
// operator's own flag parser, and bad values refused by values.schema.json with a message that names
// the key.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseOperatorArgs } from '../../operator/src/process.js';
import { helm } from '../helpers/kube.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const CHART = join(repoRoot, 'helm', 'sparkify-lake');
const NS = 'sparkify-system';
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const dir = tempDir('slake-chart-');
// helm template needs no cluster; the kubeconfig only has to be a path.
const kubeconfig = join(dir, 'no-cluster');
after(() => rmSync(dir, { recursive: true, force: true }));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}
/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are walked as plain JSON */
type Any = any;

async function render(values: Record<string, unknown> = {}, extra: string[] = []): Promise<K8sObject[]> {
  const file = join(dir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, JSON.stringify(values));
  const r = await helm(kubeconfig, ['template', 'lake', CHART, '--namespace', NS, '-f', file, ...extra]);
  assert.equal(r.code, 0, `helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function one(objs: K8sObject[], kind: string): Any {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, got ${found.length}`);
  return found[0]!;
}

function operatorContainer(objs: K8sObject[]): Any {
  return one(objs, 'Deployment').spec.template.spec.containers.find((c: Any) => c.name === 'operator');
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

test('helm lint passes (defaults and the dev-cluster values), strict', async () => {
  for (const extra of [[], ['-f', join(CHART, 'ci', 'devcluster-values.yaml')]]) {
    const r = await helm(kubeconfig, ['lint', '--strict', CHART, ...extra]);
    assert.equal(r.code, 0, `helm lint ${extra.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test('Chart appVersion is the package version (the default tag of both images)', () => {
  const chart = readFileSync(join(CHART, 'Chart.yaml'), 'utf8');
  assert.match(chart, new RegExp(`^appVersion: "${VERSION.replaceAll('.', '\\.')}"$`, 'm'));
});

test('defaults: the operator Deployment, restricted, under the chart ServiceAccount and its RBAC', async () => {
  const objs = await render();
  assert.deepEqual(
    objs.map((o) => o.kind).sort(),
    ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'],
  );
  const deploy = one(objs, 'Deployment');
  const pod = deploy.spec.template.spec;
  const c = operatorContainer(objs);
  assert.equal(deploy.spec.replicas, 2);
  assert.equal(deploy.metadata.namespace, NS);
  assert.equal(c.image, `ghcr.io/sparkify/sparkify-lake-operator:${VERSION}`);
  assert.equal(c.command, undefined, 'the image entrypoint runs the operator: the chart passes flags only');

  // The pod runs as the ServiceAccount the RBAC binds.
  const sa = one(objs, 'ServiceAccount');
  assert.equal(pod.serviceAccountName, sa.metadata.name);
  for (const binding of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as Any[]) {
    assert.ok(
      binding.subjects.some((s: Any) => s.kind === 'ServiceAccount' && s.name === sa.metadata.name && s.namespace === NS),
      `${binding.kind} ${binding.metadata.name} binds the operator's ServiceAccount`,
    );
  }

  // Restricted Pod Security Standard.
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  const tmp = c.volumeMounts.find((m: Any) => m.mountPath === '/tmp');
  assert.ok(tmp, 'an emptyDir at /tmp: the only writable folder');
  assert.ok(pod.volumes.find((v: Any) => v.name === tmp.name).emptyDir);

  // Probes and metrics on one named port; the Service and the PDB select exactly these pods.
  const port = c.ports.find((p: Any) => p.name === 'metrics');
  assert.equal(port.containerPort, 8080);
  assert.deepEqual([c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port], ['/healthz', 'metrics']);
  assert.deepEqual([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port], ['/readyz', 'metrics']);
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
  const podLabels = deploy.spec.template.metadata.labels;
  assert.ok(matches(deploy.spec.selector.matchLabels, podLabels));
  const svc = one(objs, 'Service');
  assert.ok(matches(svc.spec.selector, podLabels));
  assert.equal(svc.spec.ports[0].targetPort, 'metrics');
  const pdb = one(objs, 'PodDisruptionBudget');
  assert.ok(matches(pdb.spec.selector.matchLabels, podLabels));
  assert.equal(pdb.spec.maxUnavailable, 1);

  // The flags are the operator's own: its parser (strict) accepts them and they mean what we want.
  const opts = parseOperatorArgs(c.args);
  assert.ok(!('help' in opts) && !('crd' in opts));
  if ('help' in opts || 'crd' in opts) return;
  assert.equal(opts.leaderElect, true);
  assert.equal(opts.leaseNamespace, NS);
  assert.equal(opts.metricsPort, 8080);
  assert.deepEqual(opts.namespaces, []);
  assert.equal(opts.defaultImage, `ghcr.io/sparkify/sparkify-lake-job-runner:${VERSION}`);
  assert.deepEqual(opts.storageDefaults, {}, 'no S3 defaults unless set: each lake job names its own');
  assert.equal(opts.allowedRunnerImages, undefined, "no image list: the operator allows the default runner image's repository");
  assert.equal(opts.allowedS3Endpoints, undefined, 'no endpoint list: any endpoint (existing setups keep working)');
  // Cluster-wide by default: the ClusterRole is bound to the ServiceAccount the pods run as.
  assert.equal(one(objs, 'ClusterRoleBinding').roleRef.name, one(objs, 'ClusterRole').metadata.name);
  // Least privilege: exactly the verbs the operator sends (no get on lake jobs, Jobs or pods: the
  // informers list and watch; the status is PUT, never patched). The chart-install e2e test runs
  // the operator under these rules on the dev cluster, which enforces them.
  const verbs = Object.fromEntries(
    (one(objs, 'ClusterRole').rules as Any[]).flatMap((r) => r.resources.map((res: string) => [`${r.apiGroups[0] || 'core'}/${res}`, r.verbs.join(',')])),
  );
  assert.deepEqual(verbs, {
    'lake.sparkify.io/sparkifylakejobs': 'list,watch,patch',
    'lake.sparkify.io/sparkifylakejobs/status': 'update',
    'lake.sparkify.io/sparkifylakejobs/finalizers': 'update',
    'batch/jobs': 'list,watch,create,patch,delete',
    'core/pods': 'list',
    'core/pods/log': 'get',
    'core/secrets': 'get',
    'core/events': 'create,patch',
  });
  const env = Object.fromEntries(c.env.map((e: Any) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
  assert.deepEqual(env, { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
});

test('value combinations render what they say', async (t) => {
  // The cluster-wide rules of the default install, which the namespaced mode must grant per namespace.
  const clusterRules = one(await render(), 'ClusterRole').rules;
  assert.ok(clusterRules.length >= 8);
  const digest = `sha256:${'ab'.repeat(32)}`;
  const cases: { name: string; values: Record<string, unknown>; check(objs: K8sObject[]): void }[] = [
    {
      name: 'watched namespaces: --namespace flags, a Role + RoleBinding in each, nothing cluster-wide, the lease Role at home',
      values: { watchNamespaces: ['analytics', 'lakehouse'] },
      check(objs) {
        const opts = parseOperatorArgs(operatorContainer(objs).args) as Any;
        assert.deepEqual(opts.namespaces, ['analytics', 'lakehouse']);
        assert.deepEqual(objs.filter((o) => o.kind.startsWith('Cluster')), [], 'no ClusterRole or ClusterRoleBinding');
        const sa = one(objs, 'ServiceAccount').metadata.name;
        assert.equal(one(objs, 'Deployment').spec.template.spec.serviceAccountName, sa);
        const roles = objs.filter((o) => o.kind === 'Role') as Any[];
        const bindings = objs.filter((o) => o.kind === 'RoleBinding') as Any[];
        assert.deepEqual(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort(), ['analytics/lake-operator', 'lakehouse/lake-operator', `${NS}/lake-operator-leader-election`]);
        for (const ns of ['analytics', 'lakehouse']) {
          const role = roles.find((r) => r.metadata.namespace === ns);
          assert.deepEqual(role.rules, clusterRules, `${ns}: the same rules the ClusterRole grants cluster-wide`);
          const b = bindings.find((x) => x.metadata.namespace === ns);
          assert.deepEqual(b.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lake-operator' });
          assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: NS }]);
        }
        const lease = roles.find((r) => r.metadata.name.endsWith('-leader-election'));
        assert.deepEqual(lease.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
        assert.equal(bindings.find((x) => x.metadata.namespace === NS).roleRef.name, lease.metadata.name);
      },
    },
    {
      name: 'S3 defaults become --s3-* flags the operator parses; empty values pass nothing',
      values: { s3: { endpoint: 'http://minio.minio.svc.cluster.local:9000', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'lake-s3' } },
      check(objs) {
        const opts = parseOperatorArgs(operatorContainer(objs).args) as Any;
        assert.deepEqual(opts.storageDefaults, { endpoint: 'http://minio.minio.svc.cluster.local:9000', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'lake-s3' });
      },
    },
    {
      name: 'runner.allowedImages and s3.allowedEndpoints become the policy flags the operator parses',
      values: { runner: { image: { repository: 'ghcr.io/sparkify/sparkify-lake-job-runner' }, allowedImages: ['ghcr.io/sparkify/sparkify-lake-job-runner', 'registry.example.com/lake/*', `registry.example.com/x@${digest}`] }, s3: { allowedEndpoints: ['https://minio.storage:9000', 'http://10.0.0.5'] } },
      check(objs) {
        const opts = parseOperatorArgs(operatorContainer(objs).args) as Any;
        assert.deepEqual(opts.allowedRunnerImages, ['ghcr.io/sparkify/sparkify-lake-job-runner', 'registry.example.com/lake/*', `registry.example.com/x@${digest}`]);
        assert.deepEqual(opts.allowedS3Endpoints, ['https://minio.storage:9000', 'http://10.0.0.5']);
      },
    },
    {
      name: 'one replica without leader election',
      values: { replicaCount: 1, leaderElection: { enabled: false } },
      check(objs) {
        assert.equal(one(objs, 'Deployment').spec.replicas, 1);
        assert.equal((parseOperatorArgs(operatorContainer(objs).args) as Any).leaderElect, false);
      },
    },
    {
      name: 'image tags and digests',
      values: { image: { repository: 'registry.example.com/lake/operator', tag: '1.2.3', pullPolicy: 'Always' }, runner: { image: { repository: 'registry.example.com/lake/runner', digest } } },
      check(objs) {
        const c = operatorContainer(objs);
        assert.equal(c.image, 'registry.example.com/lake/operator:1.2.3');
        assert.equal(c.imagePullPolicy, 'Always');
        assert.equal((parseOperatorArgs(c.args) as Any).defaultImage, `registry.example.com/lake/runner@${digest}`);
      },
    },
    {
      name: 'ServiceMonitor for the prometheus-operator',
      values: { metrics: { port: 8080, serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus-stack' } } } },
      check(objs) {
        const sm = one(objs, 'ServiceMonitor');
        const svc = one(objs, 'Service');
        assert.equal(sm.metadata.labels.release, 'kube-prometheus-stack');
        assert.ok(matches(sm.spec.selector.matchLabels, svc.metadata.labels));
        assert.deepEqual(sm.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
      },
    },
    {
      name: 'NetworkPolicy: metrics in from the monitoring namespace, DNS + API + S3 out',
      values: { networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], egress: { ports: [443, 6443, 9000] } } },
      check(objs) {
        const np = one(objs, 'NetworkPolicy');
        assert.ok(matches(np.spec.podSelector.matchLabels, one(objs, 'Deployment').spec.template.metadata.labels));
        assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
        assert.equal(np.spec.ingress[0].ports[0].port, 'metrics');
        assert.equal(np.spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'monitoring');
        const ports = np.spec.egress.flatMap((e: Any) => e.ports.map((p: Any) => `${p.port}/${p.protocol}`));
        assert.deepEqual(ports, ['53/UDP', '53/TCP', '443/TCP', '6443/TCP', '9000/TCP']);
      },
    },
    {
      name: "NetworkPolicy lets out the port of the chart's S3 endpoint, once",
      values: { networkPolicy: { enabled: true }, s3: { endpoint: 'http://minio.minio.svc.cluster.local:9000', credentialsSecret: 'lake-s3' } },
      check(objs) {
        const np = one(objs, 'NetworkPolicy');
        const ports = np.spec.egress.flatMap((e: Any) => e.ports.map((p: Any) => `${p.port}/${p.protocol}`));
        assert.deepEqual(ports, ['53/UDP', '53/TCP', '443/TCP', '6443/TCP', '9000/TCP']);
      },
    },
    {
      name: 'no PDB, no Service',
      values: { podDisruptionBudget: { enabled: false }, metrics: { port: 9090, service: { enabled: false } } },
      check(objs) {
        assert.equal(objs.filter((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'Service').length, 0);
        assert.equal((parseOperatorArgs(operatorContainer(objs).args) as Any).metricsPort, 9090);
      },
    },
    {
      name: 'scheduling and extra arguments pass through; extra arguments come last',
      values: {
        nodeSelector: { pool: 'system' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'system', effect: 'NoSchedule' }],
        priorityClassName: 'system-cluster-critical',
        operator: { extraArgs: ['--workers=9'], extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }] },
      },
      check(objs) {
        const pod = one(objs, 'Deployment').spec.template.spec;
        assert.deepEqual(pod.nodeSelector, { pool: 'system' });
        assert.equal(pod.tolerations[0].key, 'dedicated');
        assert.equal(pod.priorityClassName, 'system-cluster-critical');
        const c = operatorContainer(objs);
        assert.equal(c.args[c.args.length - 1], '--workers=9');
        assert.equal((parseOperatorArgs(c.args) as Any).workers, 9);
        assert.ok(c.env.some((e: Any) => e.name === 'NODE_OPTIONS'));
      },
    },
  ];
  for (const c of cases) await t.test(c.name, async () => c.check(await render(c.values)));
});

test('the CRD ships in crds/ (installed by helm install, not a template)', async () => {
  const without = await render();
  assert.equal(without.filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  const withCrds = await render({}, ['--include-crds']);
  const crd = one(withCrds, 'CustomResourceDefinition');
  assert.equal(crd.metadata.name, 'sparkifylakejobs.lake.sparkify.io');
});

test('bad values files are refused with a message naming the key', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['replicaCount of the wrong type', { replicaCount: 'two' }, /replicaCount: Invalid type\. Expected: integer, given: string/],
    ['an unknown key (a typo)', { replicas: 3 }, /\(root\): Additional property replicas is not allowed/],
    ['a pull policy Kubernetes does not know', { image: { repository: 'ghcr.io/sparkify/sparkify-lake-operator', pullPolicy: 'Sometimes' } }, /image\.pullPolicy: image\.pullPolicy must be one of the following: "Always", "IfNotPresent", "Never"/],
    ['a namespace that is not a DNS label', { watchNamespaces: ['Analytics_Prod'] }, /watchNamespaces\.0: Does not match pattern/],
    ['a log level the operator does not have', { operator: { logLevel: 'verbose' } }, /operator\.logLevel: operator\.logLevel must be one of the following: "error", "warn", "info", "debug"/],
    ['running as root', { podSecurityContext: { runAsNonRoot: false } }, /podSecurityContext\.runAsNonRoot does not match: true/],
    ['a digest that is not sha256', { runner: { image: { repository: 'ghcr.io/sparkify/sparkify-lake-job-runner', digest: 'latest' } } }, /runner\.image\.digest: Does not match pattern/],
    ['a port out of range', { metrics: { port: 80800 } }, /metrics\.port: Must be less than or equal to 65535/],
    ['a PDB that blocks every drain', { podDisruptionBudget: { enabled: true, maxUnavailable: 0 } }, /podDisruptionBudget\.maxUnavailable: Must be greater than or equal to 1/],
    ['a bad memory quantity', { resources: { limits: { memory: '512MB' } } }, /resources\.limits\.memory/],
    ['two active replicas without leader election', { replicaCount: 2, leaderElection: { enabled: false } }, /replicaCount is 2 but leaderElection\.enabled is false: two active operators would fight/],
    ['an S3 endpoint without a scheme', { s3: { endpoint: 'minio:9000' } }, /s3\.endpoint: Does not match pattern/],
    ['an S3 credentials Secret that is not a Secret name', { s3: { credentialsSecret: 'Lake_S3' } }, /s3\.credentialsSecret: Does not match pattern/],
    ['an S3 setting the operator does not have', { s3: { bucket: 'lake' } }, /s3: Additional property bucket is not allowed/],
    ['two runner images in one entry', { runner: { image: { repository: 'ghcr.io/sparkify/sparkify-lake-job-runner' }, allowedImages: ['a.io/x,b.io/y'] } }, /runner\.allowedImages\.0: Does not match pattern/],
    ['a runner image glob with * inside', { runner: { image: { repository: 'ghcr.io/sparkify/sparkify-lake-job-runner' }, allowedImages: ['ghcr.io/*/runner'] } }, /runner\.allowedImages\.0: Does not match pattern/],
    ['an allowed S3 endpoint with a path (not an origin)', { s3: { allowedEndpoints: ['https://minio:9000/lake'] } }, /s3\.allowedEndpoints\.0: Does not match pattern/],
    ['a ServiceMonitor without the Service it scrapes', { metrics: { port: 8080, service: { enabled: false }, serviceMonitor: { enabled: true } } }, /metrics\.serviceMonitor\.enabled needs metrics\.service\.enabled/],
  ];
  for (const [name, values, want] of cases) {
    await t.test(name, async () => {
      const file = join(dir, `bad-${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, JSON.stringify(values));
      const r = await helm(kubeconfig, ['template', 'lake', CHART, '--namespace', NS, '-f', file]);
      assert.notEqual(r.code, 0, `${name}: accepted`);
      assert.match(r.stderr, want);
    });
  }
});
