// The resource types the server serves: built-ins from a table (builtins.ts) plus, at run time, one
// entry per served version of every established CustomResourceDefinition (crds.ts). Everything else
// — routing, discovery, OpenAPI, RBAC names, Table output — is derived from these entries.
import type { FieldError } from './errors.js';
import type { KObject } from './types.js';
import type { StructuralSchema } from './schema.js';

export interface StrategyContext {
  now(): Date;
  allocateClusterIP(): string;
}

/** Per-type behaviour the generic handlers call, like the registry strategies of kube-apiserver. */
export interface Strategy {
  /** Defaults and generated fields on create (mutates `obj`). */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /** Defaults and carried-over fields on update (mutates `obj`). */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** Validation after defaulting; `old` is set on update. */
  validate?(obj: KObject, old: KObject | undefined): FieldError[];
}

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

export interface CustomResourceInfo {
  crdName: string;
  schema?: StructuralSchema;
  /** Raw openAPIV3Schema of this version, for /openapi/v3 and kubectl explain. */
  openAPIV3Schema?: Record<string, unknown>;
  printerColumns: PrinterColumn[];
  /** The version objects are stored in; reads in another version only change apiVersion (conversion strategy None). */
  storageVersion: string;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  selectableFields: string[];
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Subresource name → verbs. */
  subresources: Record<string, string[]>;
  /** Has a `status` subresource: the main resource ignores status, /status ignores the rest. */
  hasStatus: boolean;
  /** Objects of every version (and alias group) of one resource share this storage key. */
  storageKey: string;
  /** Maintains metadata.generation. */
  generation: boolean;
  strategy?: Strategy;
  /** Field-selector fields beyond metadata.name and metadata.namespace. */
  fields?: (obj: KObject) => Record<string, string>;
  /** events.k8s.io/v1 shares core/v1 Event storage in another shape. */
  representation?: { toExternal(obj: KObject): KObject; toInternal(obj: KObject): KObject; fieldAlias?: Record<string, string> };
  crd?: CustomResourceInfo;
  /** Create-only review resources (SelfSubjectAccessReview, TokenReview...): nothing is stored. */
  virtual?: boolean;
  /** DELETE answers with the object rather than a Success Status (pods, namespaces, custom resources). */
  returnDeletedObject?: boolean;
  /** propagationPolicy when the client sends none (batch/v1 Job: Orphan, for backward compatibility). */
  defaultPropagation?: 'Orphan' | 'Background';
  /** Pods: DELETE is graceful (deletionTimestamp in the future, the kubelet finishes it). */
  gracefulDelete?: boolean;
}

export const groupVersion = (rt: { group: string; version: string }): string => (rt.group ? `${rt.group}/${rt.version}` : rt.version);
export const gvKey = (group: string, version: string): string => `${group}/${version}`;

/** Kubernetes version priority: v1 > v1beta2 > v1beta1 > v1alpha1 > other (apimachinery's CompareKubeAwareVersionStrings). */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return { kind: 0, major: 0, minor: 0 };
    return { kind: m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, major: Number(m[1]), minor: Number(m[3] ?? 0) };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa.kind !== pb.kind) return pb.kind - pa.kind;
  if (pa.kind === 0) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.major !== pb.major) return pb.major - pa.major;
  return pb.minor - pa.minor;
}

export class Registry {
  private readonly byGv = new Map<string, Map<string, ResourceType>>();
  /** Bumped on every change so discovery and OpenAPI documents can be cached. */
  generation = 0;

  register(rt: ResourceType): void {
    const key = gvKey(rt.group, rt.version);
    let m = this.byGv.get(key);
    if (!m) this.byGv.set(key, (m = new Map()));
    m.set(rt.plural, rt);
    this.generation++;
  }

  unregister(group: string, version: string, plural: string): void {
    const key = gvKey(group, version);
    const m = this.byGv.get(key);
    if (!m) return;
    m.delete(plural);
    if (m.size === 0) this.byGv.delete(key);
    this.generation++;
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byGv.get(gvKey(group, version))?.get(plural);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.byGv.has(gvKey(group, version));
  }

  resources(group: string, version: string): ResourceType[] {
    return [...(this.byGv.get(gvKey(group, version))?.values() ?? [])];
  }

  all(): ResourceType[] {
    return [...this.byGv.values()].flatMap((m) => [...m.values()]);
  }

  /** Groups (core excluded) with their versions, preferred (highest priority) first. */
  groups(): { name: string; versions: string[] }[] {
    const groups = new Map<string, Set<string>>();
    for (const key of this.byGv.keys()) {
      const slash = key.lastIndexOf('/');
      const group = key.slice(0, slash);
      if (!group) continue;
      if (!groups.has(group)) groups.set(group, new Set());
      groups.get(group)!.add(key.slice(slash + 1));
    }
    return [...groups.entries()].map(([name, vs]) => ({ name, versions: [...vs].sort(compareKubeVersions) }));
  }

  /** Every served type that stores into `storageKey`. */
  byStorage(storageKey: string): ResourceType[] {
    return this.all().filter((rt) => rt.storageKey === storageKey);
  }

  /** The resource type of a kind in a group/version, for ownerReferences and review requests. */
  forKind(group: string, version: string, kind: string): ResourceType | undefined {
    return this.resources(group, version).find((rt) => rt.kind === kind);
  }
}
