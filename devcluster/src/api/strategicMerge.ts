// Strategic merge patch for built-in kinds: the server side of `kubectl apply` (client-side),
// `kubectl patch` and helm upgrade.
//
// Lists are merged element-wise where the Go types say so (patchStrategy:"merge" with a
// patchMergeKey: containers by name, ports by containerPort, conditions by type...), other lists are
// replaced. Directives: `$patch: replace|delete|merge`, `$retainKeys`, `$deleteFromPrimitiveList/<f>`,
// `$setElementOrder/<f>`. The merge keys come from the table below, keyed by field name and, where a
// name means two things (ports), by where it sits.
import { clone, isObject, type JsonObject } from './types.js';

export interface ListMeta {
  /** Merge elements by this key; undefined with primitive=true merges a list of scalars as a set. */
  key?: string;
  primitive?: boolean;
}

/** Patch metadata of the list at `path` (field names only, list indexes left out). */
export function listMetaFor(path: string[]): ListMeta | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  const inContainer = path.some((p) => p === 'containers' || p === 'initContainers' || p === 'ephemeralContainers');
  switch (field) {
    case 'finalizers':
      return parent === 'metadata' ? { primitive: true } : undefined;
    case 'ownerReferences':
      return { key: 'uid' };
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'imagePullSecrets':
    case 'env':
    case 'resourceClaims':
    case 'schedulingGates':
      return { key: 'name' };
    case 'ports':
      return inContainer ? { key: 'containerPort' } : { key: 'port' };
    case 'volumeMounts':
      return { key: 'mountPath' };
    case 'volumeDevices':
      return { key: 'devicePath' };
    case 'hostAliases':
    case 'podIPs':
    case 'hostIPs':
      return { key: 'ip' };
    case 'conditions':
    case 'addresses':
      return parent === 'status' ? { key: 'type' } : undefined;
    case 'topologySpreadConstraints':
      return { key: 'topologyKey' };
    default:
      return undefined;
  }
}

const DIRECTIVE = '$patch';
const RETAIN = '$retainKeys';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const ORDER = '$setElementOrder/';

export function strategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const merged = mergeMap(isObject(original) ? original : {}, patch, []);
  return merged === undefined ? {} : merged;
}

function mergeMap(orig: JsonObject, patch: JsonObject, path: string[]): JsonObject | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as JsonObject;
  const out: JsonObject = { ...orig };
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const drop = Array.isArray(v) ? v : [];
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !drop.includes(x));
      continue;
    }
    if (k.startsWith(ORDER)) {
      if (Array.isArray(v)) orders.push([k.slice(ORDER.length), v]);
      continue;
    }
    if (v === null) delete out[k];
    else if (isObject(v)) {
      const m = mergeMap(isObject(orig[k]) ? orig[k] : {}, v, [...path, k]);
      if (m === undefined) delete out[k];
      else out[k] = m;
    } else if (Array.isArray(v)) out[k] = mergeList(orig[k], v, [...path, k]);
    else out[k] = v;
  }
  for (const [field, order] of orders) if (Array.isArray(out[field])) out[field] = reorder(out[field] as unknown[], order, listMetaFor([...path, field]));
  if (Array.isArray(patch[RETAIN])) {
    const keep = new Set((patch[RETAIN] as unknown[]).map(String));
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}

function mergeList(orig: unknown, patch: unknown[], path: string[]): unknown[] {
  const meta = listMetaFor(path);
  if (patch.some((e) => isObject(e) && e[DIRECTIVE] === 'replace')) return patch.filter((e) => !(isObject(e) && e[DIRECTIVE] === 'replace')).map(stripDirectives);
  const base = Array.isArray(orig) ? clone(orig) : [];
  if (!meta) return patch.map(stripDirectives);
  if (meta.primitive) {
    const out = [...base];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = meta.key!;
  for (const el of patch) {
    if (!isObject(el)) continue;
    const idx = base.findIndex((b) => isObject(b) && b[key] === el[key]);
    if (el[DIRECTIVE] === 'delete') {
      if (idx >= 0) base.splice(idx, 1);
      continue;
    }
    const merged = mergeMap(idx >= 0 && isObject(base[idx]) ? (base[idx] as JsonObject) : {}, el, path);
    if (merged === undefined) {
      if (idx >= 0) base.splice(idx, 1);
    } else if (idx >= 0) base[idx] = merged;
    else base.push(merged);
  }
  return base;
}

function reorder(list: unknown[], order: unknown[], meta: ListMeta | undefined): unknown[] {
  const idOf = (v: unknown) => (meta?.key && isObject(v) ? JSON.stringify(v[meta.key]) : JSON.stringify(v));
  const rank = new Map(order.map((o, i) => [idOf(o), i]));
  const known = list.filter((v) => rank.has(idOf(v))).sort((a, b) => rank.get(idOf(a))! - rank.get(idOf(b))!);
  return [...known, ...list.filter((v) => !rank.has(idOf(v)))];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(ORDER)) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
