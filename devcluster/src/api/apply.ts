// Server-side apply (PATCH application/apply-patch+yaml), simplified but honest about ownership:
//
//   result = current ⊕ applied config   (maps merged, keyed lists merged by key, other lists replaced)
//   fields this manager applied last time and no longer applies are removed (unless another
//   manager applied them too); applying a value that another *apply* manager owns with a different
//   value is a 409 conflict unless force=true, which takes the field over.
//
// Ownership is recorded in metadata.managedFields (operation Apply, FieldsV1) per manager. Writes
// that are not applies (PUT, merge/JSON/strategic patches) are not tracked field by field, so they
// never conflict with an apply — the approximation docs/devcluster.md describes.
import { ApiError, badRequest, status } from './errors.js';
import { groupVersion, type ResourceType } from './registry.js';
import type { StructuralSchema } from './schema.js';
import { listMetaFor } from './strategicMerge.js';
import { clone, isObject, jsonEqual, type JsonObject, type KObject, type ManagedFieldsEntry } from './types.js';

export interface ApplyOptions {
  fieldManager?: string;
  force?: boolean;
}

interface ApplyContext {
  fieldManager: string;
  force?: boolean;
  now: Date;
  subresource?: string;
}

type ListKind = { kind: 'map'; keys: string[] } | { kind: 'set' } | { kind: 'atomic' };

function listKind(rt: ResourceType, path: string[]): ListKind {
  if (rt.crd) {
    let s: StructuralSchema | undefined = rt.crd.schema;
    for (const seg of path) {
      if (!s) break;
      s = s.properties?.[seg] ?? (isObject(s.additionalProperties) ? (s.additionalProperties as StructuralSchema) : undefined);
      if (s?.type === 'array' && seg !== path[path.length - 1]) s = s.items;
    }
    if (s?.['x-kubernetes-list-type'] === 'map' && s['x-kubernetes-list-map-keys']) return { kind: 'map', keys: s['x-kubernetes-list-map-keys'] };
    if (s?.['x-kubernetes-list-type'] === 'set') return { kind: 'set' };
    return { kind: 'atomic' };
  }
  const meta = listMetaFor(path);
  if (meta?.key) return { kind: 'map', keys: [meta.key] };
  if (meta?.primitive) return { kind: 'set' };
  return { kind: 'atomic' };
}

const elementId = (el: unknown, keys: string[]) => `k:${JSON.stringify(Object.fromEntries(keys.map((k) => [k, isObject(el) ? el[k] : undefined])))}`;

/** Leaf paths (FieldsV1 segments joined by \u0000) a value sets. */
function fieldSet(rt: ResourceType, v: unknown, path: string[], segs: string[], out: Set<string>): void {
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => !(segs.length === 0 && (k === 'apiVersion' || k === 'kind')));
    if (keys.length === 0 && segs.length > 0) out.add(segs.join('\u0000'));
    for (const k of keys) {
      if (segs.length === 1 && segs[0] === 'f:metadata' && ['name', 'namespace', 'resourceVersion', 'uid', 'managedFields', 'creationTimestamp', 'generation'].includes(k)) continue;
      fieldSet(rt, v[k], [...path, k], [...segs, `f:${k}`], out);
    }
    return;
  }
  if (Array.isArray(v)) {
    const lk = listKind(rt, path);
    if (lk.kind === 'map') for (const el of v) fieldSet(rt, el, path, [...segs, elementId(el, lk.keys)], out);
    else if (lk.kind === 'set') for (const el of v) out.add([...segs, `v:${JSON.stringify(el)}`].join('\u0000'));
    else out.add(segs.join('\u0000'));
    return;
  }
  out.add(segs.join('\u0000'));
}

function toFieldsV1(paths: Set<string>): JsonObject {
  const root: JsonObject = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p.split('\u0000')) cur = (cur[seg] ??= {}) as JsonObject;
  }
  return root;
}

function fromFieldsV1(f: unknown, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (!isObject(f)) return out;
  const keys = Object.keys(f).filter((k) => k !== '.');
  if (keys.length === 0 && prefix.length > 0) out.add(prefix.join('\u0000'));
  for (const k of keys) fromFieldsV1(f[k], [...prefix, k], out);
  return out;
}

/** Navigates FieldsV1 segments; returns the container and the key/index of the last one. */
function locate(obj: unknown, segs: string[]): { parent: JsonObject | unknown[]; key: string | number } | undefined {
  let cur: unknown = obj;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const last = i === segs.length - 1;
    let key: string | number;
    if (seg.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      key = seg.slice(2);
    } else if (seg.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = JSON.parse(seg.slice(2)) as JsonObject;
      key = cur.findIndex((el) => isObject(el) && Object.entries(want).every(([k, v]) => jsonEqual(el[k], v)));
      if (key < 0) return undefined;
    } else if (seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = JSON.parse(seg.slice(2));
      key = cur.findIndex((el) => jsonEqual(el, want));
      if (key < 0) return undefined;
    } else return undefined;
    if (last) return { parent: cur as JsonObject | unknown[], key };
    cur = Array.isArray(cur) ? cur[key as number] : (cur as JsonObject)[key as string];
  }
  return undefined;
}

