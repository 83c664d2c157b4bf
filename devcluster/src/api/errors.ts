// Errors as the real kube-apiserver words them (k8s.io/apimachinery/pkg/api/errors and
// pkg/util/validation/field), so kubectl, helm and client libraries print and classify them exactly
// as they would against a real cluster.
import type { Status, StatusCause } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
    this.name = 'ApiError';
  }
  get code(): number {
    return this.status.code;
  }
}

export interface GroupResource {
  group: string;
  resource: string;
}

export interface GroupKind {
  group: string;
  kind: string;
}

/** `jobs.batch`, `pods`. */
export const qualifiedResource = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);
/** `Job.batch`, `Pod`. */
export const qualifiedKind = (gk: GroupKind): string => (gk.group ? `${gk.kind}.${gk.group}` : gk.kind);

export function status(code: number, reason: string, message: string, details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

const err = (code: number, reason: string, message: string, details?: Status['details'], headers?: Record<string, string>) =>
  new ApiError(status(code, reason, message, details), headers);

export const notFound = (gr: GroupResource, name: string) =>
  err(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, { name, group: gr.group || undefined, kind: gr.resource });

export const alreadyExists = (gr: GroupResource, name: string) =>
  err(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, { name, group: gr.group || undefined, kind: gr.resource });

export const conflict = (gr: GroupResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  err(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, { name, group: gr.group || undefined, kind: gr.resource });

export const badRequest = (message: string) => err(400, 'BadRequest', message);

export const unauthorized = () => err(401, 'Unauthorized', 'Unauthorized');

export const forbidden = (gr: GroupResource | undefined, name: string, why: string) => {
  if (!gr || !gr.resource) return err(403, 'Forbidden', `forbidden: ${why}`);
  const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return err(403, 'Forbidden', `${subject} is forbidden: ${why}`, { name: name || undefined, group: gr.group || undefined, kind: gr.resource });
};

export const methodNotSupported = (gr: GroupResource, action: string) =>
  err(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`, { group: gr.group || undefined, kind: gr.resource });

export const gone = (message: string) => err(410, 'Expired', message);

export const tooOldResourceVersion = (requested: number, oldest: number) => gone(`too old resource version: ${requested} (${oldest})`);

export const unsupportedMediaType = (contentType: string, accepted: string[]) =>
  err(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, { causes: [{ reason: 'UnexpectedServerResponse', message: contentType }] });

export const requestEntityTooLarge = (limit: number) => err(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

export const tooManyRequests = (retryAfterSeconds: number) =>
  err(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });

export const internalError = (message: string) =>
  err(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export const notAcceptable = (accepted: string[]) =>
  err(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);

export const namespaceTerminating = (namespace: string) =>
  err(403, 'Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, {
    name: namespace,
    kind: 'namespaces',
    causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
  });

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export type FieldErrorType = 'Required' | 'Invalid' | 'NotSupported' | 'TooLong' | 'TooMany' | 'TypeInvalid' | 'Duplicate' | 'Forbidden' | 'NotFound';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  badValue?: unknown;
  /** Errors of some types print no value (Required, Forbidden, TooLong). */
  omitValue?: boolean;
  detail?: string;
}

const typeText: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  NotSupported: 'Unsupported value',
  TooLong: 'Too long',
  TooMany: 'Too many',
  TypeInvalid: 'Invalid value',
  Duplicate: 'Duplicate value',
  Forbidden: 'Forbidden',
  NotFound: 'Not found',
};

const causeType: Record<FieldErrorType, string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  TypeInvalid: 'FieldValueTypeInvalid',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
  NotFound: 'FieldValueNotFound',
};

/** Go's `%#v` / `%v` rendering of a decoded JSON value, as field errors print bad values. */
export function goValue(v: unknown, nested = false): string {
  if (v === null || v === undefined) return nested ? 'interface {}(nil)' : 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (Array.isArray(v)) return `[]interface {}{${v.map((x) => goValue(x, true)).join(', ')}}`;
  const entries = Object.keys(v as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${goValue((v as Record<string, unknown>)[k], true)}`);
  return `map[string]interface {}{${entries.join(', ')}}`;
}

/** The part after `field: ` — also the cause message in a Status. */
export function fieldErrorBody(e: FieldError): string {
  let s = typeText[e.type];
  const noValue = e.omitValue || e.type === 'Required' || e.type === 'Forbidden' || e.type === 'TooLong';
  if (!noValue) s += `: ${goValue(e.badValue)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export const fieldErrorString = (e: FieldError): string => `${e.field}: ${fieldErrorBody(e)}`;

export const required = (field: string, detail?: string): FieldError => ({ type: 'Required', field, detail });
export const invalid = (field: string, badValue: unknown, detail?: string): FieldError => ({ type: 'Invalid', field, badValue, detail });
export const notSupported = (field: string, badValue: unknown, supported: string[]): FieldError => ({
  type: 'NotSupported',
  field,
  badValue,
  detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : undefined,
});
export const fieldForbidden = (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail });
export const immutable = (field: string, badValue: unknown): FieldError => ({ type: 'Invalid', field, badValue, detail: 'field is immutable' });

/** 422 Invalid, worded as apierrors.NewInvalid: `Job.batch "x" is invalid: [a: ..., b: ...]`. */
export function invalidObject(gk: GroupKind, name: string, errors: FieldError[]): ApiError {
  const causes: StatusCause[] = errors.map((e) => ({ reason: causeType[e.type], message: fieldErrorBody(e), field: e.field }));
  const parts = errors.map(fieldErrorString);
  const agg = parts.length === 0 ? '' : parts.length === 1 ? `: ${parts[0]}` : `: [${parts.join(', ')}]`;
  return err(422, 'Invalid', `${qualifiedKind(gk)} "${name}" is invalid${agg}`, { name, group: gk.group || undefined, kind: gk.kind, causes });
}
