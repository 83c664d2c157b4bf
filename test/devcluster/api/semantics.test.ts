// API semantics over raw HTTPS, where kubectl would hide the details: injected faults and their Status
// bodies, watch resume/410/bookmarks/timeouts/selector transitions, deletion (finalizers,
// propagationPolicy, graceful pods, namespaces, CRDs), dry run, field validation warnings, Tables,
// Events in both API groups, pods/log, the scale subresource, anonymous access.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, startTestCluster, widgetCrd, type TestCluster } from './harness.js';

interface WatchEvent {
  type: string;
  object: { metadata: { name?: string; resourceVersion?: string; annotations?: Record<string, string> }; code?: number; reason?: string; message?: string; [k: string]: unknown };
}

/** Opens a watch and collects its events until the server ends it (or `close()`). */
function openWatch(c: TestCluster, path: string): { events: WatchEvent[]; ended: Promise<void>; close(): void } {
  const events: WatchEvent[] = [];
  let req!: ReturnType<typeof https.request>;
  const ended = new Promise<void>((resolve, reject) => {
    req = https.request(`${c.api.url}${path}`, { ca: c.api.caPem, headers: { Authorization: `Bearer ${c.adminToken}` } }, (res) => {
      let buf = '';
      res.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)) as WatchEvent);
          buf = buf.slice(i + 1);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    req.end();
  });
  return { events, ended, close: () => req.destroy() };
}

