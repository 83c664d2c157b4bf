// The built-in resource types, as kube-apiserver 1.32 serves them (names, short names, categories,
// scope, subresources). Kinds the dev cluster has no controller for are still stored and served, so a
// chart carrying them installs; docs/devcluster.md lists which ones nothing acts on.
import { eventFields, eventsV1Representation } from './events.js';
import type { ResourceType } from './registry.js';
import { strategies } from './strategies.js';
import type { KObject } from './types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = ['get', 'patch', 'update'];

interface Def {
  kind: string;
  plural: string;
  cluster?: boolean;
  short?: string[];
  all?: boolean;
  sub?: Record<string, string[]>;
  generation?: boolean;
  verbs?: string[];
  fields?: (o: KObject) => Record<string, string>;
  extra?: Partial<ResourceType>;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const at = (o: KObject, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

function define(groupVersion: string, d: Def): ResourceType {
  const slash = groupVersion.indexOf('/');
  const group = slash < 0 ? '' : groupVersion.slice(0, slash);
  const version = slash < 0 ? groupVersion : groupVersion.slice(slash + 1);
  const sub = d.sub ?? {};
  return {
    group,
    version,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    namespaced: !d.cluster,
    shortNames: d.short ?? [],
    categories: d.all ? ['all'] : [],
    verbs: d.verbs ?? ALL_VERBS,
    subresources: sub,
    hasStatus: 'status' in sub,
    storageKey: `${group}/${d.plural}`,
    generation: d.generation ?? false,
    strategy: strategies[`${group}/${d.plural}`],
    fields: d.fields,
    ...d.extra,
  };
}

const review = (groupVersion: string, kind: string, plural: string, cluster = true) =>
  define(groupVersion, { kind, plural, cluster, verbs: ['create'], extra: { virtual: true } });

export function builtinResourceTypes(): ResourceType[] {
  return [
    // core/v1
    define('v1', {
      kind: 'Namespace',
      plural: 'namespaces',
      cluster: true,
      short: ['ns'],
      sub: { status: STATUS, finalize: ['update'] },
      fields: (o) => ({ 'status.phase': str(at(o, 'status', 'phase')) }),
      extra: { returnDeletedObject: true },
    }),
    define('v1', {
      kind: 'Pod',
      plural: 'pods',
      short: ['po'],
      all: true,
      sub: { status: STATUS, log: ['get'], binding: ['create'], eviction: ['create'] },
      fields: (o) => ({
        'spec.nodeName': str(at(o, 'spec', 'nodeName')),
        'spec.restartPolicy': str(at(o, 'spec', 'restartPolicy')),
        'spec.schedulerName': str(at(o, 'spec', 'schedulerName')),
        'spec.serviceAccountName': str(at(o, 'spec', 'serviceAccountName')),
        'spec.hostNetwork': str(at(o, 'spec', 'hostNetwork') ?? false),
        'status.phase': str(at(o, 'status', 'phase')),
        'status.podIP': str(at(o, 'status', 'podIP')),
        'status.nominatedNodeName': str(at(o, 'status', 'nominatedNodeName')),
      }),
      extra: { returnDeletedObject: true, gracefulDelete: true },
    }),
    define('v1', {
      kind: 'Service',
      plural: 'services',
      short: ['svc'],
      all: true,
      sub: { status: STATUS },
      fields: (o) => ({ 'spec.clusterIP': str(at(o, 'spec', 'clusterIP')), 'spec.type': str(at(o, 'spec', 'type')) }),
    }),
    define('v1', { kind: 'Endpoints', plural: 'endpoints', short: ['ep'] }),
    define('v1', { kind: 'ConfigMap', plural: 'configmaps', short: ['cm'] }),
    define('v1', { kind: 'Secret', plural: 'secrets', fields: (o) => ({ type: str(o.type) }) }),
    define('v1', { kind: 'ServiceAccount', plural: 'serviceaccounts', short: ['sa'], sub: { token: ['create'] } }),
    define('v1', { kind: 'Event', plural: 'events', short: ['ev'], fields: eventFields }),
    define('v1', {
      kind: 'Node',
      plural: 'nodes',
      cluster: true,
      short: ['no'],
      sub: { status: STATUS },
      fields: (o) => ({ 'spec.unschedulable': str(at(o, 'spec', 'unschedulable') ?? false) }),
    }),
    define('v1', { kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', short: ['pvc'], sub: { status: STATUS } }),
    define('v1', { kind: 'PersistentVolume', plural: 'persistentvolumes', cluster: true, short: ['pv'], sub: { status: STATUS } }),
    define('v1', { kind: 'LimitRange', plural: 'limitranges', short: ['limits'] }),
    define('v1', { kind: 'ResourceQuota', plural: 'resourcequotas', short: ['quota'], sub: { status: STATUS } }),
    define('v1', { kind: 'ReplicationController', plural: 'replicationcontrollers', short: ['rc'], all: true, generation: true, sub: { status: STATUS, scale: STATUS } }),
    define('v1', { kind: 'PodTemplate', plural: 'podtemplates' }),
    // apps/v1
    define('apps/v1', { kind: 'Deployment', plural: 'deployments', short: ['deploy'], all: true, generation: true, sub: { status: STATUS, scale: STATUS } }),
    define('apps/v1', {
      kind: 'ReplicaSet',
      plural: 'replicasets',
      short: ['rs'],
      all: true,
      generation: true,
      sub: { status: STATUS, scale: STATUS },
      fields: (o) => ({ 'status.replicas': str(at(o, 'status', 'replicas') ?? 0) }),
    }),
    define('apps/v1', { kind: 'StatefulSet', plural: 'statefulsets', short: ['sts'], all: true, generation: true, sub: { status: STATUS, scale: STATUS } }),
    define('apps/v1', { kind: 'DaemonSet', plural: 'daemonsets', short: ['ds'], all: true, generation: true, sub: { status: STATUS } }),
    define('apps/v1', { kind: 'ControllerRevision', plural: 'controllerrevisions' }),
    // batch/v1
    define('batch/v1', {
      kind: 'Job',
      plural: 'jobs',
      all: true,
      generation: true,
      sub: { status: STATUS },
      fields: (o) => ({ 'status.successful': str(at(o, 'status', 'succeeded') ?? 0) }),
      extra: { defaultPropagation: 'Orphan' },
    }),
    define('batch/v1', { kind: 'CronJob', plural: 'cronjobs', short: ['cj'], all: true, generation: true, sub: { status: STATUS } }),
    // autoscaling, policy, networking, scheduling, storage, discovery, admission
    define('autoscaling/v2', { kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', short: ['hpa'], all: true, generation: true, sub: { status: STATUS } }),
    define('policy/v1', { kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', short: ['pdb'], generation: true, sub: { status: STATUS } }),
    define('networking.k8s.io/v1', { kind: 'NetworkPolicy', plural: 'networkpolicies', short: ['netpol'], generation: true }),
    define('networking.k8s.io/v1', { kind: 'Ingress', plural: 'ingresses', short: ['ing'], generation: true, sub: { status: STATUS } }),
    define('networking.k8s.io/v1', { kind: 'IngressClass', plural: 'ingressclasses', cluster: true }),
    define('scheduling.k8s.io/v1', { kind: 'PriorityClass', plural: 'priorityclasses', cluster: true, short: ['pc'] }),
    define('storage.k8s.io/v1', { kind: 'StorageClass', plural: 'storageclasses', cluster: true, short: ['sc'] }),
    define('discovery.k8s.io/v1', { kind: 'EndpointSlice', plural: 'endpointslices' }),
    define('admissionregistration.k8s.io/v1', { kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', cluster: true, generation: true }),
    define('admissionregistration.k8s.io/v1', { kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations', cluster: true, generation: true }),
    // coordination, rbac
    define('coordination.k8s.io/v1', { kind: 'Lease', plural: 'leases' }),
    define('rbac.authorization.k8s.io/v1', { kind: 'Role', plural: 'roles' }),
    define('rbac.authorization.k8s.io/v1', { kind: 'ClusterRole', plural: 'clusterroles', cluster: true }),
    define('rbac.authorization.k8s.io/v1', { kind: 'RoleBinding', plural: 'rolebindings' }),
    define('rbac.authorization.k8s.io/v1', { kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', cluster: true }),
    // apiextensions
    define('apiextensions.k8s.io/v1', {
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      cluster: true,
      short: ['crd', 'crds'],
      generation: true,
      sub: { status: STATUS },
    }),
    // events.k8s.io/v1 shares storage with core/v1 events
    define('events.k8s.io/v1', { kind: 'Event', plural: 'events', short: ['ev'], fields: eventFields, extra: { storageKey: '/events', representation: eventsV1Representation } }),
    // reviews: create-only, nothing stored
    review('authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
    review('authorization.k8s.io/v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
    review('authorization.k8s.io/v1', 'SubjectAccessReview', 'subjectaccessreviews'),
    review('authorization.k8s.io/v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', false),
    review('authentication.k8s.io/v1', 'TokenReview', 'tokenreviews'),
    review('authentication.k8s.io/v1', 'SelfSubjectReview', 'selfsubjectreviews'),
  ];
}
