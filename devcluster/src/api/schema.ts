// Structural OpenAPI v3 schemas of CustomResourceDefinitions: pruning of unknown fields, defaulting
// and validation, with the messages apiextensions-apiserver produces (kube-openapi's wording turned
// into field errors: `spec.x: Invalid value: 0: spec.x in body should be greater than or equal to 1`).
// Pure functions over JSON values; x-kubernetes-validations (CEL) rules are not evaluated.
import { invalid, notSupported, required, type FieldError } from './errors.js';
import { clone, isObject, jsonEqual, type JsonObject } from './types.js';

export interface StructuralSchema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  default?: unknown;
  allOf?: StructuralSchema[];
  anyOf?: StructuralSchema[];
  oneOf?: StructuralSchema[];
  not?: StructuralSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: unknown[];
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const preserves = (s: StructuralSchema) => s['x-kubernetes-preserve-unknown-fields'] === true;
const ROOT_KEYS = ['apiVersion', 'kind', 'metadata'];

/**
 * Drops fields the schema does not declare (unless preserved), in place, and returns their paths for
 * `fieldValidation=Strict|Warn` (`unknown field "spec.foo"`).
 */
export function prune(value: unknown, schema: StructuralSchema | undefined, path = '', isRoot = true): string[] {
  const unknown: string[] = [];
  walkPrune(value, schema, path, isRoot, unknown);
  return unknown;
}

function walkPrune(value: unknown, schema: StructuralSchema | undefined, path: string, keepObjectMeta: boolean, unknown: string[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => walkPrune(v, schema.items, `${path}[${i}]`, schema.items!['x-kubernetes-embedded-resource'] === true, unknown));
    return;
  }
  if (!isObject(value)) return;
  const props = schema.properties ?? {};
  const extra = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    const p = join(path, key);
    // apiVersion, kind and metadata of the object (and of embedded resources) are ObjectMeta/TypeMeta,
    // typed by Kubernetes itself: the CRD schema does not prune them.
    if (keepObjectMeta && ROOT_KEYS.includes(key)) continue;
    if (props[key]) walkPrune(value[key], props[key], p, props[key]!['x-kubernetes-embedded-resource'] === true, unknown);
    else if (isObject(extra)) walkPrune(value[key], extra, p, extra['x-kubernetes-embedded-resource'] === true, unknown);
    else if (extra === true || preserves(schema)) continue;
    else {
      delete value[key];
      unknown.push(p);
    }
  }
}

/** Applies `default`s in place: absent fields, and null ones where the schema is not nullable. */
export function applyDefaults(value: unknown, schema: StructuralSchema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const v of value) applyDefaults(v, schema.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, ps] of Object.entries(schema.properties ?? {})) {
    if (ps.default !== undefined && (value[key] === undefined || (value[key] === null && !ps.nullable))) value[key] = clone(ps.default);
    if (value[key] !== undefined) applyDefaults(value[key], ps);
  }
  if (isObject(schema.additionalProperties)) for (const key of Object.keys(value)) if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties);
}

/** True if any node of the schema declares a default (so read-time defaulting can be skipped). */
export function hasDefaults(schema: StructuralSchema | undefined): boolean {
  if (!schema) return false;
  if (schema.default !== undefined) return true;
  if (Object.values(schema.properties ?? {}).some(hasDefaults)) return true;
  if (isObject(schema.additionalProperties) && hasDefaults(schema.additionalProperties as StructuralSchema)) return true;
  return hasDefaults(schema.items);
}

