// LIST: selectors, paging with limit/continue, and the object filter watches share.
import { badRequest } from './errors.js';
import type { Objects } from './objects.js';
import type { ResourceType } from './registry.js';
import { fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { KObject } from './types.js';

export interface ListQuery {
  namespace?: string;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** A predicate over stored objects: namespace, label selector and field selector. */
export function objectFilter(rt: ResourceType, q: { namespace?: string; labelSelector?: string | null; fieldSelector?: string | null }): (o: KObject) => boolean {
  const labels = parseLabelSelector(q.labelSelector);
  const fields = parseFieldSelector(q.fieldSelector);
  const known = new Set(['metadata.name', 'metadata.namespace']);
  for (const f of fields) {
    if (known.has(f.field)) continue;
    if (rt.fields) {
      const sample = rt.fields({ metadata: {} });
      if (f.field in sample) continue;
    }
    if (rt.crd) {
      const only = ['metadata.name', 'metadata.namespace', ...rt.crd.selectableFields.map((p) => p.replace(/^\./, ''))];
      throw badRequest(`"${f.field}" is not a known field selector: only ${only.map((x) => `"${x}"`).join(', ')}`);
    }
    throw badRequest(`field label not supported: ${f.field}`);
  }
  const ns = rt.namespaced ? q.namespace : undefined;
  return (o) => {
    if (ns && o.metadata.namespace !== ns) return false;
    if (labels.length && !labelsMatch(labels, o.metadata.labels)) return false;
    if (fields.length) {
      const values = { 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '', ...(rt.fields?.(o) ?? {}) };
      if (!fieldsMatch(fields, values)) return false;
    }
    return true;
  };
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: lastKey } satisfies ContinueToken)).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return t;
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/**
 * Lists objects in key order. A continue token carries the last key returned and the resourceVersion
 * of the first page; later pages read the current state after that key (an approximation of etcd's
 * snapshot reads, documented), and report the first page's resourceVersion so watches start there.
 */
export function listObjects(objects: Objects, rt: ResourceType, q: ListQuery): ListResult {
  const filter = objectFilter(rt, q);
  let rv = objects.store.resourceVersion;
  let after: string | undefined;
  if (q.continueToken) {
    const t = decodeContinue(q.continueToken);
    rv = t.rv;
    after = t.start;
  }
  const all = objects.store.list(rt.storageKey, rt.namespaced ? q.namespace : undefined, after);
  const limit = q.limit && q.limit > 0 ? q.limit : Infinity;
  const items: KObject[] = [];
  let lastKey = '';
  let i = 0;
  for (; i < all.length && items.length < limit; i++) {
    const { key, object } = all[i]!;
    if (!filter(object)) continue;
    items.push(objects.toExternal(rt, object));
    lastKey = key;
  }
  const result: ListResult = { items, resourceVersion: String(rv) };
  if (items.length >= limit) {
    let remaining = 0;
    for (; i < all.length; i++) if (filter(all[i]!.object)) remaining++;
    if (remaining > 0) {
      result.continueToken = encodeContinue(rv, lastKey);
      if (!q.labelSelector && !q.fieldSelector) result.remainingItemCount = remaining;
    }
  }
  return result;
}
