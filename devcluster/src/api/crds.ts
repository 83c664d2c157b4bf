// CustomResourceDefinitions: validation of the CRD itself, and the in-server controller that turns
// an accepted CRD into served resources — the naming, establishing and finalizing controllers of
// apiextensions-apiserver folded into one:
//
//   CRD written ──▶ names conflict? ──yes──▶ NamesAccepted=False, not served
//                        │ no
//                        ▼
//                  register every served version ──▶ NamesAccepted=True, Established=True
//   CRD deleted ──▶ Terminating=True ──▶ delete every custom resource ──▶ drop the finalizer ──▶ unregister
import { immutable, invalid, notSupported, required, type FieldError } from './errors.js';
import { jsonPathValues } from './jsonpath.js';
import { rfc3339, type Objects } from './objects.js';
import { deleteObject } from './deletion.js';
import type { CustomResourceInfo, PrinterColumn, Registry, ResourceType, Strategy } from './registry.js';
import { structuralErrors, type StructuralSchema } from './schema.js';
import { isObject, jsonEqual, type JsonObject, type KObject } from './types.js';
import type { WatchHub } from './watchHub.js';

export const CRD_STORAGE_KEY = 'apiextensions.k8s.io/customresourcedefinitions';
export const CRD_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface CrdNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JsonObject };
  subresources?: { status?: JsonObject; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: { jsonPath: string }[];
}

interface CrdSpec {
  group: string;
  names: CrdNames;
  scope: string;
  versions: CrdVersion[];
}

const specOf = (crd: KObject): CrdSpec => (isObject(crd.spec) ? crd.spec : {}) as unknown as CrdSpec;

