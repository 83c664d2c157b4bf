// Resource requests: route a parsed request to the generic registry (objects.ts), a subresource, a
// review, or a watch, and write the response in the representation the client negotiated.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CrdController } from './crds.js';
import { deleteObject, parseDeleteOptions } from './deletion.js';
import { ApiError, badRequest, conflict, invalid, invalidObject, methodNotSupported, status } from './errors.js';
import type { Faults } from './faults.js';
import { decodeBody, mediaType, negotiate, PROTOBUF, readBody, sendJson, warningHeaders, type Negotiated } from './http.js';
import { listObjects } from './list.js';
import { patchContentTypes, type FieldValidation, type Objects, type WriteOptions } from './objects.js';
import { servePodLog, type PodLogDeps } from './podLogs.js';
import { groupVersion, type ResourceType } from './registry.js';
import type { RequestInfo } from './requestInfo.js';
import { review, tokenRequest, type ReviewDeps } from './reviews.js';
import { toScale, withReplicas } from './scale.js';
import { toTable, type IncludeObject } from './table.js';
import { isObject, type ApiUser, type KObject } from './types.js';
import { serveWatch, type WatchDeps } from './watch.js';

export interface HandlerDeps {
  objects: Objects;
  crds: CrdController;
  faults: Faults;
  watch: WatchDeps;
  reviews: ReviewDeps;
  podLogs: PodLogDeps;
}

const JSON_TYPES = ['application/json', 'application/yaml'];
const BODY_TYPES = [...JSON_TYPES, PROTOBUF];

export const pathNotFound = () => new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });

function writeOptions(q: URLSearchParams, subresource?: string): WriteOptions {
  const fv = q.get('fieldValidation');
  if (fv !== null && !['Strict', 'Warn', 'Ignore'].includes(fv)) throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  const dryRun = q.getAll('dryRun');
  if (dryRun.some((v) => v !== 'All')) throw badRequest(`dryRun: Unsupported value: "${dryRun.find((v) => v !== 'All')}": supported values: "All"`);
  return {
    dryRun: dryRun.includes('All'),
    fieldManager: q.get('fieldManager') ?? undefined,
    fieldValidation: (fv as FieldValidation | null) ?? undefined,
    warnings: [],
    subresource,
    force: q.get('force') === 'true',
  };
}

function respondObject(res: ServerResponse, code: number, rt: ResourceType, o: KObject | object, neg: Negotiated, q: URLSearchParams, now: Date, headers: Record<string, string> = {}): void {
  if (neg.as === 'Table' && isObject(o) && (o as KObject).metadata && (o as KObject).kind === rt.kind) {
    sendJson(res, code, toTable(rt, [o as KObject], { now, includeObject: (q.get('includeObject') as IncludeObject) ?? 'Metadata' }), headers, 'application/json;as=Table;v=v1;g=meta.k8s.io');
  } else if (neg.as === 'PartialObjectMetadata' && isObject(o) && (o as KObject).metadata) {
    sendJson(res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: (o as KObject).metadata }, headers);
  } else sendJson(res, code, o, headers);
}

async function body(req: IncomingMessage, accepted = BODY_TYPES): Promise<unknown> {
  return decodeBody(await readBody(req), mediaType(req), accepted);
}

