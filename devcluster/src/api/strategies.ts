// Defaults, generated fields and the validations clients actually run into, for the built-in kinds the
// dev cluster's controllers and the product's chart use. Each mirrors the matching registry strategy
// of kube-apiserver (pkg/registry/...); what is not checked here is listed in docs/devcluster.md.
import { fieldForbidden, immutable, invalid, notSupported, required, type FieldError } from './errors.js';
import type { Strategy, StrategyContext } from './registry.js';
import { fromLabelSelectorObject, labelsMatch } from './selectors.js';
import { clone, isObject, jsonEqual, type JsonObject, type KObject } from './types.js';

type Obj = JsonObject;
const obj = (v: unknown): Obj => (isObject(v) ? v : {});
const spec = (o: KObject): Obj => (isObject(o.spec) ? o.spec : (o.spec = {}) as Obj);
const setDefault = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined || o[key] === null) o[key] = value;
};

// ---- pods and pod templates ----

function defaultContainer(c: Obj): void {
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = image.includes('@') ? 'digest' : (image.split('/').pop()!.split(':')[1] ?? 'latest');
  setDefault(c, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of Array.isArray(c.ports) ? (c.ports as Obj[]) : []) setDefault(p, 'protocol', 'TCP');
}

function defaultPodSpec(s: Obj, restartPolicy = 'Always'): void {
  setDefault(s, 'restartPolicy', restartPolicy);
  setDefault(s, 'terminationGracePeriodSeconds', 30);
  setDefault(s, 'dnsPolicy', 'ClusterFirst');
  setDefault(s, 'schedulerName', 'default-scheduler');
  setDefault(s, 'securityContext', {});
  if (s.serviceAccountName === undefined && typeof s.serviceAccount === 'string') s.serviceAccountName = s.serviceAccount;
  for (const list of ['containers', 'initContainers']) for (const c of Array.isArray(s[list]) ? (s[list] as Obj[]) : []) defaultContainer(c);
}

function validatePodSpec(s: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const containers = s.containers;
  if (!Array.isArray(containers) || containers.length === 0) errs.push(required(`${path}.containers`));
  const names = new Set<string>();
  for (const list of ['initContainers', 'containers']) {
    (Array.isArray(s[list]) ? (s[list] as unknown[]) : []).forEach((c0, i) => {
      const c = obj(c0);
      const p = `${path}.${list}[${i}]`;
      if (!c.name) errs.push(required(`${p}.name`));
      else if (names.has(String(c.name))) errs.push({ type: 'Duplicate', field: `${p}.name`, badValue: c.name });
      else names.add(String(c.name));
      if (!c.image) errs.push(required(`${p}.image`));
    });
  }
  const rp = s.restartPolicy;
  if (rp !== undefined && !['Always', 'OnFailure', 'Never'].includes(String(rp))) errs.push(notSupported(`${path}.restartPolicy`, rp, ['Always', 'OnFailure', 'Never']));
  return errs;
}

function defaultTemplate(o: KObject, restartPolicy?: string): void {
  const t = obj(spec(o).template);
  if (isObject(spec(o).template)) defaultPodSpec(obj((t.spec ??= {})), restartPolicy);
}

