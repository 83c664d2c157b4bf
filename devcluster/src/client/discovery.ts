// API discovery (/api, /apis and each group-version's resource list): which resources exist, their
// kinds, scope and verbs. The garbage collector needs it to watch every kind (including custom
// resources it never saw) and to resolve an ownerReference's apiVersion+kind to a REST path.
import type { ApiClient } from './apiClient.js';
import type { Resource } from './resources.js';

export interface DiscoveredResource extends Resource {
  verbs: string[];
  /** The group's preferred version serves this resource. */
  preferred: boolean;
}

interface ApiResourceList {
  groupVersion?: string;
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

interface ApiGroupList {
  groups?: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion?: { version: string } }[];
}

export async function discoverResources(client: ApiClient): Promise<DiscoveredResource[]> {
  const out: DiscoveredResource[] = [];
  const versions: { group: string; version: string; preferred: boolean }[] = [];
  const core = await client.json<{ versions?: string[] }>('GET', '/api');
  for (const v of core.versions ?? ['v1']) versions.push({ group: '', version: v, preferred: v === 'v1' });
  const groups = await client.json<ApiGroupList>('GET', '/apis');
  for (const g of groups.groups ?? []) {
    const preferred = g.preferredVersion?.version ?? g.versions[0]?.version;
    for (const v of g.versions) versions.push({ group: g.name, version: v.version, preferred: v.version === preferred });
  }
  const lists = await Promise.all(
    versions.map(async (gv) => {
      try {
        const path = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
        return { gv, list: await client.json<ApiResourceList>('GET', path) };
      } catch {
        // A group-version that fails discovery (e.g. a CRD being removed) is skipped, as client-go does.
        return { gv, list: {} as ApiResourceList };
      }
    }),
  );
  for (const { gv, list } of lists) {
    for (const r of list.resources ?? []) {
      if (r.name.includes('/')) continue; // subresources
      out.push({ group: gv.group, version: gv.version, plural: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [], preferred: gv.preferred });
    }
  }
  return out;
}

/** Resolves apiVersion + kind to a resource, as a RESTMapper does. */
export function resourceFor(resources: DiscoveredResource[], apiVersion: string, kind: string): DiscoveredResource | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return resources.find((r) => r.group === group && r.version === version && r.kind === kind) ?? resources.find((r) => r.group === group && r.kind === kind);
}
