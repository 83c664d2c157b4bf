// Request bodies in Kubernetes' protobuf encoding, for the few kinds kubectl's typed clients send that
// way: `kubectl auth can-i` / `auth whoami` (SelfSubject*Review), `kubectl create token`
// (TokenRequest), `kubectl create namespace|serviceaccount|configmap|secret|role|rolebinding|
// clusterrole|clusterrolebinding`, and the DeleteOptions of helm's typed deletes.
//
// Envelope: the 4 bytes "k8s\0", then runtime.Unknown { typeMeta{apiVersion, kind} = 1, raw = 2 },
// where `raw` is the object's generated.proto message. Only the messages below are known; anything
// else is refused with 415 as before (use JSON/YAML manifests). Responses are always JSON, which these
// clients accept.
import { ApiError, status } from './errors.js';

type FieldType = 'string' | 'int' | 'bool' | 'bytes' | 'time' | { msg: Message } | { map: 'string' | 'bytes' };
type Message = Record<number, [name: string, type: FieldType, repeated?: boolean]>;

const Time: FieldType = 'time';
const ownerReference: Message = { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] };
const objectMeta: Message = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int'],
  8: ['creationTimestamp', Time],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  13: ['ownerReferences', { msg: ownerReference }, true],
  14: ['finalizers', 'string', true],
};
const meta: [string, FieldType] = ['metadata', { msg: objectMeta }];
const resourceAttributes: Message = {
  1: ['namespace', 'string'],
  2: ['verb', 'string'],
  3: ['group', 'string'],
  4: ['version', 'string'],
  5: ['resource', 'string'],
  6: ['subresource', 'string'],
  7: ['name', 'string'],
};
const nonResourceAttributes: Message = { 1: ['path', 'string'], 2: ['verb', 'string'] };
const localObjectReference: Message = { 1: ['name', 'string'] };

const deleteOptions: Message = {
  1: ['gracePeriodSeconds', 'int'],
  2: ['preconditions', { msg: { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] } }],
  3: ['orphanDependents', 'bool'],
  4: ['propagationPolicy', 'string'],
  5: ['dryRun', 'string', true],
};

const policyRule: Message = { 1: ['verbs', 'string', true], 2: ['apiGroups', 'string', true], 3: ['resources', 'string', true], 4: ['resourceNames', 'string', true], 5: ['nonResourceURLs', 'string', true] };
const binding: Message = {
  1: meta,
  2: ['subjects', { msg: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] } }, true],
  3: ['roleRef', { msg: { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] } }],
};

const kinds: Record<string, Message> = {
  'rbac.authorization.k8s.io/v1/Role': { 1: meta, 2: ['rules', { msg: policyRule }, true] },
  'rbac.authorization.k8s.io/v1/ClusterRole': { 1: meta, 2: ['rules', { msg: policyRule }, true] },
  'rbac.authorization.k8s.io/v1/RoleBinding': binding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': binding,
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: meta,
    2: ['spec', { msg: { 1: ['resourceAttributes', { msg: resourceAttributes }], 2: ['nonResourceAttributes', { msg: nonResourceAttributes }] } }],
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': { 1: meta, 2: ['spec', { msg: { 1: ['namespace', 'string'] } }] },
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: meta },
  'authentication.k8s.io/v1/TokenRequest': {
    1: meta,
    2: [
      'spec',
      {
        msg: {
          1: ['audiences', 'string', true],
          3: ['boundObjectRef', { msg: { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] } }],
          4: ['expirationSeconds', 'int'],
        },
      },
    ],
  },
  'meta.k8s.io/v1/DeleteOptions': deleteOptions,
  'v1/DeleteOptions': deleteOptions,
  'v1/Namespace': { 1: meta, 2: ['spec', { msg: { 1: ['finalizers', 'string', true] } }] },
  'v1/ServiceAccount': { 1: meta, 2: ['secrets', { msg: localObjectReference }, true], 3: ['imagePullSecrets', { msg: localObjectReference }, true], 4: ['automountServiceAccountToken', 'bool'] },
  'v1/ConfigMap': { 1: meta, 2: ['data', { map: 'string' }], 3: ['binaryData', { map: 'bytes' }], 4: ['immutable', 'bool'] },
  'v1/Secret': { 1: meta, 2: ['data', { map: 'bytes' }], 3: ['type', 'string'], 4: ['stringData', { map: 'string' }], 5: ['immutable', 'bool'] },
};

interface RawField {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(b: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const byte = b[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(b: Buffer): RawField[] {
  const out: RawField[] = [];
  let pos = 0;
  while (pos < b.length) {
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(b, pos);
      out.push({ field, wire, varint: v });
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(b, pos);
      const end = p2 + Number(len);
      out.push({ field, wire, bytes: b.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

function decodeValue(f: RawField, type: FieldType): unknown {
  if (type === 'string') return f.bytes?.toString('utf8') ?? '';
  if (type === 'bytes') return f.bytes?.toString('base64') ?? '';
  if (type === 'int') return Number(BigInt.asIntN(64, f.varint ?? 0n));
  if (type === 'bool') return f.varint !== 0n;
  if (type === 'time') {
    let seconds = 0;
    for (const t of fields(f.bytes ?? Buffer.alloc(0))) if (t.field === 1) seconds = Number(t.varint);
    return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if ('msg' in type) return decodeMessage(f.bytes ?? Buffer.alloc(0), type.msg);
  throw new Error('map value outside a map');
}

function decodeMessage(b: Buffer, schema: Message): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(b)) {
    const spec = schema[f.field];
    if (!spec) continue;
    const [name, type, repeated] = spec;
    if (typeof type === 'object' && 'map' in type) {
      let key = '';
      let value: unknown = '';
      for (const e of fields(f.bytes ?? Buffer.alloc(0))) {
        if (e.field === 1) key = e.bytes?.toString('utf8') ?? '';
        if (e.field === 2) value = type.map === 'bytes' ? (e.bytes ?? Buffer.alloc(0)).toString('base64') : (e.bytes?.toString('utf8') ?? '');
      }
      const m = (out[name] ??= {}) as Record<string, unknown>;
      m[key] = value;
    } else if (repeated) ((out[name] ??= []) as unknown[]).push(decodeValue(f, type));
    else {
      const v = decodeValue(f, type);
      // Go writes empty strings of plain string fields; their JSON form omits them (omitempty).
      if (v !== '') out[name] = v;
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `application/vnd.kubernetes.protobuf` body into its JSON form. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  const unsupported = (what: string) =>
    new ApiError(status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf is understood only for a few kinds; ${what})`));
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupported('missing the k8s protobuf envelope');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.field === 1) {
      for (const t of fields(f.bytes!)) {
        if (t.field === 1) apiVersion = t.bytes!.toString('utf8');
        if (t.field === 2) kind = t.bytes!.toString('utf8');
      }
    } else if (f.field === 2) raw = f.bytes!;
  }
  const schema = kinds[`${apiVersion}/${kind}`];
  if (!schema) throw unsupported(`not ${apiVersion} ${kind}: send it as JSON or YAML`);
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}