const valueAt = (obj: unknown, segs: string[]): unknown => {
  const loc = locate(obj, segs);
  if (!loc) return undefined;
  return Array.isArray(loc.parent) ? loc.parent[loc.key as number] : (loc.parent as JsonObject)[loc.key as string];
};

function removeAt(obj: unknown, segs: string[]): void {
  const loc = locate(obj, segs);
  if (!loc) return;
  if (Array.isArray(loc.parent)) loc.parent.splice(loc.key as number, 1);
  else delete (loc.parent as JsonObject)[loc.key as string];
}

function merge(rt: ResourceType, cur: unknown, cfg: unknown, path: string[]): unknown {
  if (isObject(cfg)) {
    const out: JsonObject = isObject(cur) ? { ...cur } : {};
    for (const [k, v] of Object.entries(cfg)) out[k] = v === null ? null : merge(rt, out[k], v, [...path, k]);
    return out;
  }
  if (Array.isArray(cfg)) {
    const lk = listKind(rt, path);
    if (lk.kind === 'atomic' || !Array.isArray(cur)) return clone(cfg);
    const out = clone(cur);
    for (const el of cfg) {
      const idx = lk.kind === 'map' ? out.findIndex((o) => elementId(o, lk.keys) === elementId(el, lk.keys)) : out.findIndex((o) => jsonEqual(o, el));
      if (idx >= 0) out[idx] = lk.kind === 'map' ? merge(rt, out[idx], el, path) : el;
      else out.push(clone(el));
    }
    return out;
  }
  return cfg;
}

const pathText = (segs: string[]) => segs.map((s) => (s.startsWith('f:') ? `.${s.slice(2)}` : `[${s.slice(2)}]`)).join('');

export function applyPatch(current: KObject | undefined, config: unknown, rt: ResourceType, ctx: ApplyContext): KObject {
  if (!ctx.fieldManager) throw new ApiError(status(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'));
  if (!isObject(config)) throw badRequest('error decoding YAML: the applied configuration must be an object');
  if (!config.apiVersion || !config.kind) throw badRequest(`invalid object type: ${String(config.apiVersion ?? '')}, Kind=${String(config.kind ?? '')}`);
  const cfg = clone(config) as KObject;
  if (!isObject(cfg.metadata)) cfg.metadata = {};
  delete cfg.metadata.managedFields;
  const applied = new Set<string>();
  fieldSet(rt, cfg, [], [], applied);
  const entries: ManagedFieldsEntry[] = clone(current?.metadata.managedFields ?? []);
  const sub = ctx.subresource;
  const mine = entries.find((e) => e.manager === ctx.fieldManager && e.operation === 'Apply' && e.subresource === sub);
  const others = entries.filter((e) => e !== mine && e.operation === 'Apply');
  const result = merge(rt, current ? clone(current) : {}, cfg, []) as KObject;
  // Conflicts: fields another applier owns whose value this apply changes.
  const conflicts: { manager: string; apiVersion: string; path: string[] }[] = [];
  for (const p of applied) {
    const segs = p.split('\u0000');
    for (const o of others) {
      if (!fromFieldsV1(o.fieldsV1).has(p)) continue;
      if (!jsonEqual(valueAt(current, segs), valueAt(cfg, segs))) conflicts.push({ manager: o.manager ?? '', apiVersion: o.apiVersion ?? groupVersion(rt), path: segs });
    }
  }
  if (conflicts.length > 0 && !ctx.force) {
    const list = conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${pathText(c.path)}`);
    const message = conflicts.length === 1 ? `Apply failed with 1 conflict: ${list[0]}` : `Apply failed with ${conflicts.length} conflicts: ${list.join('\n')}`;
    throw new ApiError(
      status(409, 'Conflict', message, {
        causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: pathText(c.path) })),
      }),
    );
  }
  for (const c of conflicts) {
    const o = others.find((e) => e.manager === c.manager)!;
    const set = fromFieldsV1(o.fieldsV1);
    set.delete(c.path.join('\u0000'));
    o.fieldsV1 = toFieldsV1(set);
  }
  // Fields this manager stopped applying go away unless someone else applies them.
  if (mine) {
    const stillOwned = new Set(others.flatMap((o) => [...fromFieldsV1(o.fieldsV1)]));
    for (const p of fromFieldsV1(mine.fieldsV1)) if (!applied.has(p) && !stillOwned.has(p)) removeAt(result, p.split('\u0000'));
  }
  const next: ManagedFieldsEntry = { manager: ctx.fieldManager, operation: 'Apply', apiVersion: groupVersion(rt), time: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(applied) };
  if (sub) next.subresource = sub;
  const kept = entries.filter((e) => e !== mine && !(e.operation === 'Apply' && Object.keys(e.fieldsV1 ?? {}).length === 0));
  result.metadata = { ...(isObject(result.metadata) ? result.metadata : {}), managedFields: [...kept, next] };
  return result;
}
