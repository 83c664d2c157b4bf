// Table-driven tests of the API server's pure parts: selectors, JSONPath, structural schemas and their
// messages, patches, strategic merge, request parsing, RBAC rules, durations, the hand-made certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { fieldErrorString, invalidObject } from '../../../devcluster/src/api/errors.js';
import { jsonPathValues } from '../../../devcluster/src/api/jsonpath.js';
import { jsonPatch, mergePatch } from '../../../devcluster/src/api/patch.js';
import { ruleAllows, type Attributes } from '../../../devcluster/src/api/rbac.js';
import { compareKubeVersions } from '../../../devcluster/src/api/registry.js';
import { parseRequestInfo } from '../../../devcluster/src/api/requestInfo.js';
import { applyDefaults, prune, validate, type StructuralSchema } from '../../../devcluster/src/api/schema.js';
import { fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from '../../../devcluster/src/api/selectors.js';
import { strategicMergePatch } from '../../../devcluster/src/api/strategicMerge.js';
import { humanDuration } from '../../../devcluster/src/api/table.js';
import { makeServingCertificates } from '../../../devcluster/src/api/tls.js';
import { WatchHub } from '../../../devcluster/src/api/watchHub.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web,api)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['missing!=x', true],
    ['app=web,tier in (back)', false],
    ['n>3', true],
    ['n<3', false],
    ['app in (web, api),!missing', true],
  ];
  for (const [sel, want] of cases) test(JSON.stringify(sel), () => assert.equal(labelsMatch(parseLabelSelector(sel), labels), want));
  test('bad syntax is a 400 with the apiserver wording', () => {
    assert.throws(() => parseLabelSelector('a b'), (e: Error) => /unable to parse requirement/.test(e.message));
  });
});

describe('field selectors', () => {
  const fields = { 'metadata.name': 'a,b', 'status.phase': 'Running' };
  const cases: [string, boolean][] = [
    ['metadata.name=a\\,b', true],
    ['status.phase=Running,metadata.name!=x', true],
    ['status.phase==Pending', false],
    ['spec.nodeName=', true],
  ];
  for (const [sel, want] of cases) test(sel, () => assert.equal(fieldsMatch(parseFieldSelector(sel), fields), want));
});

describe('JSONPath', () => {
  const obj = {
    metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'lake' } },
    spec: { items: [{ n: 1 }, { n: 2 }, { n: 3 }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Failed', status: 'False', message: 'boom' }] },
  };
  const cases: [string, unknown[]][] = [
    ['.metadata.name', ['x']],
    ['{.metadata.name}', ['x']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['lake']],
    ["['metadata']['name']", ['x']],
    ['.spec.items[1].n', [2]],
    ['.spec.items[-1].n', [3]],
    ['.spec.items[0:2].n', [1, 2]],
    ['.spec.items[*].n', [1, 2, 3]],
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    ['.status.conditions[?(@.status!="True")].message', ['boom']],
    ['.spec.items[?(@.n>1)].n', [2, 3]],
    ['..message', ['boom']],
    ['.status.missing', []],
  ];
  for (const [expr, want] of cases) test(expr, () => assert.deepEqual(jsonPathValues(expr, obj), want));
});

