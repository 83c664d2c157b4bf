// The RBAC authorizer (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac), evaluated on every request
// against the Roles, ClusterRoles and bindings currently stored. system:masters bypasses it, as the
// real apiserver's privileged group does. ClusterRoles with an aggregationRule get the rules of the
// ClusterRoles their selectors match (computed on read, where the real aggregation controller stores them).
import { fromLabelSelectorObject, labelsMatch } from './selectors.js';
import type { ApiUser, KObject } from './types.js';

export interface Attributes {
  user: ApiUser;
  verb: string;
  isResourceRequest: boolean;
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RbacObjects {
  clusterRoleBindings(): KObject[];
  roleBindings(namespace: string): KObject[];
  clusterRoles(): KObject[];
  role(namespace: string, name: string): KObject | undefined;
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

function subjectMatches(s: Subject, user: ApiUser, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return !!s.name && user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) return nonResourceMatches(rule, a.path);
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  if (!resourceMatches(rule, a.resource, a.subresource)) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) return !!a.name && rule.resourceNames.includes(a.name);
  return true;
}

const rulesOf = (o: KObject | undefined): PolicyRule[] => ((o?.rules as PolicyRule[] | undefined) ?? []).filter((r) => r && typeof r === 'object');

export class RbacAuthorizer {
  constructor(private readonly objects: RbacObjects) {}

  /** Rules of a ClusterRole including, for aggregated ones, the rules of every ClusterRole they select. */
  clusterRoleRules(name: string, all = this.objects.clusterRoles(), seen = new Set<string>()): PolicyRule[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const role = all.find((r) => r.metadata.name === name);
    if (!role) return [];
    const rules = [...rulesOf(role)];
    const agg = role.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined;
    for (const sel of agg?.clusterRoleSelectors ?? []) {
      const reqs = fromLabelSelectorObject(sel as never);
      for (const other of all) {
        if (other.metadata.name !== name && reqs.length > 0 && labelsMatch(reqs, other.metadata.labels)) rules.push(...this.clusterRoleRules(other.metadata.name!, all, seen));
      }
    }
    return rules;
  }

  /** Every rule that applies to `user` for requests in `namespace` ('' = cluster scope only). */
  rulesFor(user: ApiUser, namespace: string): PolicyRule[] {
    const all = this.objects.clusterRoles();
    const rules: PolicyRule[] = [];
    const refRules = (ref: { kind?: string; name?: string } | undefined, ns: string) => {
      if (!ref?.name) return [];
      if (ref.kind === 'ClusterRole') return this.clusterRoleRules(ref.name, all);
      if (ref.kind === 'Role' && ns) return rulesOf(this.objects.role(ns, ref.name));
      return [];
    };
    for (const b of this.objects.clusterRoleBindings()) {
      if (((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user, ''))) rules.push(...refRules(b.roleRef as never, ''));
    }
    if (namespace) {
      for (const b of this.objects.roleBindings(namespace)) {
        if (((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user, namespace))) rules.push(...refRules(b.roleRef as never, namespace));
      }
    }
    return rules;
  }

  authorize(a: Attributes): boolean {
    if (a.user.groups.includes('system:masters')) return true;
    const ns = a.isResourceRequest ? a.namespace : '';
    return this.rulesFor(a.user, ns).some((r) => ruleAllows(r, a));
  }
}

/** The Forbidden reason text of the real apiserver (responsewriters.forbiddenMessage). */
export function forbiddenReason(a: Attributes): string {
  if (!a.isResourceRequest) return `User "${a.user.username}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (a.namespace) return `User "${a.user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" in the namespace "${a.namespace}"`;
  return `User "${a.user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" at the cluster scope`;
}
