// The generic registry: create, read, update and patch of any resource type, with the rules every
// Kubernetes resource shares — metadata ownership, resourceVersion preconditions, generation,
// status subresources, CRD schemas (prune → default → validate), strategies, dry run.
// HTTP handlers and the server's own controllers both go through here; neither touches the store.
import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  badRequest,
  conflict,
  fieldForbidden,
  internalError,
  invalid,
  invalidObject,
  namespaceTerminating,
  notFound,
  unsupportedMediaType,
  type FieldError,
} from './errors.js';
import { applyPatch, type ApplyOptions } from './apply.js';
import { generatedName, nameRuleFor, validateObjectMeta } from './names.js';
import { jsonPatch, mergePatch } from './patch.js';
import { groupVersion, type Registry, type ResourceType, type StrategyContext } from './registry.js';
import { applyDefaults, hasDefaults, prune, validate } from './schema.js';
import type { Store } from './store.js';
import { strategicMergePatch } from './strategicMerge.js';
import { clone, isObject, jsonEqual, type KObject, type ObjectMeta } from './types.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  /** Collected `Warning:` header texts. */
  warnings?: string[];
  subresource?: string;
  force?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const patchContentTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface ObjectsDeps {
  registry: Registry;
  store: Store;
  clock: () => Date;
  strategyContext: StrategyContext;
}

export class Objects {
  constructor(private readonly d: ObjectsDeps) {}

  get registry(): Registry {
    return this.d.registry;
  }

  get store(): Store {
    return this.d.store;
  }

  now(): Date {
    return this.d.clock();
  }

  // ---- representation ----

  /** The stored object as readers of `rt` see it (apiVersion/kind of the served version, read-time defaults). */
  toExternal(rt: ResourceType, stored: KObject): KObject {
    if (rt.representation) return rt.representation.toExternal(stored);
    const out: KObject = { apiVersion: groupVersion(rt), kind: rt.kind, ...stripTypeMeta(stored) };
    if (rt.crd?.schema && hasDefaults(rt.crd.schema)) {
      const copy = clone(out);
      applyDefaults(copy, rt.crd.schema);
      return copy;
    }
    return out;
  }

  private toInternal(rt: ResourceType, ext: KObject): KObject {
    if (rt.representation) return rt.representation.toInternal(ext);
    const apiVersion = rt.crd ? (rt.group ? `${rt.group}/${rt.crd.storageVersion}` : rt.crd.storageVersion) : groupVersion(rt);
    return { apiVersion, kind: rt.kind, ...stripTypeMeta(ext) };
  }

  // ---- reads ----