describe('structural schemas: messages as apiextensions words them', () => {
  const schema: StructuralSchema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        required: ['output'],
        properties: {
          output: { type: 'string', minLength: 3 },
          mode: { type: 'string', enum: ['a', 'b'] },
          shards: { type: 'integer', minimum: 1, maximum: 10 },
          ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
          when: { type: 'string', format: 'date-time' },
          size: { 'x-kubernetes-int-or-string': true, pattern: '^\\d+Mi$' },
          list: { type: 'array', minItems: 1, items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
          maybe: { type: 'string', nullable: true },
        },
      },
    },
  };
  const cases: [string, unknown, string[]][] = [
    ['valid', { output: 's3://x', shards: 3, size: 5, maybe: null }, []],
    ['required', {}, ['spec.output: Required value']],
    ['enum', { output: 'abc', mode: 'x' }, ['spec.mode: Unsupported value: "x": supported values: "a", "b"']],
    ['minimum', { output: 'abc', shards: 0 }, ['spec.shards: Invalid value: 0: spec.shards in body should be greater than or equal to 1']],
    ['maximum', { output: 'abc', shards: 11 }, ['spec.shards: Invalid value: 11: spec.shards in body should be less than or equal to 10']],
    ['exclusive', { output: 'abc', ratio: 0 }, ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']],
    ['type', { output: 'abc', shards: '3' }, ['spec.shards: Invalid value: "string": spec.shards in body must be of type integer: "string"']],
    ['integer vs number', { output: 'abc', shards: 1.5 }, ['spec.shards: Invalid value: "number": spec.shards in body must be of type integer: "number"']],
    ['null', { output: null }, ['spec.output: Invalid value: "null": spec.output in body must be of type string: "null"']],
    ['minLength', { output: 'ab' }, ['spec.output: Invalid value: "ab": spec.output in body should be at least 3 chars long']],
    ['format', { output: 'abc', when: 'yesterday' }, ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']],
    ['int-or-string pattern', { output: 'abc', size: '5Gi' }, ["spec.size: Invalid value: \"5Gi\": spec.size in body should match '^\\d+Mi$'"]],
    ['int-or-string type', { output: 'abc', size: true }, ['spec.size: Invalid value: "boolean": spec.size in body must be of type integer,string: "boolean"']],
    ['minItems', { output: 'abc', list: [] }, ['spec.list: Invalid value: []interface {}{}: spec.list in body should have at least 1 items']],
    ['nested required', { output: 'abc', list: [{ name: 'a' }, {}] }, ['spec.list[1].name: Required value']],
  ];
  for (const [name, spec, want] of cases) test(name, () => assert.deepEqual(validate({ spec }, schema).map(fieldErrorString), want));

  test('an Invalid Status aggregates causes as apierrors.NewInvalid does', () => {
    const errs = validate({ spec: { shards: 0 } }, schema);
    const e = invalidObject({ group: 'lake.sparkify.io', kind: 'SparkifyLakeJob' }, 'x', errs);
    assert.equal(e.status.message, 'SparkifyLakeJob.lake.sparkify.io "x" is invalid: [spec.output: Required value, spec.shards: Invalid value: 0: spec.shards in body should be greater than or equal to 1]');
    assert.deepEqual(e.status.details?.causes?.[0], { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.output' });
    assert.equal(e.code, 422);
  });

  test('pruning drops undeclared fields (not apiVersion/kind/metadata) and reports their paths', () => {
    const s: StructuralSchema = {
      type: 'object',
      properties: {
        spec: { type: 'object', properties: { a: { type: 'string' }, free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, m: { type: 'object', additionalProperties: { type: 'object', properties: { k: { type: 'string' } } } } } },
        metadata: { type: 'object' },
      },
    };
    const o = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'n', labels: { a: 'b' } }, spec: { a: 'x', b: 1, free: { any: { deep: 1 } }, m: { one: { k: 'v', z: 1 } } }, status: { s: 1 } };
    assert.deepEqual(prune(o, s), ['spec.b', 'spec.m.one.z', 'status']);
    assert.deepEqual(o, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'n', labels: { a: 'b' } }, spec: { a: 'x', free: { any: { deep: 1 } }, m: { one: { k: 'v' } } } });
  });

  test('defaults fill absent and non-nullable null fields, deeply', () => {
    const s: StructuralSchema = {
      type: 'object',
      properties: { spec: { type: 'object', default: {}, properties: { sharding: { type: 'object', default: {}, properties: { max: { type: 'integer', default: 200 }, n: { type: 'integer', nullable: true, default: 1 } } } } } },
    };
    const a: Record<string, unknown> = {};
    applyDefaults(a, s);
    assert.deepEqual(a, { spec: { sharding: { max: 200, n: 1 } } });
    const b = { spec: { sharding: { max: null, n: null } } };
    applyDefaults(b, s);
    assert.deepEqual(b, { spec: { sharding: { max: 200, n: null } } });
  });
});