/** The JSON type name kube-openapi reports for a value. */
function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function typeMatches(v: unknown, s: StructuralSchema): boolean {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  switch (s.type) {
    case undefined:
    case '':
      return true;
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

const formats: Record<string, (s: string) => boolean> = {
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  byte: (s) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s),
  uuid: (s) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  ipv4: (s) => /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(s),
  hostname: (s) => s.length <= 253 && /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$/.test(s),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
};

const patternCache = new Map<string, RegExp | null>();
function compiled(pattern: string): RegExp | null {
  if (!patternCache.has(pattern)) {
    try {
      patternCache.set(pattern, new RegExp(pattern, 'u'));
    } catch {
      patternCache.set(pattern, null);
    }
  }
  return patternCache.get(pattern)!;
}

/** Validates `value` against `schema`; `path` is the field path of `value` (`spec.sharding`). */
export function validate(value: unknown, schema: StructuralSchema | undefined, path = ''): FieldError[] {
  const errs: FieldError[] = [];
  if (schema) check(value, schema, path, errs);
  return errs;
}

function check(v: unknown, s: StructuralSchema, path: string, errs: FieldError[]): void {
  const name = path || '.';
  if (v === null) {
    if (!s.nullable && (s.type || s['x-kubernetes-int-or-string'])) {
      const t = s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type!;
      errs.push({ type: 'TypeInvalid', field: path, badValue: 'null', detail: `${name} in body must be of type ${t}: "null"` });
    }
    return;
  }
  if (!typeMatches(v, s)) {
    const t = s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type!;
    const actual = typeName(v);
    errs.push({ type: 'TypeInvalid', field: path, badValue: actual, detail: `${name} in body must be of type ${t}: "${actual}"` });
    return;
  }
  if (s.enum && !s.enum.some((e) => jsonEqual(e, v))) {
    errs.push(notSupported(path, v, s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof v === 'number') checkNumber(v, s, path, name, errs);
  if (typeof v === 'string') checkString(v, s, path, name, errs);
  if (Array.isArray(v)) checkArray(v, s, path, name, errs);
  if (isObject(v)) checkObject(v, s, path, name, errs);
  for (const sub of s.allOf ?? []) check(v, sub, path, errs);
  if (s.anyOf && !s.anyOf.some((sub) => validate(v, sub, path).length === 0)) {
    errs.push(...validate(v, s.anyOf[0], path));
  }
  if (s.oneOf) {
    const passing = s.oneOf.filter((sub) => validate(v, sub, path).length === 0).length;
    if (passing !== 1) errs.push(invalid(path, v, `${name} in body must validate one and only one schema (oneOf)`));
  }
  if (s.not && validate(v, s.not, path).length === 0) errs.push(invalid(path, v, `${name} in body must not validate the schema (not)`));
}

function checkNumber(v: number, s: StructuralSchema, path: string, name: string, errs: FieldError[]): void {
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum))
    errs.push(invalid(path, v, `${name} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum))
    errs.push(invalid(path, v, `${name} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  if (s.multipleOf !== undefined && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9)
    errs.push(invalid(path, v, `${name} in body should be a multiple of ${s.multipleOf}`));
}

function checkString(v: string, s: StructuralSchema, path: string, name: string, errs: FieldError[]): void {
  const length = [...v].length;
  if (s.maxLength !== undefined && length > s.maxLength) errs.push({ type: 'TooLong', field: path, badValue: v, detail: `may not be more than ${s.maxLength} bytes` });
  if (s.minLength !== undefined && length < s.minLength) errs.push(invalid(path, v, `${name} in body should be at least ${s.minLength} chars long`));
  if (s.pattern !== undefined) {
    const re = compiled(s.pattern);
    if (re && !re.test(v)) errs.push(invalid(path, v, `${name} in body should match '${s.pattern}'`));
  }
  if (s.format && formats[s.format] && !formats[s.format]!(v)) errs.push(invalid(path, v, `${name} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
}

function checkArray(v: unknown[], s: StructuralSchema, path: string, name: string, errs: FieldError[]): void {
  if (s.maxItems !== undefined && v.length > s.maxItems) errs.push({ type: 'TooMany', field: path, badValue: v.length, detail: `must have at most ${s.maxItems} items` });
  if (s.minItems !== undefined && v.length < s.minItems) errs.push(invalid(path, v, `${name} in body should have at least ${s.minItems} items`));
  const listType = s['x-kubernetes-list-type'];
  if (s.uniqueItems || listType === 'set') {
    v.forEach((x, i) => {
      if (v.findIndex((y) => jsonEqual(x, y)) !== i) errs.push({ type: 'Duplicate', field: `${path}[${i}]`, badValue: x });
    });
  }
  if (listType === 'map' && s['x-kubernetes-list-map-keys']) {
    const keys = s['x-kubernetes-list-map-keys'];
    const seen = new Set<string>();
    v.forEach((x, i) => {
      const k = JSON.stringify(keys.map((key) => (isObject(x) ? x[key] : undefined)));
      if (seen.has(k)) errs.push({ type: 'Duplicate', field: `${path}[${i}]`, badValue: isObject(x) ? Object.fromEntries(keys.map((key) => [key, x[key]])) : x });
      seen.add(k);
    });
  }
  if (s.items) v.forEach((x, i) => check(x, s.items!, `${path}[${i}]`, errs));
}

function checkObject(v: JsonObject, s: StructuralSchema, path: string, name: string, errs: FieldError[]): void {
  for (const key of s.required ?? []) if (v[key] === undefined) errs.push(required(join(path, key)));
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties) errs.push({ type: 'TooMany', field: path, badValue: n, detail: `must have at most ${s.maxProperties} items` });
  if (s.minProperties !== undefined && n < s.minProperties) errs.push(invalid(path, v, `${name} in body should have at least ${s.minProperties} properties`));
  if (s['x-kubernetes-embedded-resource']) {
    if (!v.apiVersion) errs.push(required(join(path, 'apiVersion'), 'must not be empty'));
    if (!v.kind) errs.push(required(join(path, 'kind'), 'must not be empty'));
  }
  for (const [key, child] of Object.entries(v)) {
    const ps = s.properties?.[key] ?? (isObject(s.additionalProperties) ? (s.additionalProperties as StructuralSchema) : undefined);
    if (ps && child !== undefined) check(child, ps, join(path, key), errs);
  }
}

/**
 * Structural-schema checks on a CRD's schema (a subset of apiextensions' validation): every node
 * specifies a type unless it preserves unknown fields or is int-or-string, and defaults validate.
 */
export function structuralErrors(schema: StructuralSchema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const visit = (s: StructuralSchema, p: string, root: boolean) => {
    if (!isObject(s)) return;
    if (!root && !s.type && !preserves(s) && !s['x-kubernetes-int-or-string'] && !s['x-kubernetes-embedded-resource'])
      errs.push(required(`${p}.type`, 'must not be empty for specified object fields'));
    if (root && s.type !== undefined && s.type !== 'object') errs.push(invalid(`${p}.type`, s.type, 'must be object at the root'));
    if (s.properties && isObject(s.additionalProperties) ) errs.push(fieldForbiddenBoth(p));
    for (const [k, ps] of Object.entries(s.properties ?? {})) visit(ps, `${p}.properties[${k}]`, false);
    if (s.items) visit(s.items, `${p}.items`, false);
    if (isObject(s.additionalProperties)) visit(s.additionalProperties as StructuralSchema, `${p}.additionalProperties`, false);
    if (s.default !== undefined && !root) {
      const d = clone(s.default);
      for (const e of validate(d, { ...s, default: undefined }, '')) errs.push(invalid(`${p}.default`, s.default, e.field ? `${e.field}: ${e.detail ?? e.type}` : (e.detail ?? e.type)));
    }
  };
  visit(schema, path, true);
  return errs;
}

const fieldForbiddenBoth = (p: string): FieldError => ({ type: 'Forbidden', field: `${p}.additionalProperties`, detail: 'additionalProperties and properties are mutual exclusive' });