const pods: Strategy = {
  prepareForCreate(o) {
    defaultPodSpec(spec(o));
    if (spec(o).serviceAccountName === undefined) spec(o).serviceAccountName = 'default';
    spec(o).serviceAccount = spec(o).serviceAccountName;
    o.status = { phase: 'Pending', qosClass: 'BestEffort' };
  },
  prepareForUpdate(o, old) {
    // The kubelet of a real cluster binds through pods/binding; here setting an empty nodeName once is allowed too.
    const os = obj(old.spec);
    const ns = spec(o);
    defaultPodSpec(ns, String(os.restartPolicy ?? 'Always'));
    if (ns.serviceAccountName === undefined) ns.serviceAccountName = os.serviceAccountName;
    if (ns.serviceAccount === undefined) ns.serviceAccount = os.serviceAccount;
  },
  validate(o, old) {
    const errs = validatePodSpec(spec(o), 'spec');
    if (old) {
      const a = clone(obj(old.spec));
      const b = clone(spec(o));
      for (const s of [a, b]) {
        for (const c of [...((s.containers as Obj[]) ?? []), ...((s.initContainers as Obj[]) ?? [])]) delete c.image;
        delete s.activeDeadlineSeconds;
        delete s.tolerations;
      }
      if (!a.nodeName) delete b.nodeName;
      if (!jsonEqual(a, b))
        errs.push(fieldForbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
    }
    return errs;
  },
};

// ---- workloads ----

function validateSelectorMatchesTemplate(o: KObject, requireSelector: boolean): FieldError[] {
  const s = spec(o);
  const errs: FieldError[] = [];
  const sel = s.selector;
  if (!isObject(sel)) {
    if (requireSelector) errs.push(required('spec.selector'));
    return errs;
  }
  const reqs = fromLabelSelectorObject(sel as never);
  if (reqs.length === 0) errs.push(invalid('spec.selector', sel, 'empty selector is invalid for deployment'));
  const labels = obj(obj(obj(s.template).metadata).labels) as Record<string, string>;
  if (reqs.length > 0 && !labelsMatch(reqs, labels)) errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  const t = obj(obj(s.template).spec);
  errs.push(...validatePodSpec(t, 'spec.template.spec'));
  return errs;
}

const deployments: Strategy = {
  prepareForCreate(o) {
    const s = spec(o);
    setDefault(s, 'replicas', 1);
    setDefault(s, 'revisionHistoryLimit', 10);
    setDefault(s, 'progressDeadlineSeconds', 600);
    setDefault(s, 'strategy', { type: 'RollingUpdate' });
    const st = obj(s.strategy);
    if (st.type === 'RollingUpdate') setDefault(st, 'rollingUpdate', { maxUnavailable: '25%', maxSurge: '25%' });
    defaultTemplate(o);
    o.status = {};
  },
  prepareForUpdate(o) {
    defaultTemplate(o);
    setDefault(spec(o), 'replicas', 1);
  },
  validate(o, old) {
    const errs = validateSelectorMatchesTemplate(o, true);
    if (old && !jsonEqual(spec(o).selector, obj(old.spec).selector)) errs.push(immutable('spec.selector', spec(o).selector));
    return errs;
  },
};

const replicaSets: Strategy = {
  prepareForCreate(o) {
    setDefault(spec(o), 'replicas', 1);
    defaultTemplate(o);
    o.status = { replicas: 0 };
  },
  prepareForUpdate(o) {
    defaultTemplate(o);
  },
  validate(o, old) {
    const errs = validateSelectorMatchesTemplate(o, true);
    if (old && !jsonEqual(spec(o).selector, obj(old.spec).selector)) errs.push(immutable('spec.selector', spec(o).selector));
    return errs;
  },
};

const jobs: Strategy = {
  prepareForCreate(o) {
    const s = spec(o);
    const uid = o.metadata.uid!;
    if (s.manualSelector !== true) {
      // Generated selector and labels, as the Job registry strategy does (batch.kubernetes.io/controller-uid).
      const t = obj((s.template ??= {}));
      const m = obj((t.metadata ??= {}));
      m.labels = { ...obj(m.labels), 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': o.metadata.name!, 'controller-uid': uid, 'job-name': o.metadata.name! };
      s.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    }
    if (s.completions === undefined && s.parallelism === undefined) s.completions = 1;
    setDefault(s, 'parallelism', 1);
    setDefault(s, 'backoffLimit', s.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
    setDefault(s, 'completionMode', 'NonIndexed');
    setDefault(s, 'suspend', false);
    setDefault(s, 'manualSelector', undefined);
    if (s.manualSelector === undefined) delete s.manualSelector;
    setDefault(s, 'podReplacementPolicy', s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed');
    defaultTemplate(o, 'Never');
    o.status = {};
  },
  prepareForUpdate(o) {
    defaultTemplate(o, 'Never');
  },
  validate(o, old) {
    const s = spec(o);
    const errs: FieldError[] = [];
    const t = obj(obj(s.template).spec);
    errs.push(...validatePodSpec(t, 'spec.template.spec'));
    const rp = t.restartPolicy;
    if (rp !== 'OnFailure' && rp !== 'Never') errs.push(notSupported('spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
    const mode = s.completionMode;
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported('spec.completionMode', mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed' && (s.completions === undefined || s.completions === null)) errs.push(required('spec.completions', 'when completion mode is Indexed'));
    for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
      const v = s[f];
      if (v !== undefined && v !== null && (typeof v !== 'number' || v < (f === 'activeDeadlineSeconds' ? 1 : 0))) errs.push(invalid(`spec.${f}`, v, f === 'activeDeadlineSeconds' ? 'must be greater than 0' : 'must be greater than or equal to 0'));
    }
    if (s.backoffLimitPerIndex !== undefined && mode !== 'Indexed') errs.push(invalid('spec.backoffLimitPerIndex', s.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (s.maxFailedIndexes !== undefined && s.backoffLimitPerIndex === undefined) errs.push(required('spec.backoffLimitPerIndex', 'when maxFailedIndexes is specified'));
    const sel = fromLabelSelectorObject(obj(s.selector) as never);
    const labels = obj(obj(obj(s.template).metadata).labels) as Record<string, string>;
    if (!isObject(s.selector)) errs.push(required('spec.selector'));
    else if (!labelsMatch(sel, labels)) errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    if (old) {
      const os = obj(old.spec);
      if (!jsonEqual(s.selector, os.selector)) errs.push(immutable('spec.selector', s.selector));
      if (!jsonEqual(s.completionMode, os.completionMode)) errs.push(immutable('spec.completionMode', s.completionMode));
      if (!jsonEqual(s.completions, os.completions) && !(mode === 'Indexed' && s.completions === s.parallelism)) errs.push(immutable('spec.completions', s.completions));
      if (!jsonEqual(s.template, os.template) && !(os.suspend === true && obj(old.status).startTime === undefined)) errs.push(immutable('spec.template', s.template));
      if (!jsonEqual(s.podFailurePolicy, os.podFailurePolicy)) errs.push(immutable('spec.podFailurePolicy', s.podFailurePolicy));
      if (!jsonEqual(s.backoffLimitPerIndex, os.backoffLimitPerIndex)) errs.push(immutable('spec.backoffLimitPerIndex', s.backoffLimitPerIndex));
    }
    return errs;
  },
};

const cronJobs: Strategy = {
  prepareForCreate(o) {
    const s = spec(o);
    setDefault(s, 'concurrencyPolicy', 'Allow');
    setDefault(s, 'suspend', false);
    setDefault(s, 'successfulJobsHistoryLimit', 3);
    setDefault(s, 'failedJobsHistoryLimit', 1);
    o.status = {};
  },
};

// ---- core ----

const namespaces: Strategy = {
  prepareForCreate(o) {
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name! };
  },
  prepareForUpdate(o, old) {
    o.spec = clone(old.spec);
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name! };
  },
};

const services: Strategy = {
  prepareForCreate(o, ctx: StrategyContext) {
    const s = spec(o);
    setDefault(s, 'type', 'ClusterIP');
    setDefault(s, 'sessionAffinity', 'None');
    if (s.type !== 'ExternalName') {
      if (!s.clusterIP) s.clusterIP = ctx.allocateClusterIP();
      if (s.clusterIP !== 'None') s.clusterIPs = [s.clusterIP];
      else s.clusterIPs = ['None'];
      setDefault(s, 'ipFamilies', ['IPv4']);
      setDefault(s, 'ipFamilyPolicy', 'SingleStack');
      setDefault(s, 'internalTrafficPolicy', 'Cluster');
    }
    for (const p of Array.isArray(s.ports) ? (s.ports as Obj[]) : []) {
      setDefault(p, 'protocol', 'TCP');
      setDefault(p, 'targetPort', p.port);
    }
    o.status = { loadBalancer: {} };
  },
  prepareForUpdate(o, old) {
    const s = spec(o);
    const os = obj(old.spec);
    // Allocated values carry over when a client (kubectl apply, helm upgrade) omits them.
    if (!s.clusterIP) s.clusterIP = os.clusterIP;
    if (!s.clusterIPs) s.clusterIPs = os.clusterIPs;
    for (const k of ['type', 'sessionAffinity', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) setDefault(s, k, os[k]);
    for (const p of Array.isArray(s.ports) ? (s.ports as Obj[]) : []) {
      setDefault(p, 'protocol', 'TCP');
      setDefault(p, 'targetPort', p.port);
    }
  },
  validate(o, old) {
    const errs: FieldError[] = [];
    if (old && obj(old.spec).clusterIP && spec(o).clusterIP !== obj(old.spec).clusterIP) errs.push(immutable('spec.clusterIP', spec(o).clusterIP));
    (Array.isArray(spec(o).ports) ? (spec(o).ports as Obj[]) : []).forEach((p, i) => {
      if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) errs.push(invalid(`spec.ports[${i}].port`, p.port ?? 0, 'must be between 1 and 65535, inclusive'));
    });
    return errs;
  },
};

const base64Re = /^[A-Za-z0-9+/]*={0,2}$/;

const secrets: Strategy = {
  prepareForCreate(o) {
    setDefault(o, 'type', 'Opaque');
    foldStringData(o);
  },
  prepareForUpdate(o) {
    setDefault(o, 'type', 'Opaque');
    foldStringData(o);
  },
  validate(o, old) {
    const errs: FieldError[] = [];
    for (const [k, v] of Object.entries(obj(o.data))) {
      if (typeof v !== 'string' || v.length % 4 !== 0 || !base64Re.test(v)) errs.push(invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
    }
    if (old) {
      if (old.type !== o.type) errs.push(immutable('type', o.type));
      if (old.immutable === true && (!jsonEqual(old.data, o.data) || o.immutable !== true)) errs.push(fieldForbidden('data', 'field is immutable when `immutable` is set'));
    }
    return errs;
  },
};

function foldStringData(o: KObject): void {
  // stringData is write-only: merged into data (base64), never stored.
  if (isObject(o.stringData)) {
    const data = { ...obj(o.data) };
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    o.data = data;
  }
  delete o.stringData;
}

const configMaps: Strategy = {
  validate(o, old) {
    if (old?.immutable === true && (!jsonEqual(old.data, o.data) || !jsonEqual(old.binaryData, o.binaryData) || o.immutable !== true)) return [fieldForbidden('data', 'field is immutable when `immutable` is set')];
    return [];
  },
};

// ---- rbac ----

function bindingStrategy(clusterScoped: boolean): Strategy {
  return {
    validate(o, old) {
      const errs: FieldError[] = [];
      const ref = obj(o.roleRef);
      const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
      if (!ref.kind) errs.push(required('roleRef.kind'));
      else if (!kinds.includes(String(ref.kind))) errs.push(notSupported('roleRef.kind', ref.kind, kinds));
      if (!ref.name) errs.push(required('roleRef.name'));
      if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
      (Array.isArray(o.subjects) ? (o.subjects as Obj[]) : []).forEach((s, i) => {
        if (!['User', 'Group', 'ServiceAccount'].includes(String(s.kind))) errs.push(notSupported(`subjects[${i}].kind`, s.kind, ['ServiceAccount', 'User', 'Group']));
        if (!s.name) errs.push(required(`subjects[${i}].name`));
        if (s.kind === 'ServiceAccount' && clusterScoped && !s.namespace) errs.push(required(`subjects[${i}].namespace`));
      });
      if (old && !jsonEqual(old.roleRef, o.roleRef)) errs.push(invalid('roleRef', o.roleRef, 'cannot change roleRef'));
      return errs;
    },
  };
}

export const strategies: Record<string, Strategy> = {
  '/pods': pods,
  '/namespaces': namespaces,
  '/services': services,
  '/secrets': secrets,
  '/configmaps': configMaps,
  'apps/deployments': deployments,
  'apps/replicasets': replicaSets,
  'apps/statefulsets': { prepareForCreate: (o) => (defaultTemplate(o), (o.status = {})), prepareForUpdate: (o) => defaultTemplate(o) },
  'apps/daemonsets': { prepareForCreate: (o) => (defaultTemplate(o), (o.status = {})), prepareForUpdate: (o) => defaultTemplate(o) },
  'batch/jobs': jobs,
  'batch/cronjobs': cronJobs,
  'rbac.authorization.k8s.io/rolebindings': bindingStrategy(false),
  'rbac.authorization.k8s.io/clusterrolebindings': bindingStrategy(true),
};