describe('patches', () => {
  test('JSON merge patch (RFC 7386)', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3], f: 'x' }), { a: 1, b: { d: 3, e: 4 }, l: [3], f: 'x' });
  });
  test('JSON patch (RFC 6902) and its errors', () => {
    const doc = { metadata: { finalizers: ['a', 'b'] }, spec: { n: 1 } };
    assert.deepEqual(
      jsonPatch(doc, [
        { op: 'test', path: '/spec/n', value: 1 },
        { op: 'add', path: '/metadata/finalizers/-', value: 'c' },
        { op: 'remove', path: '/metadata/finalizers/0' },
        { op: 'replace', path: '/spec/n', value: 2 },
        { op: 'copy', from: '/spec/n', path: '/spec/m' },
        { op: 'move', from: '/spec/m', path: '/spec/k~1x' },
      ]),
      { metadata: { finalizers: ['b', 'c'] }, spec: { n: 2, 'k/x': 2 } },
    );
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/spec/n', value: 9 }]), /testing value \/spec\/n failed/);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/spec/zz' }]), /doc is missing path/);
  });
  test('strategic merge patch: keyed lists, primitive sets, directives', () => {
    const deployment = {
      metadata: { finalizers: ['a'], ownerReferences: [{ uid: '1', name: 'x' }] },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'web', image: 'v1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] },
              { name: 'side', image: 's' },
            ],
            tolerations: [{ key: 'a' }],
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      },
    };
    const patch = {
      metadata: { finalizers: ['b'], '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'web', image: 'v2', env: [{ name: 'B', $patch: 'delete' }, { name: 'C', value: '3' }], ports: [{ containerPort: 80, protocol: 'TCP' }] }, { name: 'side', $patch: 'delete' }, { name: 'new', image: 'n' }],
            '$setElementOrder/containers': [{ name: 'new' }, { name: 'web' }],
            tolerations: [{ key: 'b' }],
          },
        },
        strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null },
      },
    };
    assert.deepEqual(strategicMergePatch(deployment, patch), {
      metadata: { finalizers: ['b'], ownerReferences: [{ uid: '1', name: 'x' }] },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'new', image: 'n' },
              { name: 'web', image: 'v2', env: [{ name: 'A', value: '1' }, { name: 'C', value: '3' }], ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }] },
            ],
            tolerations: [{ key: 'b' }],
          },
        },
        strategy: { type: 'Recreate' },
      },
    });
  });
  test('service ports merge by port, conditions by type', () => {
    assert.deepEqual(strategicMergePatch({ spec: { ports: [{ port: 80, targetPort: 8080 }] } }, { spec: { ports: [{ port: 80, name: 'http' }, { port: 443 }] } }), { spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443 }] } });
    assert.deepEqual(strategicMergePatch({ status: { conditions: [{ type: 'A', status: 'False' }] } }, { status: { conditions: [{ type: 'A', status: 'True' }] } }), { status: { conditions: [{ type: 'A', status: 'True' }] } });
  });
});

describe('request attributes', () => {
  const cases: [string, string, string][] = [
    ['GET', '/api/v1/namespaces/ns/pods', 'list  pods ns'],
    ['GET', '/api/v1/namespaces/ns/pods?watch=true', 'watch  pods ns'],
    ['GET', '/api/v1/namespaces/ns/pods/p/log', 'get  pods ns p log'],
    ['DELETE', '/apis/batch/v1/namespaces/ns/jobs', 'deletecollection batch jobs ns'],
    ['PATCH', '/apis/lake.sparkify.io/v1alpha1/namespaces/ns/sparkifylakejobs/x/status', 'patch lake.sparkify.io sparkifylakejobs ns x status'],
    ['GET', '/api/v1/namespaces/ns', 'get  namespaces ns ns'],
    ['PUT', '/api/v1/namespaces/ns/finalize', 'update  namespaces ns ns finalize'],
    ['POST', '/api/v1/namespaces', 'create  namespaces'],
    ['GET', '/apis/apps/v1', 'get (non-resource /apis/apps/v1)'],
  ];
  for (const [method, path, want] of cases) {
    test(`${method} ${path}`, () => {
      const i = parseRequestInfo(method, new URL(path, 'http://x'));
      const got = i.isResourceRequest ? [i.verb, i.group, i.resource, i.namespace, i.name, i.subresource].join(' ').trim() : `${i.verb} (non-resource ${i.path})`;
      assert.equal(got.replace(/\s+$/, ''), want.replace(/\s+$/, ''));
    });
  }
});