export const crdStrategy: Strategy = {
  prepareForCreate(o) {
    defaultCrd(o);
    o.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
    const f = o.metadata.finalizers ?? [];
    if (!f.includes(CRD_FINALIZER)) o.metadata.finalizers = [...f, CRD_FINALIZER];
  },
  prepareForUpdate(o) {
    defaultCrd(o);
  },
  validate(o, old) {
    const errs: FieldError[] = [];
    const s = specOf(o);
    if (!s.group) errs.push(required('spec.group'));
    else if (!s.group.includes('.')) errs.push(invalid('spec.group', s.group, 'should be a domain with at least one dot'));
    if (!s.names?.plural) errs.push(required('spec.names.plural'));
    else if (s.names.plural !== s.names.plural.toLowerCase()) errs.push(invalid('spec.names.plural', s.names.plural, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\''));
    if (!s.names?.kind) errs.push(required('spec.names.kind'));
    if (s.group && s.names?.plural && o.metadata.name !== `${s.names.plural}.${s.group}`) errs.push(invalid('metadata.name', o.metadata.name, 'must be spec.names.plural+"."+spec.group'));
    if (s.scope !== 'Namespaced' && s.scope !== 'Cluster') errs.push(notSupported('spec.scope', s.scope ?? '', ['Cluster', 'Namespaced']));
    const versions = Array.isArray(s.versions) ? s.versions : [];
    if (versions.length === 0) errs.push(required('spec.versions', 'must have exactly one version marked as storage version'));
    else if (versions.filter((v) => v.storage).length !== 1) errs.push(invalid('spec.versions', versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
    versions.forEach((v, i) => {
      const p = `spec.versions[${i}]`;
      if (!v.name) errs.push(required(`${p}.name`));
      const schema = v.schema?.openAPIV3Schema;
      if (!isObject(schema)) errs.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
      else errs.push(...structuralErrors(schema as StructuralSchema, `${p}.schema.openAPIV3Schema`));
    });
    if (old) {
      const os = specOf(old);
      if (os.group !== s.group) errs.push(immutable('spec.group', s.group));
      if (os.scope !== s.scope) errs.push(immutable('spec.scope', s.scope));
    }
    return errs;
  },
};

function defaultCrd(o: KObject): void {
  const s = specOf(o);
  if (isObject(s.names) && s.names.kind) {
    s.names.singular ||= s.names.kind.toLowerCase();
    s.names.listKind ||= `${s.names.kind}List`;
  }
  (s as unknown as JsonObject).conversion ??= { strategy: 'None' };
  for (const v of Array.isArray(s.versions) ? s.versions : []) {
    for (const c of v.additionalPrinterColumns ?? []) c.priority ??= 0;
  }
}

/** The served ResourceType of one version of an accepted CRD. */
export function resourceTypeFor(crd: KObject, v: CrdVersion): ResourceType {
  const s = specOf(crd);
  const storage = s.versions.find((x) => x.storage)!;
  const subresources: Record<string, string[]> = {};
  if (v.subresources?.status) subresources.status = ['get', 'patch', 'update'];
  if (v.subresources?.scale) subresources.scale = ['get', 'patch', 'update'];
  const selectable = (v.selectableFields ?? []).map((f) => f.jsonPath);
  const info: CustomResourceInfo = {
    crdName: crd.metadata.name!,
    schema: v.schema?.openAPIV3Schema as StructuralSchema | undefined,
    openAPIV3Schema: v.schema?.openAPIV3Schema,
    printerColumns: v.additionalPrinterColumns ?? [],
    storageVersion: storage.name,
    scale: v.subresources?.scale,
    selectableFields: selectable,
  };
  return {
    group: s.group,
    version: v.name,
    kind: s.names.kind,
    listKind: s.names.listKind ?? `${s.names.kind}List`,
    plural: s.names.plural,
    singular: s.names.singular ?? s.names.kind.toLowerCase(),
    namespaced: s.scope === 'Namespaced',
    shortNames: s.names.shortNames ?? [],
    categories: s.names.categories ?? [],
    verbs: ALL_VERBS,
    subresources,
    hasStatus: 'status' in subresources,
    storageKey: `${s.group}/${s.names.plural}`,
    generation: true,
    returnDeletedObject: true,
    crd: info,
    fields: selectable.length
      ? (o) => Object.fromEntries(selectable.map((p) => [p.replace(/^\./, ''), String(jsonPathValues(p, o)[0] ?? '')]))
      : undefined,
  };
}

function condition(type: string, status: string, reason: string, message: string, now: Date, prev: JsonObject[]): JsonObject {
  const old = prev.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status ? old.lastTransitionTime : rfc3339(now);
  return { type, status, lastTransitionTime, reason, message };
}

export class CrdController {
  private readonly served = new Map<string, ResourceType[]>();
  private pending = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly objects: Objects,
    private readonly registry: Registry,
    private readonly hub: WatchHub,
    private readonly log: (line: string) => void,
  ) {}

  start(): () => void {
    const unsubCrd = this.hub.subscribe(CRD_STORAGE_KEY, (ev) => this.enqueue(ev.object.metadata.name!));
    return unsubCrd;
  }

  private crdType(): ResourceType {
    return this.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  }

  private enqueue(name: string): void {
    this.pending.add(name);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const names = [...this.pending];
      this.pending.clear();
      for (const n of names) {
        try {
          this.reconcile(n);
        } catch (e) {
          this.log(`crd controller: ${n}: ${(e as Error).message}`);
        }
      }
    });
  }

  /** Is any custom resource of this CRD still stored? (checked by the finalizer) */
  private remaining(storageKey: string): number {
    return this.objects.store.count(storageKey);
  }

  reconcile(name: string): void {
    const rt = this.crdType();
    const stored = this.objects.store.get(CRD_STORAGE_KEY, undefined, name);
    if (!stored) {
      this.unserve(name);
      return;
    }
    const crd = this.objects.toExternal(rt, stored);
    const s = specOf(crd);
    const now = this.objects.now();
    const prev = (isObject(crd.status) && Array.isArray(crd.status.conditions) ? crd.status.conditions : []) as JsonObject[];
    const storageKey = `${s.group}/${s.names.plural}`;

    if (crd.metadata.deletionTimestamp) {
      const left = this.remaining(storageKey);
      const types = this.served.get(name) ?? [];
      if (left > 0 && types[0]) {
        for (const { object } of this.objects.store.list(storageKey)) {
          if (object.metadata.deletionTimestamp) continue;
          deleteObject(this.objects, types[0], object.metadata.namespace, object.metadata.name!, { propagationPolicy: 'Background' });
        }
      }
      const stillLeft = this.remaining(storageKey);
      const conditions = [
        ...prev.filter((c) => c.type !== 'Terminating'),
        condition('Terminating', 'True', stillLeft > 0 ? 'InstanceDeletionInProgress' : 'InstanceDeletionCompleted', stillLeft > 0 ? `CustomResource deletion is in progress` : 'removed all instances', now, prev),
      ];
      const next: KObject = { ...crd, status: { ...(crd.status as JsonObject), conditions } };
      if (stillLeft === 0) next.metadata = { ...crd.metadata, finalizers: (crd.metadata.finalizers ?? []).filter((f) => f !== CRD_FINALIZER) };
      if (!next.metadata.finalizers?.length) delete next.metadata.finalizers;
      if (!jsonEqual(next, crd)) this.objects.writeInternal(rt, next, stored);
      if (stillLeft > 0) {
        // Custom resources held by their own finalizers: look again once they change.
        const unsub = this.hub.subscribe(storageKey, () => {
          unsub();
          this.enqueue(name);
        });
      }
      return;
    }

    const conflict = this.namesConflict(name, s);
    let conditions: JsonObject[];
    let acceptedNames: JsonObject;
    if (conflict) {
      conditions = [condition('NamesAccepted', 'False', conflict.reason, conflict.message, now, prev), condition('Established', 'False', 'NotAccepted', 'not all names are accepted', now, prev)];
      acceptedNames = isObject(crd.status) && isObject(crd.status.acceptedNames) ? crd.status.acceptedNames : { plural: '', kind: '' };
      this.unserve(name);
    } else {
      this.serve(name, crd);
      conditions = [condition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', now, prev), condition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', now, prev)];
      acceptedNames = { ...s.names } as unknown as JsonObject;
    }
    const storageVersion = s.versions.find((v) => v.storage)?.name;
    const oldStored = (isObject(crd.status) && Array.isArray(crd.status.storedVersions) ? crd.status.storedVersions : []) as string[];
    const storedVersions = storageVersion && !oldStored.includes(storageVersion) ? [...oldStored, storageVersion] : oldStored;
    const status = { ...(isObject(crd.status) ? crd.status : {}), conditions, acceptedNames, storedVersions };
    const next: KObject = { ...crd, status };
    if (!jsonEqual(next.status, crd.status)) this.objects.writeInternal(rt, next, stored);
  }

  private namesConflict(name: string, s: CrdSpec): { reason: string; message: string } | undefined {
    for (const other of this.registry.all()) {
      if (other.group !== s.group || other.crd?.crdName === name) continue;
      if (other.plural === s.names.plural) return { reason: 'PluralConflict', message: `"${s.names.plural}" is already in use` };
      if (other.kind === s.names.kind) return { reason: 'KindConflict', message: `"${s.names.kind}" is already in use` };
    }
    return undefined;
  }

  private serve(name: string, crd: KObject): void {
    this.unserve(name);
    const s = specOf(crd);
    const types = s.versions.filter((v) => v.served).map((v) => resourceTypeFor(crd, v));
    for (const t of types) this.registry.register(t);
    this.served.set(name, types);
  }

  private unserve(name: string): void {
    for (const t of this.served.get(name) ?? []) this.registry.unregister(t.group, t.version, t.plural);
    this.served.delete(name);
  }

  /** The CRD behind a custom resource type, to refuse creates while it terminates. */
  isTerminating(rt: ResourceType): boolean {
    if (!rt.crd) return false;
    return !!this.objects.store.get(CRD_STORAGE_KEY, undefined, rt.crd.crdName)?.metadata.deletionTimestamp;
  }
}