export async function handleResource(d: HandlerDeps, req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL, user: ApiUser): Promise<void> {
  const registry = d.objects.registry;
  const rt = registry.lookup(info.group, info.version, info.resource);
  if (!rt || info.extra.length > 0) throw pathNotFound();
  if (!rt.namespaced && info.namespace && rt.storageKey !== '/namespaces') throw pathNotFound();
  const q = url.searchParams;
  const ns = rt.namespaced ? info.namespace || undefined : undefined;
  const neg = negotiate(req.headers.accept);
  const now = d.objects.now();
  if (rt.namespaced && !ns && !['list', 'watch'].includes(info.verb)) throw pathNotFound();
  if (!rt.verbs.includes(info.verb) && !info.subresource) throw methodNotSupported({ group: rt.group, resource: rt.plural }, info.verb);

  if (info.subresource) return handleSubresource(d, req, res, rt, info, q, neg);

  if (rt.virtual) {
    const out = review(d.reviews, rt.kind, user, await body(req), info.namespace);
    return sendJson(res, 201, out);
  }

  switch (info.verb) {
    case 'get':
      return respondObject(res, 200, rt, d.objects.get(rt, ns, info.name), neg, q, now);
    case 'list': {
      const limit = q.get('limit');
      const result = listObjects(d.objects, rt, { namespace: ns, labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector'), limit: limit ? Number(limit) : undefined, continueToken: q.get('continue') });
      if (neg.as === 'Table') {
        const table = toTable(rt, result.items, { now, includeObject: (q.get('includeObject') as IncludeObject) ?? 'Metadata', resourceVersion: result.resourceVersion, continueToken: result.continueToken, remainingItemCount: result.remainingItemCount });
        return sendJson(res, 200, table, {}, 'application/json;as=Table;v=v1;g=meta.k8s.io');
      }
      const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
      if (result.continueToken) metadata.continue = result.continueToken;
      if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
      if (neg.as === 'PartialObjectMetadataList' || neg.as === 'PartialObjectMetadata') {
        return sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items: result.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })) });
      }
      return sendJson(res, 200, { kind: rt.listKind, apiVersion: groupVersion(rt), metadata, items: result.items });
    }
    case 'watch':
      return serveWatch(d.watch, rt, ns, q, req, res, neg);
    case 'create': {
      if (d.crds.isTerminating(rt)) throw methodNotSupported({ group: rt.group, resource: rt.plural }, 'create');
      const opts = writeOptions(q);
      const created = d.objects.create(rt, ns, await body(req), opts);
      return respondObject(res, 201, rt, created, neg, q, now, warningHeaders(opts.warnings!));
    }
    case 'update': {
      const opts = writeOptions(q);
      const updated = d.objects.update(rt, ns, info.name, await body(req), opts);
      return respondObject(res, 200, rt, updated, neg, q, now, warningHeaders(opts.warnings!));
    }
    case 'patch': {
      const { created, object, opts } = await patch(d, req, rt, ns, info.name, q);
      return respondObject(res, created ? 201 : 200, rt, object, neg, q, now, warningHeaders(opts.warnings!));
    }
    case 'delete': {
      const raw = await readBody(req);
      const opts = parseDeleteOptions(raw.length ? decodeBody(raw, mediaType(req), BODY_TYPES) : undefined, q);
      const result = deleteObject(d.objects, rt, ns, info.name, opts);
      return respondObject(res, 200, rt, result.body, neg, q, now);
    }
    case 'deletecollection': {
      const raw = await readBody(req);
      const opts = parseDeleteOptions(raw.length ? decodeBody(raw, mediaType(req), BODY_TYPES) : undefined, q);
      const { items } = listObjects(d.objects, rt, { namespace: ns, labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') });
      const deleted: unknown[] = [];
      for (const o of items) {
        try {
          deleted.push(deleteObject(d.objects, rt, o.metadata.namespace, o.metadata.name!, opts).body);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      return sendJson(res, 200, { kind: rt.listKind, apiVersion: groupVersion(rt), metadata: { resourceVersion: String(d.objects.store.resourceVersion) }, items: deleted });
    }
    default:
      throw methodNotSupported({ group: rt.group, resource: rt.plural }, info.verb);
  }
}

async function patch(d: HandlerDeps, req: IncomingMessage, rt: ResourceType, ns: string | undefined, name: string, q: URLSearchParams, subresource?: string) {
  const type = patchContentTypes[mediaType(req)];
  if (!type) throw new ApiError(status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${Object.keys(patchContentTypes).filter((t) => !t.endsWith('cbor')).join(', ')}`));
  const raw = await readBody(req);
  const patchBody = decodeBody(raw, type === 'apply' ? 'application/yaml' : 'application/json', JSON_TYPES);
  const opts = writeOptions(q, subresource);
  if (type === 'apply' && !opts.fieldManager) throw invalidObject({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [{ type: 'Required', field: 'fieldManager', detail: 'is required for apply patch' }]);
  if (type !== 'apply' && q.get('force') !== null) throw invalidObject({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [{ type: 'Forbidden', field: 'force', detail: 'may not be specified for non-apply patch' }]);
  const { object, created } = d.objects.patch(rt, ns, name, type, patchBody, opts);
  return { object, created, opts };
}

async function handleSubresource(d: HandlerDeps, req: IncomingMessage, res: ServerResponse, rt: ResourceType, info: RequestInfo, q: URLSearchParams, neg: Negotiated): Promise<void> {
  const sub = info.subresource;
  const verbs = rt.subresources[sub];
  if (!verbs) throw pathNotFound();
  if (!verbs.includes(info.verb)) throw methodNotSupported({ group: rt.group, resource: `${rt.plural}/${sub}` }, info.verb);
  const ns = rt.namespaced ? info.namespace : undefined;
  const now = d.objects.now();
  switch (sub) {
    case 'status': {
      if (info.verb === 'get') return respondObject(res, 200, rt, d.objects.get(rt, ns, info.name), neg, q, now);
      if (info.verb === 'update') {
        const opts = writeOptions(q, 'status');
        return respondObject(res, 200, rt, d.objects.update(rt, ns, info.name, await body(req), opts), neg, q, now, warningHeaders(opts.warnings!));
      }
      const { object, opts } = await patch(d, req, rt, ns, info.name, q, 'status');
      return respondObject(res, 200, rt, object, neg, q, now, warningHeaders(opts.warnings!));
    }
    case 'scale':
      return handleScale(d, req, res, rt, ns, info, q);
    case 'log':
      return servePodLog(d.podLogs, info.namespace, info.name, q, req, res);
    case 'token':
      return sendJson(res, 201, tokenRequest(d.reviews, info.namespace, info.name, await body(req)));
    case 'finalize': {
      const b = (await body(req)) as KObject;
      const stored = d.objects.getStored(rt, undefined, info.name);
      const current = d.objects.toExternal(rt, stored);
      if (current.metadata.resourceVersion && b?.metadata?.resourceVersion && b.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict({ group: '', resource: 'namespaces' }, info.name);
      const finalizers = (isObject(b?.spec) ? (b.spec.finalizers as string[] | undefined) : undefined) ?? [];
      const next = { ...current, spec: { ...(current.spec as object), finalizers } };
      return sendJson(res, 200, d.objects.toExternal(rt, d.objects.writeInternal(rt, next, stored)));
    }
    case 'binding': {
      const b = (await body(req)) as KObject & { target?: { name?: string } };
      const stored = d.objects.getStored(rt, ns, info.name);
      const pod = d.objects.toExternal(rt, stored);
      const target = b?.target?.name;
      if (!target) throw invalidObject({ group: '', kind: 'Binding' }, info.name, [invalid('target.name', '', 'must be set')]);
      const current = (pod.spec as { nodeName?: string }).nodeName;
      if (current) throw conflict({ group: '', resource: 'pods/binding' }, info.name, `pod ${info.name} is already assigned to node "${current}"`);
      d.objects.writeInternal(rt, { ...pod, spec: { ...(pod.spec as object), nodeName: target } }, stored);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    case 'eviction': {
      const eviction = await body(req);
      deleteObject(d.objects, rt, ns, info.name, parseDeleteOptions(isObject(eviction) ? eviction.deleteOptions : undefined, new URLSearchParams()));
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    default:
      throw pathNotFound();
  }
}

async function handleScale(d: HandlerDeps, req: IncomingMessage, res: ServerResponse, rt: ResourceType, ns: string | undefined, info: RequestInfo, q: URLSearchParams): Promise<void> {
  const stored = d.objects.getStored(rt, ns, info.name);
  const current = d.objects.toExternal(rt, stored);
  const scale = toScale(rt, current);
  if (info.verb === 'get') return sendJson(res, 200, scale);
  let next: KObject;
  if (info.verb === 'update') next = (await body(req)) as KObject;
  else {
    const { mergePatch, jsonPatch } = await import('./patch.js');
    const type = patchContentTypes[mediaType(req)];
    const p = decodeBody(await readBody(req), 'application/json', JSON_TYPES);
    next = (type === 'json' ? jsonPatch(scale, p) : mergePatch(scale, p)) as KObject;
  }
  const rv = next?.metadata?.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) throw conflict({ group: rt.group, resource: rt.plural }, info.name);
  const replicas = Number((next?.spec as { replicas?: unknown } | undefined)?.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw invalidObject({ group: 'autoscaling', kind: 'Scale' }, info.name, [invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
  const updated = d.objects.commitUpdate(rt, stored, withReplicas(rt, current, replicas), writeOptions(q));
  return sendJson(res, 200, toScale(rt, updated));
}
