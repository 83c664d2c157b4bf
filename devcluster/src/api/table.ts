// Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns
// kube-apiserver's printers define for built-ins, and a CRD's additionalPrinterColumns evaluated by
// JSONPath, so `kubectl get` prints what it prints against a real cluster.
import { jsonPathValues } from './jsonpath.js';
import type { PrinterColumn, ResourceType } from './registry.js';
import { isObject, type JsonObject, type KObject } from './types.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

/** apimachinery's duration.HumanDuration, as printed in AGE columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

type Getter = (o: KObject, now: Date) => unknown;
interface Col {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
  description?: string;
  get: Getter;
}

const at = (o: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), o);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const arr = (v: unknown): JsonObject[] => (Array.isArray(v) ? (v as JsonObject[]) : []);
const age = (ts: unknown, now: Date): string => (typeof ts === 'string' && ts ? humanDuration(now.getTime() - Date.parse(ts)) : '<unknown>');

const NAME: Col = {
  name: 'Name',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  get: (o) => o.metadata.name,
};
const AGE: Col = {
  name: 'Age',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.',
  get: (o, now) => age(o.metadata.creationTimestamp, now),
};
const CREATED_AT: Col = { name: 'Created At', type: 'date', get: (o) => o.metadata.creationTimestamp };
const hasCondition = (o: KObject, type: string) => arr(at(o, 'status', 'conditions')).some((c) => c.type === type && c.status === 'True');
const containersOf = (o: KObject) => arr(at(o, 'spec', 'template', 'spec', 'containers'));
const wideContainers: Col[] = [
  { name: 'Containers', priority: 1, get: (o) => containersOf(o).map((c) => c.name).join(',') },
  { name: 'Images', priority: 1, get: (o) => containersOf(o).map((c) => c.image).join(',') },
  {
    name: 'Selector',
    priority: 1,
    get: (o) =>
      Object.entries((at(o, 'spec', 'selector', 'matchLabels') as Record<string, string>) ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
  },
];

function podStatus(o: KObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  let reason = String(at(o, 'status', 'reason') ?? at(o, 'status', 'phase') ?? '');
  for (const c of arr(at(o, 'status', 'containerStatuses'))) {
    const waiting = at(c, 'state', 'waiting', 'reason');
    const term = at(c, 'state', 'terminated');
    if (typeof waiting === 'string' && waiting) reason = waiting;
    else if (isObject(term)) reason = String(term.reason ?? (term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`));
  }
  return reason;
}

function jobStatus(o: KObject): string {
  if (hasCondition(o, 'Complete')) return 'Complete';
  if (hasCondition(o, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(o, 'Suspended')) return 'Suspended';
  if (hasCondition(o, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(o, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(o: KObject): string {
  const succeeded = num(at(o, 'status', 'succeeded'));
  const completions = at(o, 'spec', 'completions');
  const parallelism = at(o, 'spec', 'parallelism');
  if (typeof completions === 'number') return `${succeeded}/${completions}`;
  if (typeof parallelism === 'number' && parallelism > 1) return `${succeeded}/1 of ${parallelism}`;
  return `${succeeded}/1`;
}

function jobDuration(o: KObject, now: Date): string {
  const start = at(o, 'status', 'startTime');
  if (typeof start !== 'string') return '';
  const end = at(o, 'status', 'completionTime');
  return humanDuration((typeof end === 'string' ? Date.parse(end) : now.getTime()) - Date.parse(start));
}

const servicePorts = (o: KObject) =>
  arr(at(o, 'spec', 'ports'))
    .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
    .join(',') || '<none>';

function eventLastSeen(o: KObject, now: Date): string {
  const ts = at(o, 'series', 'lastObservedTime') ?? o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
  return age(ts, now);
}

const builtinColumns: Record<string, Col[]> = {
  '/pods': [
    NAME,
    {
      name: 'Ready',
      get: (o) => {
        const cs = arr(at(o, 'status', 'containerStatuses'));
        return `${cs.filter((c) => c.ready === true).length}/${arr(at(o, 'spec', 'containers')).length}`;
      },
    },
    { name: 'Status', get: podStatus },
    { name: 'Restarts', type: 'string', get: (o) => String(arr(at(o, 'status', 'containerStatuses')).reduce((n, c) => n + num(c.restartCount), 0)) },
    AGE,
    { name: 'IP', priority: 1, get: (o) => at(o, 'status', 'podIP') ?? '<none>' },
    { name: 'Node', priority: 1, get: (o) => at(o, 'spec', 'nodeName') ?? '<none>' },
    { name: 'Nominated Node', priority: 1, get: (o) => at(o, 'status', 'nominatedNodeName') ?? '<none>' },
    { name: 'Readiness Gates', priority: 1, get: (o) => (arr(at(o, 'spec', 'readinessGates')).length ? String(arr(at(o, 'spec', 'readinessGates')).length) : '<none>') },
  ],
  'batch/jobs': [NAME, { name: 'Status', get: jobStatus }, { name: 'Completions', get: jobCompletions }, { name: 'Duration', get: jobDuration }, AGE, ...wideContainers],
  'batch/cronjobs': [
    NAME,
    { name: 'Schedule', get: (o) => at(o, 'spec', 'schedule') },
    { name: 'Timezone', get: (o) => at(o, 'spec', 'timeZone') ?? '<none>' },
    { name: 'Suspend', type: 'boolean', get: (o) => at(o, 'spec', 'suspend') === true },
    { name: 'Active', type: 'integer', get: (o) => arr(at(o, 'status', 'active')).length },
    { name: 'Last Schedule', get: (o, now) => (at(o, 'status', 'lastScheduleTime') ? age(at(o, 'status', 'lastScheduleTime'), now) : '<none>') },
    AGE,
  ],
  'apps/deployments': [
    NAME,
    { name: 'Ready', get: (o) => `${num(at(o, 'status', 'readyReplicas'))}/${num(at(o, 'spec', 'replicas'))}` },
    { name: 'Up-to-date', type: 'integer', get: (o) => num(at(o, 'status', 'updatedReplicas')) },
    { name: 'Available', type: 'integer', get: (o) => num(at(o, 'status', 'availableReplicas')) },
    AGE,
    ...wideContainers,
  ],
  'apps/replicasets': [
    NAME,
    { name: 'Desired', type: 'integer', get: (o) => num(at(o, 'spec', 'replicas')) },
    { name: 'Current', type: 'integer', get: (o) => num(at(o, 'status', 'replicas')) },
    { name: 'Ready', type: 'integer', get: (o) => num(at(o, 'status', 'readyReplicas')) },
    AGE,
    ...wideContainers,
  ],
  'apps/statefulsets': [NAME, { name: 'Ready', get: (o) => `${num(at(o, 'status', 'readyReplicas'))}/${num(at(o, 'spec', 'replicas'))}` }, AGE],
  '/namespaces': [NAME, { name: 'Status', get: (o) => at(o, 'status', 'phase') }, AGE],
  '/services': [
    NAME,
    { name: 'Type', get: (o) => at(o, 'spec', 'type') },
    { name: 'Cluster-IP', get: (o) => at(o, 'spec', 'clusterIP') ?? '<none>' },
    { name: 'External-IP', get: (o) => (arr(at(o, 'spec', 'externalIPs')).length ? (at(o, 'spec', 'externalIPs') as string[]).join(',') : '<none>') },
    { name: 'Port(s)', get: servicePorts },
    AGE,
  ],
  '/configmaps': [NAME, { name: 'Data', type: 'integer', get: (o) => Object.keys((o.data as object) ?? {}).length + Object.keys((o.binaryData as object) ?? {}).length }, AGE],
  '/secrets': [NAME, { name: 'Type', get: (o) => o.type }, { name: 'Data', type: 'integer', get: (o) => Object.keys((o.data as object) ?? {}).length }, AGE],
  '/serviceaccounts': [NAME, { name: 'Secrets', type: 'integer', get: (o) => arr(o.secrets).length }, AGE],
  '/events': [
    { name: 'Last Seen', get: eventLastSeen },
    { name: 'Type', get: (o) => o.type },
    { name: 'Reason', get: (o) => o.reason },
    { name: 'Object', get: (o) => `${String(at(o, 'involvedObject', 'kind') ?? '').toLowerCase()}/${at(o, 'involvedObject', 'name') ?? ''}` },
    { name: 'Message', get: (o) => String(o.message ?? '').trim() },
    { name: 'Subobject', priority: 1, get: (o) => at(o, 'involvedObject', 'fieldPath') ?? '' },
    { name: 'Source', priority: 1, get: (o) => at(o, 'source', 'component') ?? o.reportingComponent ?? '' },
    { name: 'First Seen', priority: 1, get: (o, now) => age(o.firstTimestamp ?? o.eventTime, now) },
    { name: 'Count', type: 'integer', priority: 1, get: (o) => num(o.count) || 1 },
    { name: 'Name', priority: 1, get: (o) => o.metadata.name },
  ],
  '/nodes': [
    NAME,
    { name: 'Status', get: (o) => (hasCondition(o, 'Ready') ? 'Ready' : 'NotReady') + (at(o, 'spec', 'unschedulable') ? ',SchedulingDisabled' : '') },
    {
      name: 'Roles',
      get: (o) =>
        Object.keys(o.metadata.labels ?? {})
          .filter((k) => k.startsWith('node-role.kubernetes.io/'))
          .map((k) => k.slice('node-role.kubernetes.io/'.length))
          .join(',') || '<none>',
    },
    AGE,
    { name: 'Version', get: (o) => at(o, 'status', 'nodeInfo', 'kubeletVersion') ?? '' },
  ],
  'apiextensions.k8s.io/customresourcedefinitions': [NAME, CREATED_AT],
  'coordination.k8s.io/leases': [NAME, { name: 'Holder', get: (o) => at(o, 'spec', 'holderIdentity') ?? '' }, AGE],
  'rbac.authorization.k8s.io/roles': [NAME, CREATED_AT],
  'rbac.authorization.k8s.io/clusterroles': [NAME, CREATED_AT],
  'rbac.authorization.k8s.io/rolebindings': [NAME, { name: 'Role', get: (o) => `${at(o, 'roleRef', 'kind')}/${at(o, 'roleRef', 'name')}` }, AGE],
  'rbac.authorization.k8s.io/clusterrolebindings': [NAME, { name: 'Role', get: (o) => `${at(o, 'roleRef', 'kind')}/${at(o, 'roleRef', 'name')}` }, AGE],
  'policy/poddisruptionbudgets': [
    NAME,
    { name: 'Min Available', get: (o) => String(at(o, 'spec', 'minAvailable') ?? 'N/A') },
    { name: 'Max Unavailable', get: (o) => String(at(o, 'spec', 'maxUnavailable') ?? 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', get: (o) => num(at(o, 'status', 'disruptionsAllowed')) },
    AGE,
  ],
  'networking.k8s.io/networkpolicies': [
    NAME,
    {
      name: 'Pod-Selector',
      get: (o) =>
        Object.entries((at(o, 'spec', 'podSelector', 'matchLabels') as Record<string, string>) ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>',
    },
    AGE,
  ],
};

function customColumns(columns: PrinterColumn[]): Col[] {
  if (columns.length === 0) return [NAME, AGE];
  return [
    NAME,
    ...columns.map(
      (c): Col => ({
        name: c.name,
        type: c.type,
        format: c.format,
        description: c.description,
        priority: c.priority,
        get: (o, now) => cellForJsonPath(c, o, now),
      }),
    ),
  ];
}

/** apiextensions' tableconvertor: the first JSONPath result, typed by the column's type. */
function cellForJsonPath(c: PrinterColumn, o: KObject, now: Date): unknown {
  const values = jsonPathValues(c.jsonPath, o);
  if (values.length === 0 || values[0] === undefined || values[0] === null) return null;
  const v = values[0];
  switch (c.type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? humanDuration(now.getTime() - Date.parse(v)) : null;
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

function columnsFor(rt: ResourceType): Col[] {
  if (rt.crd) return customColumns(rt.crd.printerColumns);
  return builtinColumns[rt.storageKey] ?? [NAME, AGE];
}

export function columnDefinitions(rt: ResourceType): ColumnDefinition[] {
  return columnsFor(rt).map((c) => ({ name: c.name, type: c.type ?? 'string', format: c.format ?? '', description: c.description ?? c.name, priority: c.priority ?? 0 }));
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A Table of `objects` (already in the reader's representation). */
export function toTable(rt: ResourceType, objects: KObject[], opts: { now: Date; includeObject: IncludeObject; resourceVersion?: string; continueToken?: string; remainingItemCount?: number; noHeaders?: boolean }): JsonObject {
  const cols = columnsFor(rt);
  const rows: TableRow[] = objects.map((o) => {
    const row: TableRow = { cells: cols.map((c) => c.get(o, opts.now) ?? null) };
    if (opts.includeObject === 'Object') row.object = o;
    else if (opts.includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  const metadata: JsonObject = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  const table: JsonObject = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, columnDefinitions: opts.noHeaders ? null : columnDefinitions(rt), rows };
  return table;
}
