// Legacy discovery documents (/api, /apis, /apis/<group>, per group-version resource lists), derived
// from the registry. Clients that ask for aggregated discovery first (kubectl 1.32 does) get the legacy
// shape and fall back to per-group-version requests, as they do against older servers.
import { createHash } from 'node:crypto';
import { compareKubeVersions, groupVersion, type Registry, type ResourceType } from './registry.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.3',
  gitCommit: 'devcluster',
  gitTreeState: 'clean',
  buildDate: '2025-03-11T00:00:00Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** Kind (and group/version when not the parent's) that a subresource reads and writes. */
const subresourceKinds: Record<string, { kind: string; group?: string; version?: string }> = {
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1' },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1' },
  binding: { kind: 'Binding' },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1' },
};

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(name: string, versions: string[]): object {
  const sorted = [...versions].sort(compareKubeVersions);
  const gv = (v: string) => ({ groupVersion: `${name}/${v}`, version: v });
  return { name, versions: sorted.map(gv), preferredVersion: gv(sorted[0]!) };
}

export function apiGroupList(registry: Registry): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((g) => groupEntry(g.name, g.versions)) };
}

export function apiGroup(registry: Registry, name: string): object | undefined {
  const g = registry.groups().find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.name, g.versions) } : undefined;
}

const hash = (s: string) => createHash('sha256').update(s).digest('base64').slice(0, 11);

function resourceEntries(rt: ResourceType): object[] {
  const main: Record<string, unknown> = {
    name: rt.plural,
    singularName: rt.singular,
    namespaced: rt.namespaced,
    kind: rt.kind,
    verbs: rt.verbs,
  };
  if (rt.shortNames.length) main.shortNames = rt.shortNames;
  if (rt.categories.length) main.categories = rt.categories;
  if (!rt.virtual) main.storageVersionHash = hash(`${rt.storageKey}/${rt.kind}`);
  const subs = Object.entries(rt.subresources).map(([sub, verbs]) => {
    const k = subresourceKinds[sub];
    const e: Record<string, unknown> = { name: `${rt.plural}/${sub}`, singularName: '', namespaced: rt.namespaced, kind: k?.kind ?? rt.kind, verbs };
    if (k?.group !== undefined) {
      e.group = k.group;
      e.version = k.version;
    }
    return e;
  });
  return [main, ...subs];
}

export function apiResourceList(registry: Registry, group: string, version: string): object | undefined {
  if (!registry.hasGroupVersion(group, version)) return undefined;
  const resources = registry
    .resources(group, version)
    .sort((a, b) => (a.plural < b.plural ? -1 : 1))
    .flatMap(resourceEntries);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}
