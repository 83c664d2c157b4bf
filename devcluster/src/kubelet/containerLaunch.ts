// What a container needs to start: its process (image map + command/args), environment (Secrets,
// ConfigMaps, pod fields, the kubelet's own variables), user and working directory — or the waiting
// reason that prevents it (ErrImagePull, CreateContainerConfigError) with the kubelet's message.
import { existsSync } from 'node:fs';
import type { ApiClient } from '../client/apiClient.js';
import { CONFIGMAPS, SECRETS } from '../client/resources.js';
import type { ConfigMap, Container, Pod, Secret } from '../client/types.js';
import { resolveContainerEnv } from './containerEnv.js';
import { containerArgv, resolveImage, type ImageMap } from './imageMap.js';
import { firstUnreachableFolder, hostPath, linkMounts, type PodPaths } from './podSandbox.js';
import { containerUser } from './securityContext.js';

export interface Launch {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
}

export interface Waiting {
  reason: string;
  message: string;
  /** Events worth recording (env names skipped from envFrom). */
  warnings?: string[];
}

export interface LaunchContext {
  client: ApiClient;
  images: ImageMap;
  api: { host: string; port: number };
  nodeName: string;
  hostIP: string;
  node: { cpus: number; memoryBytes: number };
  enforceUsers: boolean;
}

/** Secrets and ConfigMaps a container's env/envFrom refer to, read fresh (a missing one is undefined). */
async function referencedObjects(client: ApiClient, pod: Pod, c: Container): Promise<{ secret(n: string): Secret | undefined; configMap(n: string): ConfigMap | undefined }> {
  const secretNames = new Set<string>();
  const configMapNames = new Set<string>();
  for (const e of c.env ?? []) {
    if (e.valueFrom?.secretKeyRef?.name) secretNames.add(e.valueFrom.secretKeyRef.name);
    if (e.valueFrom?.configMapKeyRef?.name) configMapNames.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const f of c.envFrom ?? []) {
    if (f.secretRef) secretNames.add(f.secretRef.name);
    if (f.configMapRef) configMapNames.add(f.configMapRef.name);
  }
  const ns = pod.metadata.namespace;
  const secrets = new Map<string, Secret | undefined>();
  const configMaps = new Map<string, ConfigMap | undefined>();
  for (const n of secretNames) secrets.set(n, await client.tryGet<Secret>(SECRETS, ns, n));
  for (const n of configMapNames) configMaps.set(n, await client.tryGet<ConfigMap>(CONFIGMAPS, ns, n));
  return { secret: (n) => secrets.get(n), configMap: (n) => configMaps.get(n) };
}

export async function prepareLaunch(ctx: LaunchContext, pod: Pod, paths: PodPaths, ports: Map<number, number>, c: Container): Promise<{ launch: Launch; warnings: string[] } | Waiting> {
  const image = c.image ?? '';
  const found = resolveImage(ctx.images, image);
  if (!found) {
    const known = Object.keys(ctx.images).sort().join(', ') || 'none';
    return { reason: 'ErrImagePull', message: `image "${image}" is not in the dev cluster's image map (known: ${known})` };
  }
  const user = containerUser(pod, c, found.entry);
  if ('error' in user) return { reason: 'CreateContainerConfigError', message: user.error };
  const sources = await referencedObjects(ctx.client, pod, c);
  // Image env < the kubelet's variables < envFrom < env. The dev cluster's own environment is not
  // passed on: pods see PATH and nothing else of it.
  const base: Record<string, string> = {
    ...(found.entry.env ?? {}),
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: paths.home,
    TMPDIR: paths.tmp,
    HOSTNAME: pod.spec.hostname ?? pod.metadata.name ?? '',
    KUBERNETES_SERVICE_HOST: ctx.api.host,
    KUBERNETES_SERVICE_PORT: String(ctx.api.port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(ctx.api.port),
    KUBERNETES_PORT: `tcp://${ctx.api.host}:${ctx.api.port}`,
    DEVCLUSTER_ROOT: paths.root,
    DEVCLUSTER_NODE_NAME: ctx.nodeName,
  };
  for (const [cp, hp] of ports) base[`DEVCLUSTER_PORT_${cp}`] = String(hp);
  const env = resolveContainerEnv(pod, c, sources, { podIP: ctx.hostIP, hostIP: ctx.hostIP, node: ctx.node, base });
  if ('error' in env) return { reason: 'CreateContainerConfigError', message: env.error };
  const argv = containerArgv(found.entry, image, c, env.env);
  if ('error' in argv) return { reason: 'CreateContainerConfigError', message: argv.error };
  const problems = await linkMounts(paths, c.volumeMounts ?? []);
  if (problems.length) return { reason: 'CreateContainerConfigError', message: `invalid volume mount paths: ${problems.join(', ')}` };
  let cwd = found.entry.cwd ?? process.cwd();
  if (c.workingDir && existsSync(hostPath(paths, c.workingDir))) cwd = hostPath(paths, c.workingDir);
  const launch: Launch = { argv: argv.argv, env: env.env, cwd };
  if (ctx.enforceUsers && (user.uid !== 0 || user.gid !== 0)) {
    const blocked = firstUnreachableFolder(paths.home, user.uid, user.gid);
    if (blocked) {
      return { reason: 'CreateContainerConfigError', message: `the container runs as uid ${user.uid} but cannot enter ${blocked} (its pod folder is below it): make that folder traversable (chmod o+x) or give the dev cluster a data folder elsewhere` };
    }
    launch.uid = user.uid;
    launch.gid = user.gid;
  }
  return { launch, warnings: env.warnings };
}

/** The user owning the pod's scratch folders: its first container's. */
export function podOwner(images: ImageMap, pod: Pod): { uid: number; gid: number } | undefined {
  const c = pod.spec.containers[0];
  const found = c ? resolveImage(images, c.image ?? '') : undefined;
  const u = c && found ? containerUser(pod, c, found.entry) : undefined;
  return u && 'uid' in u ? u : undefined;
}