describe('devcluster API server semantics', () => {
  let c: TestCluster;
  let logRoot: string;
  before(async () => {
    logRoot = join(process.env.TMPDIR ?? '/tmp', `slake-podlogs-${process.pid}-${Date.now()}`);
    c = await startTestCluster({ watchHistory: 50, bookmarkIntervalMs: 200, podLogRoot: logRoot });
    const r = await c.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: widgetCrd });
    assert.equal(r.code, 201, r.text);
    await eventually(async () => (await c.request('GET', '/apis/example.test/v1/namespaces/default/widgets')).code === 200, 20_000, 'widgets served');
  });
  after(async () => {
    await c.stop();
    rmSync(logRoot, { recursive: true, force: true });
  });

  test('injected faults answer with the Status a real apiserver sends', async () => {
    const cases: { status: 500 | 429 | 409; code: number; reason: string; message: RegExp; header?: [string, string] }[] = [
      { status: 500, code: 500, reason: 'InternalError', message: /^Internal error occurred: injected fault/ },
      { status: 429, code: 429, reason: 'TooManyRequests', message: /^Too many requests, please try again later\.$/, header: ['retry-after', '1'] },
      { status: 409, code: 409, reason: 'Conflict', message: /^Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes to the latest version and try again$/ },
    ];
    for (const tc of cases) {
      const undo = c.api.faults.failRequests({ status: tc.status, count: 1, verbs: ['get'], resource: 'configmaps' });
      const r = await c.request('GET', '/api/v1/namespaces/default/configmaps/x');
      assert.equal(r.code, tc.code);
      const s = r.json();
      assert.equal(s.kind, 'Status');
      assert.equal(s.status, 'Failure');
      assert.equal(s.reason, tc.reason);
      assert.match(s.message, tc.message);
      if (tc.header) assert.equal(r.headers[tc.header[0]], tc.header[1]);
      assert.equal((await c.request('GET', '/api/v1/namespaces/default/configmaps/x')).code, 404, 'count: 1 fails only the next request');
      undo();
    }
    // A seeded fraction is reproducible.
    const pattern = async () => {
      const undo = c.api.faults.failRequests({ status: 500, fraction: 0.5, seed: 7, resource: 'secrets' });
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) codes.push((await c.request('GET', '/api/v1/namespaces/default/secrets')).code);
      undo();
      return codes.join(',');
    };
    const first = await pattern();
    assert.equal(await pattern(), first);
    assert.ok(first.includes('500') && first.includes('200'), first);
    // pause holds requests until resume
    c.api.faults.pause();
    let answered = false;
    const held = c.request('GET', '/version').then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(answered, false);
    c.api.faults.resume();
    assert.equal((await held).code, 200);
  });

  test('watch: resume from a resourceVersion, 410 Gone when too old, bookmarks, timeoutSeconds, selector transitions', async () => {
    const mk = (name: string, labels: Record<string, string> = {}) => c.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name, labels } } });
    const rv = (await c.request('GET', '/api/v1/namespaces/default/configmaps')).json().metadata.resourceVersion;
    await mk('w1', { tier: 'a' });
    await mk('w2', { tier: 'b' });
    const resumed = openWatch(c, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await resumed.ended;
    assert.deepEqual(resumed.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'ADDED w2']);

    // Selector transitions: relabelling w2 into the selection is ADDED, out of it DELETED.
    const sel = openWatch(c, '/api/v1/namespaces/default/configmaps?watch=true&labelSelector=tier%3Da&allowWatchBookmarks=true&timeoutSeconds=60');
    await eventually(() => sel.events.length >= 1, 20_000, 'initial event');
    await c.request('PATCH', '/api/v1/namespaces/default/configmaps/w2', { body: { metadata: { labels: { tier: 'a' } } }, contentType: 'application/merge-patch+json' });
    await c.request('PATCH', '/api/v1/namespaces/default/configmaps/w1', { body: { metadata: { labels: { tier: 'c' } } }, contentType: 'application/merge-patch+json' });
    // Waits for what must come (the stream's end is not a deadline a loaded machine always meets).
    await eventually(() => sel.events.some((e) => e.type === 'DELETED') && sel.events.some((e) => e.type === 'BOOKMARK'), 20_000, 'the DELETED event and a bookmark');
    sel.close();
    await sel.ended;
    const seen = sel.events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.name}`);
    assert.deepEqual(seen, ['ADDED w1', 'ADDED w2', 'DELETED w1']);
    assert.ok(sel.events.some((e) => e.type === 'BOOKMARK' && Number(e.object.metadata.resourceVersion) > 0), 'bookmarks were sent');

    // More than watchHistory (50) writes later, the old resourceVersion is gone.
    for (let i = 0; i < 60; i++) await mk(`churn-${i}`);
    const old = openWatch(c, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`);
    await old.ended;
    assert.equal(old.events.length, 1);
    assert.equal(old.events[0]!.type, 'ERROR');
    assert.equal(old.events[0]!.object.code, 410);
    assert.equal(old.events[0]!.object.reason, 'Expired');
    assert.match(String(old.events[0]!.object.message), /^too old resource version: \d+ \(\d+\)$/);

    // sendInitialEvents ends the initial state with an annotated bookmark.
    const streaming = openWatch(c, '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&labelSelector=tier%3Da&timeoutSeconds=1');
    await streaming.ended;
    const endMarker = streaming.events.findIndex((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true');
    assert.equal(endMarker, 1, JSON.stringify(streaming.events.map((e) => e.type)));
  });

  test('deletion: propagationPolicy finalizers, the Job default (orphan), graceful pods, dry run', async () => {
    const ns = '/apis/example.test/v1/namespaces/default/widgets';
    await c.request('POST', ns, { body: { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'fg' }, spec: { size: 1 } } });
    const fg = await c.request('DELETE', `${ns}/fg`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' } });
    assert.equal(fg.code, 200);
    assert.deepEqual(fg.json().metadata.finalizers, ['foregroundDeletion']);
    assert.ok(fg.json().metadata.deletionTimestamp);
    assert.equal(fg.json().metadata.generation, 2, 'setting deletionTimestamp bumps generation');
    // The GC would now delete dependents and drop the finalizer:
    await c.request('PATCH', `${ns}/fg`, { body: [{ op: 'remove', path: '/metadata/finalizers' }], contentType: 'application/json-patch+json' });
    assert.equal((await c.request('GET', `${ns}/fg`)).code, 404);

    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } };
    assert.equal((await c.request('POST', '/apis/batch/v1/namespaces/default/jobs', { body: job })).code, 201);
    const orphaned = await c.request('DELETE', '/apis/batch/v1/namespaces/default/jobs/j');
    assert.deepEqual(orphaned.json().metadata.finalizers, ['orphan'], 'batch/v1 Jobs default to orphaning their pods');
    const bg = await c.request('DELETE', '/apis/batch/v1/namespaces/default/jobs/j?propagationPolicy=Background');
    assert.equal(bg.json().status, 'Success', 'an explicit Background drops the orphan finalizer and deletes');
    assert.equal((await c.request('GET', '/apis/batch/v1/namespaces/default/jobs/j')).code, 404);

    const pod = (name: string, nodeName?: string) => ({ metadata: { name }, spec: { nodeName, terminationGracePeriodSeconds: 20, containers: [{ name: 'c', image: 'x' }] } });
    await c.request('POST', '/api/v1/namespaces/default/pods', { body: pod('running', 'node-1') });
    const graceful = await c.request('DELETE', '/api/v1/namespaces/default/pods/running');
    assert.equal(graceful.json().metadata.deletionGracePeriodSeconds, 20);
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/pods/running')).code, 200, 'a bound pod waits for its kubelet');
    const confirmed = await c.request('DELETE', '/api/v1/namespaces/default/pods/running', { body: { gracePeriodSeconds: 0 } });
    assert.equal(confirmed.code, 200);
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/pods/running')).code, 404);
    await c.request('POST', '/api/v1/namespaces/default/pods', { body: pod('unbound') });
    await c.request('DELETE', '/api/v1/namespaces/default/pods/unbound');
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/pods/unbound')).code, 404, 'an unbound pod goes at once');

    const dry = await c.request('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: { metadata: { name: 'dry' }, data: { a: '1' } } });
    assert.equal(dry.code, 201);
    assert.equal(dry.json().metadata.name, 'dry');
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/configmaps/dry')).code, 404, 'dry run stores nothing');
    const precondition = await c.request('DELETE', '/api/v1/namespaces/default/configmaps/w1', { body: { preconditions: { uid: 'not-it' } } });
    assert.equal(precondition.code, 409);
    assert.match(precondition.json().message, /Precondition failed: UID in precondition: not-it, UID in object meta: /);
  });

  test('a namespace deletion terminates, empties it (waiting on finalizers), then removes it', async () => {
    await c.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'doomed' } } });
    const sa = await c.request('GET', '/api/v1/namespaces/doomed/serviceaccounts/default');
    assert.equal(sa.code, 200, 'every namespace gets a default ServiceAccount');
    await c.request('POST', '/apis/example.test/v1/namespaces/doomed/widgets', { body: { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'held', finalizers: ['example.test/keep'] }, spec: { size: 1 } } });
    await c.request('POST', '/api/v1/namespaces/doomed/configmaps', { body: { metadata: { name: 'free' } } });
    const del = await c.request('DELETE', '/api/v1/namespaces/doomed');
    assert.equal(del.json().status.phase, 'Terminating');
    await eventually(async () => (await c.request('GET', '/api/v1/namespaces/doomed/configmaps/free')).code === 404, 20_000, 'content removed');
    const refused = await c.request('POST', '/api/v1/namespaces/doomed/configmaps', { body: { metadata: { name: 'late' } } });
    assert.equal(refused.code, 403);
    assert.equal(refused.json().message, 'unable to create new content in namespace doomed because it is being terminated');
    const nsNow = (await c.request('GET', '/api/v1/namespaces/doomed')).json();
    assert.equal(nsNow.status.phase, 'Terminating', 'a finalizer holds the namespace');
    await c.request('PATCH', '/apis/example.test/v1/namespaces/doomed/widgets/held', { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
    await eventually(async () => (await c.request('GET', '/api/v1/namespaces/doomed')).code === 404, 20_000, 'namespace removed');
    const sys = await c.request('DELETE', '/api/v1/namespaces/kube-system');
    assert.equal(sys.code, 403);
    assert.equal(sys.json().message, 'namespaces "kube-system" is forbidden: this namespace may not be deleted');
  });

  test('validation warnings, generation rules, Tables, PartialObjectMetadata and Events in both groups', async () => {
    const warn = await c.request('POST', '/apis/example.test/v1/namespaces/default/widgets', { body: { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'warned' }, spec: { size: 2, bogus: 1 } } });
    assert.equal(warn.code, 201);
    assert.equal(warn.headers.warning, '299 - "unknown field \\"spec.bogus\\""');
    assert.equal(warn.json().spec.bogus, undefined, 'unknown fields are pruned');
    const unconditional = await c.request('PUT', '/apis/example.test/v1/namespaces/default/widgets/warned', { body: { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'warned' }, spec: { size: 3 } } });
    assert.equal(unconditional.code, 422);
    assert.equal(unconditional.json().message, 'Widget.example.test "warned" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');

    const cm = await c.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'gen' }, data: { a: '1' } } });
    assert.equal(cm.json().metadata.generation, undefined, 'ConfigMaps keep no generation');
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gen' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } };
    const d1 = (await c.request('POST', '/apis/apps/v1/namespaces/default/deployments', { body: dep })).json();
    assert.equal(d1.metadata.generation, 1);
    const d2 = (await c.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { body: { status: { replicas: 1 } }, contentType: 'application/merge-patch+json' })).json();
    assert.equal(d2.metadata.generation, 1, 'status writes leave generation');
    const d3 = (await c.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { body: { metadata: { labels: { x: 'y' } } }, contentType: 'application/merge-patch+json' })).json();
    assert.equal(d3.metadata.generation, 1, 'metadata writes leave generation');
    const scale = await c.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { body: { spec: { replicas: 4 } }, contentType: 'application/merge-patch+json' });
    assert.equal(scale.json().kind, 'Scale');
    assert.equal(scale.json().spec.replicas, 4);
    const d4 = (await c.request('GET', '/apis/apps/v1/namespaces/default/deployments/gen')).json();
    assert.equal(d4.spec.replicas, 4);
    assert.equal(d4.metadata.generation, 2);
    const badDep = await c.request('POST', '/apis/apps/v1/namespaces/default/deployments', { body: { ...dep, metadata: { name: 'bad' }, spec: { ...dep.spec, selector: { matchLabels: { a: 'z' } } } } });
    assert.equal(badDep.code, 422);
    assert.equal(badDep.json().message, 'Deployment.apps "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]interface {}{"a":"b"}: `selector` does not match template `labels`');

    // Built-in kinds decode into Go structs upstream: a null is the zero value and is not stored.
    const nulls = { ...dep, metadata: { name: 'nulls', labels: null }, spec: { ...dep.spec, paused: null, template: { metadata: { labels: { a: 'b' }, creationTimestamp: null }, spec: { nodeSelector: null, containers: [{ name: 'c', image: 'x', env: null }] } } } };
    const stored = (await c.request('POST', '/apis/apps/v1/namespaces/default/deployments', { body: nulls })).json();
    assert.deepEqual([stored.metadata.labels, stored.spec.paused, stored.spec.template.metadata, stored.spec.template.spec.nodeSelector, stored.spec.template.spec.containers[0].env], [undefined, undefined, { labels: { a: 'b' } }, undefined, undefined]);
    stored.spec.template.metadata.creationTimestamp = null;
    const resent = await c.request('PUT', '/apis/apps/v1/namespaces/default/deployments/nulls', { body: stored });
    assert.equal(resent.json().metadata.generation, 1, 'a template differing only by nulls is the same template');
    assert.equal(resent.json().metadata.resourceVersion, stored.metadata.resourceVersion, 'a no-op update');

    const table = (await c.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=tier', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })).json();
    assert.equal(table.kind, 'Table');
    assert.deepEqual(table.columnDefinitions.map((d: { name: string }) => d.name), ['Name', 'Data', 'Age']);
    assert.deepEqual(table.rows.map((r: { cells: unknown[] }) => r.cells[0]), ['w1', 'w2']);
    assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
    const partial = (await c.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=tier', { accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' })).json();
    assert.equal(partial.kind, 'PartialObjectMetadataList');
    assert.equal(partial.items[0].data, undefined);

    const uid = (await c.request('GET', '/api/v1/namespaces/default/configmaps/gen')).json().metadata.uid;
    const core = await c.request('POST', '/api/v1/namespaces/default/events', {
      body: { metadata: { name: 'gen.1' }, involvedObject: { kind: 'ConfigMap', namespace: 'default', name: 'gen', uid }, reason: 'Checked', message: 'looks fine', type: 'Normal', source: { component: 'test' }, count: 2 },
    });
    assert.equal(core.code, 201);
    const asV1 = (await c.request('GET', '/apis/events.k8s.io/v1/namespaces/default/events/gen.1')).json();
    assert.equal(asV1.apiVersion, 'events.k8s.io/v1');
    assert.equal(asV1.note, 'looks fine');
    assert.equal(asV1.regarding.name, 'gen');
    assert.equal(asV1.deprecatedCount, 2);
    const found = (await c.request('GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=gen,involvedObject.uid=${uid}`)}`)).json();
    assert.deepEqual(found.items.map((e: { metadata: { name: string } }) => e.metadata.name), ['gen.1']);
    const unsupported = await c.request('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=spec.foo%3Dx');
    assert.equal(unsupported.code, 400);
    assert.equal(unsupported.json().message, 'field label not supported: spec.foo');
  });

  test('pods/log reads what the kubelet wrote, follows it, and tails it', async () => {
    const pod = (await c.request('POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'logger' }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'x' }] } } })).json();
    const waiting = await c.request('GET', '/api/v1/namespaces/default/pods/logger/log');
    assert.equal(waiting.code, 400);
    assert.equal(waiting.json().message, 'container "main" in pod "logger" is waiting to start: ContainerCreating');
    const dir = join(logRoot, `default_logger_${pod.metadata.uid}`, 'main');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), 'first run\n');
    writeFileSync(join(dir, '1.log'), 'line 1\nline 2\nline 3\n');
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/pods/logger/log')).text, 'line 1\nline 2\nline 3\n');
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/pods/logger/log?tailLines=1')).text, 'line 3\n');
    assert.equal((await c.request('GET', '/api/v1/namespaces/default/pods/logger/log?previous=true')).text, 'first run\n');
    assert.match((await c.k(['logs', 'logger', '--tail=2'])), /^line 2\nline 3\n$/);
    // follow: bytes appended later arrive; the stream ends once the container has terminated.
    const followed = c.k(['logs', '-f', 'logger']);
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(join(dir, '1.log'), 'line 4\n');
    await c.request('PATCH', '/api/v1/namespaces/default/pods/logger/status', {
      body: { status: { phase: 'Succeeded', containerStatuses: [{ name: 'main', ready: false, restartCount: 1, image: 'x', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(await followed, 'line 1\nline 2\nline 3\nline 4\n');
    assert.match(await c.k(['get', 'pod', 'logger']), /logger\s+0\/1\s+Completed\s+1\s+\d+s/);
  });

  test('a CRD with two served versions stores one and serves both (conversion None)', async () => {
    const schema = (extra: Record<string, unknown>) => ({ openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' }, ...extra } } } } });
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.example.test' },
      spec: {
        group: 'example.test',
        scope: 'Cluster',
        names: { kind: 'Thing', plural: 'things' },
        versions: [
          { name: 'v1beta1', served: true, storage: false, schema: schema({}) },
          { name: 'v1', served: true, storage: true, schema: schema({ b: { type: 'integer', default: 7 } }) },
        ],
      },
    };
    assert.equal((await c.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd })).code, 201);
    await eventually(async () => (await c.request('GET', '/apis/example.test/v1beta1/things')).code === 200, 20_000, 'v1beta1 served');
    assert.equal((await c.request('POST', '/apis/example.test/v1beta1/things', { body: { apiVersion: 'example.test/v1beta1', kind: 'Thing', metadata: { name: 't1' }, spec: { a: 'x' } } })).code, 201);
    const v1 = (await c.request('GET', '/apis/example.test/v1/things/t1')).json();
    assert.equal(v1.apiVersion, 'example.test/v1');
    assert.deepEqual(v1.spec, { a: 'x', b: 7 }, 'read-time defaults of the version read');
    const group = (await c.request('GET', '/apis/example.test')).json();
    assert.deepEqual(group.preferredVersion, { groupVersion: 'example.test/v1', version: 'v1' });
    const names = (await c.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.example.test')).json().status.storedVersions;
    assert.deepEqual(names, ['v1']);
  });

  test('deleting a CRD deletes its custom resources and stops serving them', async () => {
    await c.request('POST', '/apis/example.test/v1/namespaces/default/widgets', { body: { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'last' }, spec: { size: 1 } } });
    const del = await c.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.test');
    assert.equal(del.code, 200);
    await eventually(async () => (await c.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.test')).code === 404, 20_000, 'CRD removed');
    const gone = await c.request('GET', '/apis/example.test/v1/namespaces/default/widgets');
    assert.equal(gone.code, 404);
    assert.equal(gone.json().message, 'the server could not find the requested resource');
    const resources = (await c.request('GET', '/apis/example.test/v1')).json().resources.map((r: { name: string }) => r.name);
    assert.deepEqual(resources, ['things'], 'discovery no longer lists widgets');
  });

  test('anonymous requests get 401 except health and version', async () => {
    const anon = await c.request('GET', '/api/v1/namespaces', { token: null });
    assert.equal(anon.code, 401);
    assert.deepEqual(anon.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    assert.equal((await c.request('GET', '/readyz', { token: null })).text, 'ok');
    assert.equal((await c.request('GET', '/version', { token: null })).json().gitVersion, 'v1.32.3');
    assert.equal((await c.request('GET', '/api/v1/namespaces', { token: 'wrong' })).code, 401);
  });
});
