// The API server through the real kubectl 1.32: CRDs, validation messages, printer columns, watch,
// describe, patches, wait with observedGeneration, finalizers, server-side and client-side apply,
// RBAC with ServiceAccount tokens, auth can-i, paging.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { eventually, startTestCluster, widgetCrd, type TestCluster } from './harness.js';

const widget = (name: string, spec: Record<string, unknown>, ns = 'default') => stringify({ apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name, namespace: ns }, spec });

describe('devcluster API server with kubectl', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.stop();
  });

  test('kubectl apply of a CRD, then wait --for=condition=Established', async () => {
    assert.match(await c.k(['apply', '-f', '-'], { input: stringify(widgetCrd) }), /customresourcedefinition.apiextensions.k8s.io\/widgets.example.test created/);
    assert.match(await c.k(['wait', '--for=condition=Established', 'crd/widgets.example.test', '--timeout=60s']), /condition met/);
    const crd = JSON.parse(await c.k(['get', 'crd', 'widgets.example.test', '-o', 'json']));
    assert.deepEqual(
      crd.status.conditions.map((x: { type: string; status: string }) => `${x.type}=${x.status}`),
      ['NamesAccepted=True', 'Established=True'],
    );
    assert.deepEqual(crd.status.storedVersions, ['v1']);
    assert.match(await c.k(['api-resources', '--api-group=example.test']), /widgets\s+wd\s+example.test\/v1\s+true\s+Widget/);
  });

  test('an invalid custom resource is refused with Kubernetes messages', async () => {
    const cases: { name: string; spec: Record<string, unknown>; want: RegExp[] }[] = [
      { name: 'missing', spec: {}, want: [/The Widget "missing" is invalid: spec.size: Required value/] },
      { name: 'small', spec: { size: 0 }, want: [/spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1/] },
      { name: 'big', spec: { size: 11 }, want: [/spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10/] },
      { name: 'color', spec: { size: 1, color: 'pink' }, want: [/spec.color: Unsupported value: "pink": supported values: "red", "green", "blue"/] },
      { name: 'typed', spec: { size: 'three' }, want: [/spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"/] },
      { name: 'pattern', spec: { size: 1, name: 'Abc' }, want: [/spec.name: Invalid value: "Abc": spec.name in body should match '\^\[a-z\]\+\$'/] },
      { name: 'many', spec: { size: 1, tags: ['a', 'b', 'c', 'd'] }, want: [/spec.tags: Too many: 4: must have at most 3 items/] },
      { name: 'both', spec: { size: 0, color: 'pink' }, want: [/\* spec.size: Invalid value: 0/, /\* spec.color: Unsupported value: "pink"/] },
    ];
    for (const tc of cases) {
      const r = await c.kubectl(['apply', '-f', '-'], { input: widget(tc.name, tc.spec) });
      assert.notEqual(r.code, 0, `${tc.name}: accepted`);
      for (const re of tc.want) assert.match(r.stderr, re, tc.name);
    }
    const unknown = await c.kubectl(['apply', '-f', '-'], { input: widget('unknown', { size: 1, bogus: true }) });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"/);
    const none = await c.kubectl(['get', 'widgets', '-o', 'name']);
    assert.equal(none.stdout.trim(), '', 'nothing invalid was stored');
  });

  test('kubectl get shows printer columns, defaults and preserved fields', async () => {
    await c.k(['apply', '-f', '-'], { input: widget('alpha', { size: 3, quantity: '2Gi', extra: { any: { thing: 1 } } }) });
    await c.k(['apply', '-f', '-'], { input: widget('beta', { size: 5, color: 'blue', quantity: 7 }) });
    const table = await c.k(['get', 'widgets']);
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+SIZE\s+COLOR\s+READY\s+AGE$/);
    // A column whose JSONPath finds nothing is a null cell, which kubectl prints as blank.
    assert.match(lines[1]!, /^alpha\s+3\s+red\s+\d+s$/);
    assert.match(lines[2]!, /^beta\s+5\s+blue\s+\d+s$/);
    const alpha = JSON.parse(await c.k(['get', 'wd', 'alpha', '-o', 'json']));
    assert.equal(alpha.spec.color, 'red', 'schema default applied');
    assert.deepEqual(alpha.spec.extra, { any: { thing: 1 } });
    assert.equal(alpha.metadata.generation, 1);
    assert.match(await c.k(['get', 'all']), /widget.example.test\/alpha/);
  });

  test('kubectl get -w streams changes', async () => {
    const w = c.spawnKubectl(['get', 'widgets', '-w']);
    try {
      await w.waitFor(/^beta\s+5/);
      await c.k(['patch', 'widget', 'beta', '--type=merge', '-p', '{"spec":{"size":9}}']);
      await w.waitFor(/^beta\s+9\s+blue/);
      await c.k(['apply', '-f', '-'], { input: widget('gamma', { size: 2 }) });
      await w.waitFor(/^gamma\s+2\s+red/);
    } finally {
      await w.stop();
    }
    assert.equal(w.lines.filter((l) => /^NAME/.test(l)).length, 1, `one header: ${w.lines.join('\n')}`);
  });

  test('kubectl describe shows the events of an object', async () => {
    const uid = (await c.k(['get', 'widget', 'alpha', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'alpha.planned', namespace: 'default' },
      regarding: { apiVersion: 'example.test/v1', kind: 'Widget', name: 'alpha', namespace: 'default', uid },
      reason: 'Planned',
      note: 'planned 3 shards',
      type: 'Normal',
      action: 'Plan',
      reportingController: 'example.test/widget-operator',
      reportingInstance: 'widget-operator-0',
      eventTime: new Date().toISOString().replace('Z', '000Z'),
    };
    await c.k(['create', '-f', '-'], { input: JSON.stringify(event) });
    const out = await c.k(['describe', 'widget', 'alpha']);
    assert.match(out, /Events:\s+Type\s+Reason\s+Age\s+From\s+Message/);
    assert.match(out, /Normal\s+Planned\s+\S+\s+example.test\/widget-operator\s+planned 3 shards/);
    assert.match(await c.k(['get', 'events']), /Normal\s+Planned\s+widget\/alpha\s+planned 3 shards/);
  });

  test('patch --type=merge moves generation; --subresource=status does not; wait honours observedGeneration', async () => {
    await c.k(['patch', 'widget', 'alpha', '--type=merge', '-p', '{"spec":{"size":4}}']);
    const gen = Number(await c.k(['get', 'widget', 'alpha', '-o', 'jsonpath={.metadata.generation}']));
    assert.equal(gen, 2);
    const ready = (g: number) => JSON.stringify({ status: { observedGeneration: g, conditions: [{ type: 'Ready', status: 'True', reason: 'Done', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: g }] } });
    await c.k(['patch', 'widget', 'alpha', '--subresource=status', '--type=merge', '-p', ready(gen)]);
    assert.equal(Number(await c.k(['get', 'widget', 'alpha', '-o', 'jsonpath={.metadata.generation}'])), gen, 'status writes leave generation');
    assert.match(await c.k(['get', 'widget', 'alpha']), /alpha\s+4\s+red\s+True/);
    // status is ignored on the main resource, spec on /status
    await c.k(['patch', 'widget', 'alpha', '--type=merge', '-p', '{"status":{"observedGeneration":99}}']);
    await c.k(['patch', 'widget', 'alpha', '--subresource=status', '--type=merge', '-p', '{"spec":{"size":10}}']);
    const alpha = JSON.parse(await c.k(['get', 'widget', 'alpha', '-o', 'json']));
    assert.equal(alpha.status.observedGeneration, gen);
    assert.equal(alpha.spec.size, 4);
    assert.match(await c.k(['wait', '--for=condition=Ready', 'widget/alpha', '--timeout=30s']), /condition met/);
    // A new spec makes the Ready condition stale: wait must not be satisfied by it.
    await c.k(['patch', 'widget', 'alpha', '--type=merge', '-p', '{"spec":{"size":6}}']);
    const stale = await c.kubectl(['wait', '--for=condition=Ready', 'widget/alpha', '--timeout=1s']);
    assert.notEqual(stale.code, 0, 'a condition of an older generation does not count');
    const waiting = c.kubectl(['wait', '--for=condition=Ready', 'widget/alpha', '--timeout=60s'], { timeoutMs: 90_000 });
    await new Promise((r) => setTimeout(r, 300));
    await c.k(['patch', 'widget', 'alpha', '--subresource=status', '--type=merge', '-p', ready(gen + 1)]);
    const done = await waiting;
    assert.equal(done.code, 0, done.stderr);
  });

  test('kubectl delete waits on finalizers', async () => {
    await c.k(['apply', '-f', '-'], { input: widget('held', { size: 1 }) });
    await c.k(['patch', 'widget', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":["example.test/cleanup"]}}']);
    const deleting = c.kubectl(['delete', 'widget', 'held', '--timeout=60s'], { timeoutMs: 90_000 });
    await eventually(async () => (await c.k(['get', 'widget', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).trim() !== '', 20_000, 'deletionTimestamp');
    let settled = false;
    void deleting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(settled, false, 'kubectl delete returned while a finalizer held the object');
    const added = await c.kubectl(['patch', 'widget', 'held', '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers/-","value":"example.test/more"}]']);
    assert.match(added.stderr, /no new finalizers can be added if the object is being deleted/);
    await c.k(['patch', 'widget', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    const r = await deleting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /widget.example.test "held" deleted/);
    assert.match((await c.kubectl(['get', 'widget', 'held'])).stderr, /widgets.example.test "held" not found/);
  });

  test('kubectl apply --server-side: apply, removal of dropped fields, conflicts and force', async () => {
    const cm = (data: Record<string, string>) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data });
    assert.match(await c.k(['apply', '--server-side', '-f', '-'], { input: cm({ a: '1', b: '2' }) }), /configmap\/ssa serverside-applied/);
    await c.k(['apply', '--server-side', '-f', '-'], { input: cm({ a: '1' }) });
    assert.deepEqual(JSON.parse(await c.k(['get', 'cm', 'ssa', '-o', 'jsonpath={.data}'])), { a: '1' }, 'a field the manager stopped applying is removed');
    const clash = await c.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: cm({ a: '9' }) });
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /Apply failed with 1 conflict: conflict with "kubectl" using v1: .data.a/);
    await c.k(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: cm({ a: '9' }) });
    assert.deepEqual(JSON.parse(await c.k(['get', 'cm', 'ssa', '-o', 'jsonpath={.data}'])), { a: '9' });
    // A custom resource through server-side apply, created by it.
    assert.match(await c.k(['apply', '--server-side', '-f', '-'], { input: widget('ssa', { size: 2 }) }), /widget.example.test\/ssa serverside-applied/);
  });

  test('kubectl apply twice of a Deployment goes through the 3-way strategic merge patch', async () => {
    const deployment = (containers: object[], replicas: number) =>
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'default' },
        spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
      });
    await c.k(['apply', '-f', '-'], {
      input: deployment(
        [
          { name: 'web', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
          { name: 'side', image: 'busybox:1' },
        ],
        2,
      ),
    });
    // Something else (a controller, kubectl edit) adds an env var the manifest does not know about.
    await c.k(['patch', 'deployment', 'web', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"x"}]}]}}}}']);
    const second = await c.kubectl(['apply', '-f', '-', '-v=6'], {
      input: deployment([{ name: 'web', image: 'nginx:1.26', env: [{ name: 'A', value: '1' }, { name: 'B', value: '3' }], ports: [{ containerPort: 80 }] }, { name: 'side2', image: 'busybox:1' }], 3),
    });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /PATCH https:\/\/\S+\/apis\/apps\/v1\/namespaces\/default\/deployments\/web\?fieldManager=kubectl-client-side-apply&fieldValidation=Strict 200 OK/);
    const d = JSON.parse(await c.k(['get', 'deploy', 'web', '-o', 'json']));
    const containers = d.spec.template.spec.containers;
    assert.deepEqual(containers.map((x: { name: string }) => x.name), ['web', 'side2'], 'side removed, side2 added');
    assert.equal(containers[0].image, 'nginx:1.26');
    assert.deepEqual(containers[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'EXTRA', value: 'x' }], 'merged by name, the foreign entry kept');
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.metadata.generation, 3);
    assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%', 'defaults kept');
    assert.match(await c.k(['get', 'deploy', 'web']), /web\s+0\/3\s+0\s+0\s+\d+s/);
  });

  test('a ServiceAccount token is refused by RBAC with the real message, then allowed by a RoleBinding', async () => {
    await c.k(['create', 'namespace', 'team']);
    await c.k(['-n', 'team', 'create', 'serviceaccount', 'runner']);
    const token = (await c.k(['-n', 'team', 'create', 'token', 'runner', '--duration=15m'])).trim();
    const asRunner = c.kubeconfigFor(token, 'runner');
    const job = stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'one', namespace: 'team' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] } } },
    });
    const refused = await c.kubectl(['create', '-f', '-'], { input: job, kubeconfig: asRunner });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Error from server \(Forbidden\): error when creating "STDIN": jobs.batch is forbidden: User "system:serviceaccount:team:runner" cannot create resource "jobs" in API group "batch" in the namespace "team"/);
    assert.match((await c.kubectl(['auth', 'can-i', 'create', 'jobs.batch', '-n', 'team'], { kubeconfig: asRunner })).stdout, /^no/);
    assert.match((await c.kubectl(['auth', 'can-i', 'create', 'jobs', '-n', 'team', '--as=system:serviceaccount:team:runner'])).stdout, /^no/);
    await c.k(['apply', '-f', '-'], {
      input: [
        stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'jobs', namespace: 'team' }, rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create'] }] }),
        stringify({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'runner-jobs', namespace: 'team' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'jobs' },
          subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: 'team' }],
        }),
      ].join('---\n'),
    });
    assert.match(await c.k(['create', '-f', '-'], { input: job, kubeconfig: asRunner }), /job.batch\/one created/);
    assert.match((await c.kubectl(['auth', 'can-i', 'create', 'jobs.batch', '-n', 'team'], { kubeconfig: asRunner })).stdout, /^yes/);
    assert.match((await c.kubectl(['auth', 'can-i', 'delete', 'jobs.batch', '-n', 'team'], { kubeconfig: asRunner })).stdout, /^no/);
    assert.match((await c.kubectl(['auth', 'can-i', 'create', 'jobs.batch', '-n', 'default'], { kubeconfig: asRunner })).stdout, /^no/);
    const del = await c.kubectl(['-n', 'team', 'delete', 'job', 'one'], { kubeconfig: asRunner });
    assert.match(del.stderr, /jobs.batch "one" is forbidden: User "system:serviceaccount:team:runner" cannot delete resource "jobs" in API group "batch" in the namespace "team"/);
    assert.match(await c.k(['auth', 'whoami'], { kubeconfig: asRunner }), /system:serviceaccount:team:runner/);
    const job1 = JSON.parse(await c.k(['-n', 'team', 'get', 'job', 'one', '-o', 'json']));
    assert.equal(job1.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], job1.metadata.uid, 'generated selector');
    assert.equal(job1.spec.template.metadata.labels['batch.kubernetes.io/job-name'], 'one');
    // The aggregated bootstrap ClusterRole "view" through a binding made by `kubectl create` (protobuf).
    await c.k(['create', 'rolebinding', 'runner-view', '--clusterrole=view', '--serviceaccount=team:runner', '-n', 'team']);
    assert.match((await c.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'team'], { kubeconfig: asRunner })).stdout, /^yes/);
    assert.match((await c.kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'team'], { kubeconfig: asRunner })).stdout, /^no/);
    // Deleting the ServiceAccount revokes its tokens.
    await c.k(['-n', 'team', 'delete', 'serviceaccount', 'runner']);
    assert.match((await c.kubectl(['-n', 'team', 'get', 'jobs'], { kubeconfig: asRunner })).stderr, /Unauthorized|provide credentials/);
  });

  test('kubectl scale and rollout restart go through the scale subresource and a strategic patch', async () => {
    assert.match(await c.k(['scale', 'deployment', 'web', '--replicas=5']), /deployment.apps\/web scaled/);
    assert.equal((await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).trim(), '5');
    assert.match(await c.k(['rollout', 'restart', 'deployment', 'web']), /deployment.apps\/web restarted/);
    assert.match(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.metadata.annotations}']), /kubectl.kubernetes.io\/restartedAt/);
  });

  test('list paging with limit and continue', async () => {
    for (let i = 0; i < 7; i++) await c.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: `page-${i}`, labels: { paged: 'yes' } } } });
    const names: string[] = [];
    let cont = '';
    let pages = 0;
    do {
      const r = await c.request('GET', `/api/v1/namespaces/default/configmaps?labelSelector=paged%3Dyes&limit=3${cont ? `&continue=${cont}` : ''}`);
      const body = r.json();
      names.push(...body.items.map((i: { metadata: { name: string } }) => i.metadata.name));
      cont = body.metadata.continue ?? '';
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
    const v6 = await c.kubectl(['get', 'cm', '-l', 'paged=yes', '--chunk-size=2', '-o', 'name', '-v=6']);
    assert.equal(v6.stdout.trim().split('\n').length, 7);
    assert.equal((v6.stderr.match(/GET https:\S+configmaps\?labelSelector=paged%3Dyes&limit=2/g) ?? []).length + (v6.stderr.match(/continue=/g) ?? []).length >= 4, true, 'kubectl paged through the list');
  });
});