  getStored(rt: ResourceType, namespace: string | undefined, name: string): KObject {
    const o = this.d.store.get(rt.storageKey, rt.namespaced ? namespace : undefined, name);
    if (!o) throw notFound({ group: rt.group, resource: rt.plural }, name);
    return o;
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KObject {
    return this.toExternal(rt, this.getStored(rt, namespace, name));
  }

  // ---- writes ----

  create(rt: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): KObject {
    const obj = this.decode(rt, body);
    const m = obj.metadata;
    if (rt.namespaced) {
      if (m.namespace && namespace && m.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = namespace || m.namespace;
      if (!m.namespace) throw badRequest('the server could not find the requested resource');
      this.checkNamespaceAcceptsCreate(m.namespace);
    } else delete m.namespace;
    if (m.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    if (!m.name && m.generateName) m.name = generatedName(m.generateName);
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(this.now());
    if (rt.generation) m.generation = 1;
    else delete m.generation;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (rt.hasStatus && rt.crd) delete obj.status;
    rt.strategy?.prepareForCreate?.(obj, this.d.strategyContext);
    const errs = this.validate(rt, obj, undefined, opts);
    if (errs.length) throw invalidObject({ group: rt.group, kind: rt.kind }, m.name ?? '', errs);
    if (this.d.store.get(rt.storageKey, m.namespace, m.name!)) throw alreadyExists({ group: rt.group, resource: rt.plural }, m.name!);
    this.recordManager(rt, obj, undefined, opts, 'Update');
    if (opts.dryRun) return this.toExternal(rt, obj);
    return this.toExternal(rt, this.d.store.create(rt.storageKey, this.toInternal(rt, obj)));
  }

  update(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): KObject {
    const stored = this.getStored(rt, namespace, name);
    const obj = this.decode(rt, body);
    if (obj.metadata.name && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (rt.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const rv = obj.metadata.resourceVersion;
    // Custom resources and CRDs refuse unconditional updates (their strategies' AllowUnconditionalUpdate is false).
    if (!rv && (rt.crd || rt.storageKey === 'apiextensions.k8s.io/customresourcedefinitions'))
      throw invalidObject({ group: rt.group, kind: rt.kind }, name, [invalid('metadata.resourceVersion', 0n, 'must be specified for an update')]);
    if (rv && rv !== stored.metadata.resourceVersion) throw conflict({ group: rt.group, resource: rt.plural }, name);
    return this.commitUpdate(rt, stored, obj, opts);
  }

  patch(rt: ResourceType, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: WriteOptions & ApplyOptions = {}): { object: KObject; created: boolean } {
    const stored = this.d.store.get(rt.storageKey, rt.namespaced ? namespace : undefined, name);
    if (type === 'strategic' && rt.crd) throw unsupportedMediaType('application/strategic-merge-patch+json', ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
    if (!stored) {
      if (type !== 'apply' || opts.subresource) throw notFound({ group: rt.group, resource: rt.plural }, name);
      const created = applyPatch(undefined, patch, rt, { fieldManager: opts.fieldManager!, force: opts.force, now: this.now() });
      const body = { ...created, metadata: { ...(created.metadata ?? {}), name } };
      return { object: this.create(rt, namespace, body, { ...opts, fieldManager: undefined }), created: true };
    }
    const current = this.toExternal(rt, stored);
    let next: unknown;
    switch (type) {
      case 'merge':
        next = mergePatch(current, patch);
        break;
      case 'json':
        next = jsonPatch(current, patch);
        break;
      case 'strategic':
        next = strategicMergePatch(current, patch);
        break;
      case 'apply':
        next = applyPatch(current, patch, rt, { fieldManager: opts.fieldManager!, force: opts.force, now: this.now(), subresource: opts.subresource });
        break;
    }
    if (!isObject(next)) throw badRequest('the patch did not produce an object');
    const obj = next as KObject;
    if (!isObject(obj.metadata)) obj.metadata = {};
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== stored.metadata.resourceVersion) throw conflict({ group: rt.group, resource: rt.plural }, name);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    return { object: this.commitUpdate(rt, stored, obj, { ...opts, fieldManager: type === 'apply' ? undefined : opts.fieldManager }), created: false };
  }

  /**
   * The shared tail of update and patch: carry over what clients may not change, default, validate,
   * bump generation, skip no-op writes, and finish a deletion whose last finalizer went away.
   */
  commitUpdate(rt: ResourceType, stored: KObject, incoming: KObject, opts: WriteOptions): KObject {
    const old = this.toExternal(rt, stored);
    let obj: KObject;
    if (opts.subresource === 'status') {
      obj = clone(old);
      if (incoming.status === undefined) delete obj.status;
      else obj.status = clone(incoming.status);
      if (incoming.metadata.managedFields) obj.metadata.managedFields = incoming.metadata.managedFields;
    } else {
      obj = clone(incoming);
      obj.apiVersion = old.apiVersion;
      obj.kind = old.kind;
      if (rt.hasStatus && opts.subresource === undefined) {
        if (old.status === undefined) delete obj.status;
        else obj.status = clone(old.status);
      }
      const m = obj.metadata;
      const om = old.metadata;
      m.name = om.name;
      if (rt.namespaced) m.namespace = om.namespace;
      else delete m.namespace;
      m.uid = om.uid;
      m.creationTimestamp = om.creationTimestamp;
      m.deletionTimestamp = om.deletionTimestamp;
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      m.generation = om.generation;
      m.resourceVersion = om.resourceVersion;
      if (m.deletionTimestamp === undefined) delete m.deletionTimestamp;
      if (m.deletionGracePeriodSeconds === undefined) delete m.deletionGracePeriodSeconds;
      if (m.generation === undefined) delete m.generation;
      delete m.selfLink;
      if (om.deletionTimestamp) {
        const added = (m.finalizers ?? []).filter((f) => !(om.finalizers ?? []).includes(f));
        if (added.length > 0)
          throw invalidObject({ group: rt.group, kind: rt.kind }, om.name!, [
            fieldForbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`),
          ]);
      }
      rt.strategy?.prepareForUpdate?.(obj, old, this.d.strategyContext);
    }
    const errs = this.validate(rt, obj, old, opts);
    if (errs.length) throw invalidObject({ group: rt.group, kind: rt.kind }, old.metadata.name!, errs);
    if (rt.generation && specChanged(rt, old, obj)) obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    this.recordManager(rt, obj, old, opts, 'Update');
    if (jsonEqual(obj, old)) return old;
    if (opts.dryRun) return obj;
    if (readyToRemove(rt, obj)) return this.toExternal(rt, this.d.store.remove(rt.storageKey, this.toInternal(rt, obj)));
    return this.toExternal(rt, this.d.store.update(rt.storageKey, this.toInternal(rt, obj), stored));
  }

  /** Writes an object the server itself computed (internal controllers): no validation, no strategies. */
  writeInternal(rt: ResourceType, next: KObject, previous: KObject): KObject {
    if (readyToRemove(rt, next)) return this.d.store.remove(rt.storageKey, this.toInternal(rt, next));
    return this.d.store.update(rt.storageKey, this.toInternal(rt, next), previous);
  }

  removeInternal(rt: ResourceType, obj: KObject): KObject {
    return this.d.store.remove(rt.storageKey, obj);
  }

  // ---- helpers ----

  private decode(rt: ResourceType, body: unknown): KObject {
    if (!isObject(body)) throw badRequest(`Object '${rt.kind}' is missing in 'null'`);
    const obj = clone(body) as KObject;
    const gv = groupVersion(rt);
    if (obj.kind !== undefined && obj.kind !== rt.kind)
      throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: the object provided is unrecognized (kind ${String(obj.kind)} does not match ${rt.kind})`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      const accepted = rt.crd ? [] : [gv];
      if (!accepted.includes(String(obj.apiVersion)))
        throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
    }
    if (!isObject(obj.metadata)) obj.metadata = {};
    return obj;
  }

  private validate(rt: ResourceType, obj: KObject, old: KObject | undefined, opts: WriteOptions): FieldError[] {
    // Built-in kinds are Go structs in the apiserver: a JSON null decodes to the zero value and is not
    // stored (kubectl rollout undo sends `creationTimestamp: null` in a template, charts render
    // `nodeSelector:` as null). Custom resources keep nulls for their schema (nullable) to judge.
    dropNulls(rt.crd ? obj.metadata : obj);
    const unknown = pruneObjectMeta(obj.metadata);
    if (rt.crd?.schema) {
      unknown.push(...prune(obj, rt.crd.schema));
      applyDefaults(obj, rt.crd.schema);
    }
    if (unknown.length > 0) {
      const mode = opts.fieldValidation ?? 'Warn';
      const texts = unknown.map((p) => `unknown field "${p}"`);
      if (mode === 'Strict') throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${texts.join(', ')}`);
      if (mode === 'Warn') opts.warnings?.push(...texts);
    }
    const errs = validateObjectMeta(obj, nameRuleFor(rt.storageKey), rt.namespaced);
    if (rt.crd?.schema) {
      const body = { ...obj } as Record<string, unknown>;
      delete body.metadata;
      errs.push(...validate(body, rt.crd.schema));
    }
    errs.push(...(rt.strategy?.validate?.(obj, old) ?? []));
    return errs;
  }

  private checkNamespaceAcceptsCreate(namespace: string): void {
    const ns = this.d.store.get('/namespaces', undefined, namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp) throw namespaceTerminating(namespace);
  }

  private recordManager(rt: ResourceType, obj: KObject, old: KObject | undefined, opts: WriteOptions, operation: 'Update'): void {
    // Only server-side apply keeps managedFields (apply.ts); other writes keep what the object had.
    const prev = old?.metadata.managedFields;
    if (obj.metadata.managedFields === undefined && prev) obj.metadata.managedFields = prev;
    if (opts.fieldManager && obj.metadata.managedFields && operation === 'Update') {
      const entries = obj.metadata.managedFields.filter((e) => !(e.manager === opts.fieldManager && e.operation === 'Update'));
      entries.push({ manager: opts.fieldManager, operation: 'Update', apiVersion: groupVersion(rt), time: rfc3339(this.now()), fieldsType: 'FieldsV1', fieldsV1: {} });
      obj.metadata.managedFields = entries;
    }
  }
}

function stripTypeMeta(o: KObject): KObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KObject;
}

/** Removes null-valued object fields, recursively (array elements are kept, their fields cleaned). */
export function dropNulls(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) dropNulls(x);
    return;
  }
  if (!isObject(v)) return;
  for (const [k, x] of Object.entries(v)) {
    if (x === null) delete v[k];
    else dropNulls(x);
  }
}

/** Unknown metadata fields are dropped (ObjectMeta is a typed struct everywhere). */
function pruneObjectMeta(m: ObjectMeta): string[] {
  const unknown: string[] = [];
  for (const k of Object.keys(m)) {
    if (!OBJECT_META_FIELDS.has(k)) {
      delete m[k];
      unknown.push(`metadata.${k}`);
    }
  }
  return unknown;
}

/** Generation moves when anything but metadata (and status, with a status subresource) changes. */
export function specChanged(rt: ResourceType, a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rt.hasStatus ? rest : { ...rest, status: o.status };
  };
  return !jsonEqual(strip(a), strip(b));
}

/** A deleted object leaves storage once no finalizer holds it and no grace period is pending. */
export function readyToRemove(rt: ResourceType, o: KObject): boolean {
  const m = o.metadata;
  if (!m.deletionTimestamp) return false;
  if ((m.finalizers ?? []).length > 0) return false;
  if ((m.deletionGracePeriodSeconds ?? 0) > 0) return false;
  if (rt.storageKey === '/namespaces' && ((o.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0) return false;
  return true;
}
