// /openapi/v3: one document per group-version, built from the registry.
//
// What clients use it for, and what that requires here:
// - kubectl decides whether the server validates fields itself (it then sends fieldValidation=Strict
//   instead of validating client-side) by finding a PATCH operation tagged with the kind's
//   x-kubernetes-group-version-kind that declares a `fieldValidation` query parameter.
// - kubectl apply computes strategic merge patches from the OpenAPI schema only when the PATCH
//   operation lists the strategic-merge media type; built-in PATCH operations here leave it out, so
//   kubectl uses its compiled-in Go types (which carry the real merge keys) instead of these thin schemas.
// - kubectl explain reads component schemas: custom resources get their CRD schema verbatim.
import { createHash } from 'node:crypto';
import { groupVersion, type Registry, type ResourceType } from './registry.js';
import { SERVER_VERSION } from './discovery.js';
import { isObject, type JsonObject } from './types.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const objectMetaSchema: JsonObject = {
  description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name must be unique within a namespace.' },
    generateName: { type: 'string', description: 'GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.' },
    namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
    uid: { type: 'string', description: 'UID is the unique in time and space value for this object.' },
    resourceVersion: { type: 'string', description: 'An opaque value that represents the internal version of this object.' },
    generation: { type: 'integer', format: 'int64', description: 'A sequence number representing a specific generation of the desired state.' },
    creationTimestamp: { type: 'string', format: 'date-time', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' },
    deletionTimestamp: { type: 'string', format: 'date-time', description: 'DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted.' },
    deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
    labels: { type: 'object', additionalProperties: { type: 'string', default: '' }, description: 'Map of string keys and values that can be used to organize and categorize objects.' },
    annotations: { type: 'object', additionalProperties: { type: 'string', default: '' }, description: 'Annotations is an unstructured key value map stored with a resource.' },
    finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    ownerReferences: {
      type: 'array',
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, uid: { type: 'string' }, controller: { type: 'boolean' }, blockOwnerDeletion: { type: 'boolean' } },
      },
      'x-kubernetes-patch-merge-key': 'uid',
      'x-kubernetes-patch-strategy': 'merge',
    },
    managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  },
};

const listMetaSchema: JsonObject = {
  type: 'object',
  properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' }, remainingItemCount: { type: 'integer', format: 'int64' } },
};

/** `lake.sparkify.io` → `io.sparkify.lake`; built-ins use the Go package path (`io.k8s.api.batch.v1`). */
export function schemaPrefix(rt: ResourceType): string {
  if (rt.crd) return `${rt.group.split('.').reverse().join('.')}.${rt.version}`;
  const group = rt.group ? rt.group.replace(/\.k8s\.io$/, '').replace(/\.authorization$/, '') : 'core';
  const pkg = rt.group === 'apiextensions.k8s.io' ? 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions' : `io.k8s.api.${group}`;
  return `${pkg}.${rt.version}`;
}

