// A container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables):
// envFrom first, then env in order (later wins), `$(VAR)` expanded against what is defined so far,
// valueFrom resolved from Secrets, ConfigMaps and the pod's own fields. A missing Secret/ConfigMap or
// key that is not optional makes the container wait with CreateContainerConfigError and the kubelet's
// message; the kubelet retries until it appears.
import type { ConfigMap, Container, Pod, Secret } from '../client/types.js';
import { expandVars } from './imageMap.js';

export interface EnvSources {
  secret(name: string): Secret | undefined;
  configMap(name: string): ConfigMap | undefined;
}

export type EnvResult = { env: Record<string, string>; warnings: string[] } | { error: string };

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function decode(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}

function secretValue(s: Secret, key: string): string | undefined {
  if (s.data && Object.prototype.hasOwnProperty.call(s.data, key)) return decode(s.data[key]!);
  if (s.stringData && Object.prototype.hasOwnProperty.call(s.stringData, key)) return s.stringData[key];
  return undefined;
}

function secretKeys(s: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = decode(v);
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = v;
  return out;
}

/** `metadata.labels['a.b/c']` → ['labels', 'a.b/c']. */
function subscript(path: string): [string, string] | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  return m ? [m[1]!, m[2]!] : undefined;
}

/** The value of a downward-API fieldRef, or an error message like the kubelet's. */
export function fieldRefValue(pod: Pod, fieldPath: string, podIP: string, hostIP: string): string | { error: string } {
  const sub = subscript(fieldPath);
  if (sub) {
    const map = sub[0] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[sub[1]] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    default:
      return { error: `unsupported fieldPath: ${fieldPath}` };
  }
}

function resourceValue(container: Container, resource: string, divisor: string | undefined, node: { cpus: number; memoryBytes: number }): string {
  const res = (container.resources ?? {}) as { limits?: Record<string, string>; requests?: Record<string, string> };
  const [kind, name] = resource.split('.') as [string, string];
  const raw = (kind === 'limits' ? res.limits?.[name] : res.requests?.[name]) ?? (kind === 'limits' ? undefined : '0');
  const parse = (q: string | undefined): number | undefined => {
    if (q === undefined) return undefined;
    const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
    if (!m) return undefined;
    const n = Number(m[1]);
    const mult: Record<string, number> = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
    return n * (m[2] ? mult[m[2]]! : 1);
  };
  // Without a limit, the node's allocatable is reported (as the kubelet does).
  const value = parse(raw) ?? (name === 'cpu' ? node.cpus : name === 'memory' ? node.memoryBytes : 0);
  const div = parse(divisor) ?? 1;
  return String(Math.ceil(value / div));
}

export function resolveContainerEnv(pod: Pod, container: Container, sources: EnvSources, ctx: { podIP: string; hostIP: string; node: { cpus: number; memoryBytes: number }; base?: Record<string, string> }): EnvResult {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...(ctx.base ?? {}) };
  const warnings: string[] = [];
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let values: Record<string, string> | undefined;
    if (from.configMapRef) {
      const cm = sources.configMap(from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        return { error: `configmap "${from.configMapRef.name}" not found` };
      }
      values = { ...(cm.data ?? {}) };
    } else if (from.secretRef) {
      const s = sources.secret(from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        return { error: `secret "${from.secretRef.name}" not found` };
      }
      values = secretKeys(s);
    }
    const invalid: string[] = [];
    for (const [k, v] of Object.entries(values ?? {})) {
      const name = prefix + k;
      if (!ENV_NAME.test(name)) invalid.push(name);
      else env[name] = v;
    }
    if (invalid.length) warnings.push(`Keys [${invalid.sort().join(', ')}] from the EnvFrom ${from.configMapRef ? 'configMap' : 'secret'} ${ns}/${from.configMapRef?.name ?? from.secretRef?.name} were skipped since they are considered invalid environment variable names.`);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandVars(e.value ?? '', env);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const s = sources.secret(ref.name ?? '');
      if (!s) {
        if (ref.optional) continue;
        return { error: `secret "${ref.name}" not found` };
      }
      const v = secretValue(s, ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        return { error: `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` };
      }
      env[e.name] = v;
    } else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = sources.configMap(ref.name ?? '');
      if (!cm) {
        if (ref.optional) continue;
        return { error: `configmap "${ref.name}" not found` };
      }
      const v = cm.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        return { error: `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}` };
      }
      env[e.name] = v;
    } else if (vf.fieldRef) {
      const v = fieldRefValue(pod, vf.fieldRef.fieldPath, ctx.podIP, ctx.hostIP);
      if (typeof v !== 'string') return v;
      env[e.name] = v;
    } else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName ? pod.spec.containers.find((c) => c.name === vf.resourceFieldRef!.containerName) ?? container : container;
      env[e.name] = resourceValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, ctx.node);
    }
  }
  return { env, warnings };
}