describe('RBAC rules', () => {
  const a = (over: Partial<Attributes>): Attributes => ({ user: { username: 'u', groups: [] }, verb: 'get', isResourceRequest: true, path: '', apiGroup: 'batch', resource: 'jobs', subresource: '', namespace: 'ns', name: 'j', ...over });
  const cases: [string, object, Partial<Attributes>, boolean][] = [
    ['exact', { verbs: ['get'], apiGroups: ['batch'], resources: ['jobs'] }, {}, true],
    ['wrong group', { verbs: ['get'], apiGroups: [''], resources: ['jobs'] }, {}, false],
    ['verb star', { verbs: ['*'], apiGroups: ['batch'], resources: ['jobs'] }, { verb: 'delete' }, true],
    ['subresource needs its own rule', { verbs: ['*'], apiGroups: ['batch'], resources: ['jobs'] }, { subresource: 'status' }, false],
    ['resource/subresource', { verbs: ['update'], apiGroups: ['batch'], resources: ['jobs/status'] }, { verb: 'update', subresource: 'status' }, true],
    ['*/subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/status'] }, { subresource: 'status' }, true],
    ['resourceNames match', { verbs: ['get'], apiGroups: ['batch'], resources: ['jobs'], resourceNames: ['j'] }, {}, true],
    ['resourceNames exclude', { verbs: ['get'], apiGroups: ['batch'], resources: ['jobs'], resourceNames: ['k'] }, {}, false],
    ['resourceNames never match list', { verbs: ['list'], apiGroups: ['batch'], resources: ['jobs'], resourceNames: ['j'] }, { verb: 'list', name: '' }, false],
    ['nonResourceURL prefix', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { isResourceRequest: false, path: '/apis/batch/v1' }, true],
    ['nonResourceURL exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, { isResourceRequest: false, path: '/healthz/etcd' }, false],
  ];
  for (const [name, rule, attrs, want] of cases) test(name, () => assert.equal(ruleAllows(rule, a(attrs)), want));
});

describe('small things', () => {
  const durations: [number, string][] = [
    [0, '0s'],
    [59_000, '59s'],
    [119_000, '119s'],
    [150_000, '2m30s'],
    [600_000, '10m'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [30 * 3600_000, '30h'],
    [3 * 86400_000 + 2 * 3600_000, '3d2h'],
    [400 * 86400_000, '400d'],
  ];
  for (const [ms, want] of durations) test(`humanDuration ${want}`, () => assert.equal(humanDuration(ms), want));

  test('kube version priority', () => {
    assert.deepEqual(['v1alpha1', 'v2', 'v1beta1', 'v1', 'v1beta2', 'foo'].sort(compareKubeVersions), ['v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
  });

  test('the hand-made certificate chain verifies, with IP and DNS SANs', () => {
    const c = makeServingCertificates(['127.0.0.1', '::1', 'localhost']);
    const ca = new X509Certificate(c.caPem);
    const leaf = new X509Certificate(c.certPem);
    assert.ok(ca.ca);
    assert.ok(leaf.verify(ca.publicKey));
    assert.ok(leaf.checkIssued(ca));
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.match(leaf.subjectAltName ?? '', /IP Address:0:0:0:0:0:0:0:1/);
  });

  test('watch history: replay after a revision, 410 once it is gone', () => {
    const hub = new WatchHub(3);
    const ev = (rv: number, key = 'k') => ({ type: 'ADDED' as const, rv, storageKey: key, object: { metadata: { name: String(rv) } } });
    for (const rv of [1, 2, 3, 4, 5]) hub.publish(ev(rv, rv === 4 ? 'other' : 'k'));
    assert.deepEqual(hub.since('k', 2)?.map((e) => e.rv), [3, 5]);
    assert.equal(hub.since('k', 1), undefined, 'event 2 was dropped: a watch from 1 would miss it');
    assert.equal(hub.oldestWatchableRv, 2);
  });
});