function kindSchema(rt: ResourceType): JsonObject {
  const gvk = [{ group: rt.group, version: rt.version, kind: rt.kind }];
  const base: JsonObject = rt.crd?.openAPIV3Schema ? structuredClone(rt.crd.openAPIV3Schema) : { type: 'object', description: `${rt.kind} (devcluster serves it without a detailed schema)` };
  const props = isObject(base.properties) ? (base.properties as JsonObject) : {};
  base.type = 'object';
  base.properties = {
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
    ...props,
    metadata: { allOf: [{ $ref: `#/components/schemas/${META}.ObjectMeta` }], default: {}, description: 'Standard object\'s metadata.' },
  };
  if (!rt.crd) {
    base.properties = { ...(base.properties as JsonObject), spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
    base['x-kubernetes-preserve-unknown-fields'] = true;
  }
  base['x-kubernetes-group-version-kind'] = gvk;
  return base;
}

const param = (name: string, description: string, inWhere = 'query', required = false): JsonObject => ({ name, in: inWhere, description, required, schema: { type: 'string', uniqueItems: true } });

const writeParams = [
  param('dryRun', 'When present, indicates that modifications should not be persisted.'),
  param('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  param('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.'),
];

function operations(rt: ResourceType, schemaRef: string): Record<string, JsonObject> {
  const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
  const ref = { $ref: `#/components/schemas/${schemaRef}` };
  const listRef = { $ref: `#/components/schemas/${schemaRef}List` };
  const json = (schema: JsonObject) => ({ 'application/json': { schema }, 'application/yaml': { schema } });
  const op = (action: string, opId: string, extra: JsonObject = {}): JsonObject => ({
    operationId: `${opId}${rt.kind}`,
    responses: { '200': { description: 'OK', content: json(action === 'list' || action === 'deletecollection' ? listRef : ref) } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const prefix = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  const ns = rt.namespaced ? '/namespaces/{namespace}' : '';
  const common = [param('pretty', "If 'true', then the output is pretty printed.")];
  if (rt.namespaced) common.push(param('namespace', 'object name and auth scope, such as for teams and projects', 'path', true));
  const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  const paths: Record<string, JsonObject> = {};
  if (rt.virtual) {
    paths[`${prefix}${ns}/${rt.plural}`] = { post: op('post', 'create', { parameters: writeParams, requestBody: { content: json(ref) } }), parameters: common };
    return paths;
  }
  paths[`${prefix}${ns}/${rt.plural}`] = {
    get: op('list', 'list', { parameters: ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch', 'timeoutSeconds', 'allowWatchBookmarks'].map((n) => param(n, n)) }),
    post: op('post', 'create', { parameters: writeParams, requestBody: { content: json(ref) } }),
    delete: op('deletecollection', 'deleteCollection'),
    parameters: common,
  };
  const named = [...common, param('name', `name of the ${rt.kind}`, 'path', true)];
  const item = (sub: string) => ({
    get: op('get', `read${sub}`),
    put: op('put', `replace${sub}`, { parameters: writeParams, requestBody: { content: json(ref) } }),
    patch: op('patch', `patch${sub}`, {
      parameters: [...writeParams, param('force', 'Force is going to "force" Apply requests.')],
      requestBody: { content: Object.fromEntries(patchTypes.map((t) => [t, { schema: { type: 'object' } }])) },
    }),
    parameters: named,
  });
  paths[`${prefix}${ns}/${rt.plural}/{name}`] = { ...item(''), delete: op('delete', 'delete') };
  if (rt.hasStatus) paths[`${prefix}${ns}/${rt.plural}/{name}/status`] = item('Status');
  return paths;
}

export interface OpenApiV3 {
  root(): object;
  /** The document of `api/v1` or `apis/<group>/<version>`, or undefined. */
  doc(path: string): string | undefined;
}

export function openApiV3(registry: Registry): OpenApiV3 {
  let cachedGen = -1;
  let docs = new Map<string, { json: string; hash: string }>();
  const build = () => {
    if (cachedGen === registry.generation) return;
    cachedGen = registry.generation;
    docs = new Map();
    const byGv = new Map<string, ResourceType[]>();
    for (const rt of registry.all()) {
      const key = rt.group ? `apis/${rt.group}/${rt.version}` : `api/${rt.version}`;
      if (!byGv.has(key)) byGv.set(key, []);
      byGv.get(key)!.push(rt);
    }
    for (const [key, types] of byGv) {
      const paths: Record<string, JsonObject> = {};
      const schemas: Record<string, JsonObject> = { [`${META}.ObjectMeta`]: objectMetaSchema, [`${META}.ListMeta`]: listMetaSchema };
      for (const rt of types.sort((a, b) => (a.plural < b.plural ? -1 : 1))) {
        const name = `${schemaPrefix(rt)}.${rt.kind}`;
        Object.assign(paths, operations(rt, name));
        schemas[name] = kindSchema(rt);
        schemas[`${name}List`] = {
          type: 'object',
          required: ['items'],
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            items: { type: 'array', items: { allOf: [{ $ref: `#/components/schemas/${name}` }], default: {} } },
            metadata: { allOf: [{ $ref: `#/components/schemas/${META}.ListMeta` }], default: {} },
          },
          'x-kubernetes-group-version-kind': [{ group: rt.group, version: rt.version, kind: rt.listKind }],
        };
      }
      const json = JSON.stringify({ openapi: '3.0.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths, components: { schemas } });
      docs.set(key, { json, hash: createHash('sha512').update(json).digest('hex').toUpperCase() });
    }
  };
  return {
    root() {
      build();
      const paths: Record<string, object> = {};
      for (const [key, d] of [...docs.entries()].sort()) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${d.hash}` };
      return { paths };
    },
    doc(path: string) {
      build();
      return docs.get(path)?.json;
    },
  };
}

export { groupVersion };
