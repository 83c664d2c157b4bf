// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), the patch types every resource accepts.
// Strategic merge patch (built-ins only) is in strategicMerge.ts, server-side apply in apply.ts.
import { ApiError, status } from './errors.js';
import { clone, isObject, jsonEqual, type JsonObject } from './types.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const patchError = (message: string) => new ApiError(status(422, 'Invalid', message));

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchError(`JSON pointer must start with "/": ${pointer}`);
  return pointer.slice(1).split('/').map(unescapePointer);
}

type Container = JsonObject | unknown[];

function parentOf(doc: unknown, path: string[], op: string, pointer: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const seg of path.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined || cur === null) throw patchError(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw patchError(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`);
  return { parent: cur as Container, key: path[path.length - 1]! };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, op: string, pointer: string): number {
  if (key === '-' && forInsert) return arr.length;
  if (!/^\d+$/.test(key)) throw patchError(`${op} operation does not apply: doc is missing path: "${pointer}": invalid index`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i >= arr.length)) throw patchError(`${op} operation does not apply: doc is missing path: "${pointer}": index out of bounds`);
  return i;
}

function getAt(doc: unknown, pointer: string, op: string): unknown {
  let cur: unknown = doc;
  for (const seg of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw patchError(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`);
  }
  return cur;
}

function removeAt(doc: unknown, pointer: string, op: string): unknown {
  const path = parsePointer(pointer);
  const { parent, key } = parentOf(doc, path, op, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false, op, pointer);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw patchError(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: unknown, pointer: string, value: unknown, op: string): unknown {
  const path = parsePointer(pointer);
  if (path.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, path, op, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, op, pointer), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(status(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch'));
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw)) throw patchError('invalid JSON patch operation');
    const op = String(raw.op);
    const path = String(raw.path ?? '');
    switch (op) {
      case 'add':
        doc = addAt(doc, path, raw.value, op);
        break;
      case 'remove':
        removeAt(doc, path, op);
        break;
      case 'replace': {
        const p = parsePointer(path);
        if (p.length === 0) doc = clone(raw.value);
        else {
          const { parent, key } = parentOf(doc, p, op, path);
          if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, op, path)] = clone(raw.value);
          else {
            if (!(key in parent)) throw patchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
            parent[key] = clone(raw.value);
          }
        }
        break;
      }
      case 'move': {
        const v = removeAt(doc, String(raw.from), op);
        doc = addAt(doc, path, v, op);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, getAt(doc, String(raw.from), op), op);
        break;
      case 'test': {
        const v = getAt(doc, path, op);
        if (!jsonEqual(v, raw.value)) throw patchError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw patchError(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}
