// Create-only review APIs answered from the authenticator and the RBAC authorizer:
// SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview, LocalSubjectAccessReview,
// SelfSubjectRulesReview (`kubectl auth can-i --list`), SelfSubjectReview (`kubectl auth whoami`),
// TokenReview; and TokenRequest (serviceaccounts/<name>/token), which mints pod tokens.
import { API_AUDIENCE, type Authenticator } from './auth.js';
import { badRequest, conflict, invalid, invalidObject, notFound, type FieldError } from './errors.js';
import { rfc3339 } from './objects.js';
import type { RbacAuthorizer } from './rbac.js';
import { isObject, type ApiUser, type JsonObject, type KObject } from './types.js';

export interface ReviewDeps {
  authn: Authenticator;
  rbac: RbacAuthorizer;
  now(): Date;
  lookup(storageKey: string, namespace: string | undefined, name: string): KObject | undefined;
}

const obj = (v: unknown): JsonObject => (isObject(v) ? v : {});

function accessReview(d: ReviewDeps, user: ApiUser, spec: JsonObject, forcedNamespace?: string): JsonObject {
  const ra = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (!ra && !nra) throw invalidObject({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview' }, '', [invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')]);
  const allowed = ra
    ? d.rbac.authorize({
        user,
        verb: String(ra.verb ?? ''),
        isResourceRequest: true,
        path: '',
        apiGroup: String(ra.group ?? ''),
        resource: String(ra.resource ?? ''),
        subresource: String(ra.subresource ?? ''),
        namespace: forcedNamespace ?? String(ra.namespace ?? ''),
        name: String(ra.name ?? ''),
      })
    : d.rbac.authorize({ user, verb: String(nra!.verb ?? ''), isResourceRequest: false, path: String(nra!.path ?? ''), apiGroup: '', resource: '', subresource: '', namespace: '', name: '' });
  const status: JsonObject = { allowed };
  if (allowed) status.reason = user.groups.includes('system:masters') ? 'allowed by privileged group "system:masters"' : 'RBAC: allowed';
  return status;
}

export function review(d: ReviewDeps, kind: string, user: ApiUser, body: unknown, namespace: string): JsonObject {
  const b = obj(body);
  const spec = obj(b.spec);
  const group = kind.endsWith('TokenReview') || kind === 'SelfSubjectReview' ? 'authentication.k8s.io' : 'authorization.k8s.io';
  const out: JsonObject = { kind, apiVersion: `${group}/v1`, metadata: { ...obj(b.metadata), creationTimestamp: null }, spec };
  switch (kind) {
    case 'SelfSubjectAccessReview':
      out.status = accessReview(d, user, spec);
      break;
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      const subject: ApiUser = { username: String(spec.user ?? ''), groups: Array.isArray(spec.groups) ? (spec.groups as string[]) : [], uid: spec.uid as string | undefined };
      out.status = accessReview(d, subject, spec, kind === 'LocalSubjectAccessReview' ? namespace : undefined);
      break;
    }
    case 'SelfSubjectRulesReview': {
      const ns = String(spec.namespace ?? '');
      const rules = user.groups.includes('system:masters') ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }] : d.rbac.rulesFor(user, ns);
      out.status = {
        resourceRules: rules.filter((r) => !r.nonResourceURLs).map((r) => ({ verbs: r.verbs ?? [], apiGroups: r.apiGroups, resources: r.resources, resourceNames: r.resourceNames })),
        nonResourceRules: rules.filter((r) => r.nonResourceURLs).map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs })),
        incomplete: false,
      };
      break;
    }
    case 'SelfSubjectReview':
      delete out.spec;
      out.status = { userInfo: { username: user.username, uid: user.uid, groups: user.groups, extra: user.extra } };
      break;
    case 'TokenReview': {
      const token = String(spec.token ?? '');
      const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? (spec.audiences as string[]) : [API_AUDIENCE];
      const who = d.authn.authenticate(`Bearer ${token}`, audiences);
      out.status = who ? { authenticated: true, user: { username: who.username, uid: who.uid, groups: who.groups, extra: who.extra }, audiences } : { authenticated: false, error: 'invalid bearer token' };
      break;
    }
    default:
      throw badRequest(`unsupported review kind ${kind}`);
  }
  return out;
}

/** POST serviceaccounts/<name>/token: a bound ServiceAccount token (TokenRequest). */
export function tokenRequest(d: ReviewDeps, namespace: string, serviceAccount: string, body: unknown): JsonObject {
  const sa = d.lookup('/serviceaccounts', namespace, serviceAccount);
  if (!sa) throw notFound({ group: '', resource: 'serviceaccounts' }, serviceAccount);
  const spec = obj(obj(body).spec);
  const errs: FieldError[] = [];
  const exp = spec.expirationSeconds === undefined ? 3600 : Number(spec.expirationSeconds);
  if (!Number.isInteger(exp) || exp < 600) errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (exp > 2 ** 32) errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  if (errs.length) throw invalidObject({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, serviceAccount, errs);
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? (spec.audiences as string[]) : [API_AUDIENCE];
  const claims: Parameters<Authenticator['mintServiceAccountToken']>[0] = {
    aud: audiences,
    exp: Math.floor(d.now().getTime() / 1000) + exp,
    'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: sa.metadata.uid! } },
  };
  const ref = isObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  if (ref) {
    if (ref.kind !== 'Pod' && ref.kind !== 'Secret') throw invalidObject({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, serviceAccount, [invalid('spec.boundObjectRef.kind', ref.kind, 'supported values: "Pod", "Secret"')]);
    const key = ref.kind === 'Pod' ? '/pods' : '/secrets';
    const bound = d.lookup(key, namespace, String(ref.name ?? ''));
    if (!bound) throw notFound({ group: '', resource: ref.kind === 'Pod' ? 'pods' : 'secrets' }, String(ref.name ?? ''));
    if (ref.uid && ref.uid !== bound.metadata.uid)
      throw conflict({ group: '', resource: ref.kind === 'Pod' ? 'pods' : 'secrets' }, String(ref.name), `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
    const link = { name: bound.metadata.name!, uid: bound.metadata.uid! };
    if (ref.kind === 'Pod') claims['kubernetes.io'].pod = link;
    else claims['kubernetes.io'].secret = link;
  }
  const token = d.authn.mintServiceAccountToken(claims);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: serviceAccount, namespace, creationTimestamp: rfc3339(d.now()) },
    spec: { ...spec, audiences, expirationSeconds: exp },
    status: { token, expirationTimestamp: rfc3339(new Date(claims.exp * 1000)) },
  };
}
