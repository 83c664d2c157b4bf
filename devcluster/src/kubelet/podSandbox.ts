// Each pod gets a folder standing in for its containers' filesystem, since there are no mounts:
//
//   <dataDir>/pods/<namespace>_<name>_<uid>/
//     root/                                   DEVCLUSTER_ROOT: a container path P is root/P here
//       var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}
//       <volumeMount.mountPath>  ──symlink──▶ ../volumes/<volume>
//     volumes/<name>/                         emptyDir (0777), or a Secret/ConfigMap's keys as files
//     home/  tmp/                             HOME and TMPDIR (0700, the pod's user)
//   <dataDir>/logs/<namespace>_<name>_<uid>/<container>/<restartCount>.log   (kubectl logs; see processRunner.ts)
//
// Access, since there is no isolation between pods and the host: the token and Secret files are 0600
// and owned by the user the pod runs as, HOME and TMPDIR 0700 likewise. The folders leading to them
// (pods/, the pod folder, root/, volumes/) are 0700 when pods run as the dev cluster's own user, and
// 0711 when the dev cluster runs as root and drops pods to their runAsUser (or the image's user):
// that user must pass through them, but nobody but root can list them. They stay root's, not the
// pod user's: the kubelet writes into them (token renewal) as root, and a folder the pod owned could
// be swapped for a symlink that redirects those writes.
//
// An in-cluster client reads its service account with client-node's
// `KubeConfig.loadFromCluster(process.env.DEVCLUSTER_ROOT)`.
//
// File work is asynchronous (libuv's thread pool): the API server shares this event loop, and a
// burst of pod starts doing a dozen synchronous mkdir/write/chown each stalled its answers.
import { existsSync, statSync } from 'node:fs';
import { chmod, chown, rename, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import type { ConfigMap, Pod, Secret, Volume } from '../client/types.js';
import { makeFoldersAsync } from '../folders.js';

export const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface PodPaths {
  dir: string;
  root: string;
  volumes: string;
  home: string;
  tmp: string;
  logs: string;
}

export function podPaths(dataDir: string, pod: Pod): PodPaths {
  const key = `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`;
  const dir = join(dataDir, 'pods', key);
  return { dir, root: join(dir, 'root'), volumes: join(dir, 'volumes'), home: join(dir, 'home'), tmp: join(dir, 'tmp'), logs: join(logRoot(dataDir), key) };
}

/** Where container logs live: the API server's podLogRoot. */
export function logRoot(dataDir: string): string {
  return join(dataDir, 'logs');
}

/** Container path → host path under the pod's root. */
export const hostPath = (paths: PodPaths, containerPath: string): string => join(paths.root, containerPath);

export type Owner = { uid: number; gid: number };

/** Mode of the folders a pod's user passes through: see "Access" above. */
export const passageMode = (podsRunAsOthers: boolean): number => (podsRunAsOthers ? 0o711 : 0o700);

/** Whether processes running as `owner` are another user than the dev cluster (which then runs as root). */
const isOtherUser = (owner: Owner | undefined): boolean => owner !== undefined && owner.uid !== process.getuid?.();

async function own(path: string, owner: Owner | undefined): Promise<void> {
  if (owner && (owner.uid !== 0 || owner.gid !== 0)) await chown(path, owner.uid, owner.gid);
}

/** The node's folders every pod folder lives in: `pods/` and `logs/` under the data folder. */
export async function prepareNodeFolders(dataDir: string, podsRunAsOthers: boolean): Promise<void> {
  await makeFoldersAsync(join(dataDir, 'pods'), passageMode(podsRunAsOthers));
  await makeFoldersAsync(logRoot(dataDir), 0o700);
}

export async function createSandbox(paths: PodPaths, owner: Owner | undefined): Promise<void> {
  const passage = passageMode(isOtherUser(owner));
  await Promise.all([makeFoldersAsync(paths.root, passage), makeFoldersAsync(paths.volumes, passage), makeFoldersAsync(paths.logs, 0o700)]);
  await Promise.all([paths.home, paths.tmp].map(async (d) => {
    await makeFoldersAsync(d, 0o700);
    await own(d, owner);
  }));
}

export async function removeSandbox(paths: PodPaths): Promise<void> {
  await Promise.all([paths.dir, paths.logs].map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * The service-account files. The token is 0600 and belongs to the pod's user (as the kubelet makes
 * it when every container runs as one runAsUser); the namespace and CA are not secret (0644).
 */
export async function writeServiceAccount(paths: PodPaths, files: { token: string; caPem?: string; namespace: string }, owner: Owner | undefined): Promise<string> {
  const dir = hostPath(paths, SERVICE_ACCOUNT_PATH);
  await makeFoldersAsync(dir, passageMode(isOtherUser(owner)));
  await Promise.all([
    writePrivateFile(join(dir, 'token'), files.token, owner),
    writeFile(join(dir, 'namespace'), files.namespace, { mode: 0o644 }),
    files.caPem ? writeFile(join(dir, 'ca.crt'), files.caPem, { mode: 0o644 }) : undefined,
  ]);
  return dir;
}

/**
 * A 0600 file of `owner`, put in place by rename: a reader (a token renewal while the pod runs)
 * sees the old or the new content, never a truncated one, and a file left by an earlier kubelet
 * with another mode is replaced, not reused.
 */
async function writePrivateFile(path: string, content: string | Buffer, owner: Owner | undefined): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, content, { mode: 0o600 });
    await chmod(tmp, 0o600); // the umask only narrows; an existing leftover kept its mode
    await own(tmp, owner);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export type VolumeResult = { ok: true } | { error: string };

/** Materialises the pod's volumes: emptyDir folders, Secret/ConfigMap keys as files. */
export async function prepareVolumes(pod: Pod, paths: PodPaths, lookup: { secret(name: string): Secret | undefined; configMap(name: string): ConfigMap | undefined }, owner: Owner | undefined): Promise<VolumeResult> {
  for (const v of pod.spec.volumes ?? []) {
    const dir = join(paths.volumes, v.name);
    const result = await materialise(v, dir, lookup, owner);
    if ('error' in result) return result;
    if (v.emptyDir) {
      await chmod(dir, 0o777);
      await own(dir, owner);
    }
  }
  return { ok: true };
}

async function materialise(v: Volume, dir: string, lookup: { secret(name: string): Secret | undefined; configMap(name: string): ConfigMap | undefined }, owner: Owner | undefined): Promise<VolumeResult> {
  if (v.emptyDir) {
    await makeFoldersAsync(dir);
    return { ok: true };
  }
  let files: Record<string, Buffer> | undefined;
  let items: { key: string; path: string }[] | undefined;
  if (v.secret) {
    const s = lookup.secret(v.secret.secretName);
    if (!s) {
      if (v.secret.optional) return mkdirOk(dir);
      return { error: `MountVolume.SetUp failed for volume "${v.name}" : secret "${v.secret.secretName}" not found` };
    }
    files = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, b]) => [k, Buffer.from(b, 'base64')]));
    items = v.secret.items;
  } else if (v.configMap) {
    const cm = lookup.configMap(v.configMap.name);
    if (!cm) {
      if (v.configMap.optional) return mkdirOk(dir);
      return { error: `MountVolume.SetUp failed for volume "${v.name}" : configmap "${v.configMap.name}" not found` };
    }
    files = { ...Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, s]) => [k, Buffer.from(s, 'utf8')])), ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, b]) => [k, Buffer.from(b, 'base64')])) };
    items = v.configMap.items;
  } else {
    // Other volume types (hostPath, PVCs, projected, …) are not emulated: an empty folder stands in.
    return mkdirOk(dir);
  }
  await makeFoldersAsync(dir);
  const wanted = items ?? Object.keys(files).map((k) => ({ key: k, path: k }));
  for (const it of wanted) {
    const content = files[it.key];
    if (content === undefined) continue;
    const target = join(dir, it.path);
    if (relative(dir, target).startsWith('..')) continue;
    await makeFoldersAsync(dirname(target));
    // A Secret's keys are as private as the token; a ConfigMap's are not.
    if (v.secret) await writePrivateFile(target, content, owner);
    else await writeFile(target, content, { mode: 0o644 });
  }
  return { ok: true };
}

async function mkdirOk(dir: string): Promise<VolumeResult> {
  await makeFoldersAsync(dir);
  return { ok: true };
}

/** Links each of the container's volumeMounts into the pod root; returns mounts that could not be linked. */
export async function linkMounts(paths: PodPaths, mounts: { name: string; mountPath: string; subPath?: string }[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of mounts) {
    const link = hostPath(paths, m.mountPath);
    if (relative(paths.root, link).startsWith('..')) {
      problems.push(m.mountPath);
      continue;
    }
    const target = join(paths.volumes, m.name, m.subPath ?? '');
    if (m.subPath) await makeFoldersAsync(target);
    if (existsSync(link)) continue;
    await makeFoldersAsync(dirname(link));
    await symlink(target, link);
  }
  return problems;
}

/** A free TCP port on 127.0.0.1 (bound then released; good enough on one machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The first folder on the way to `path` that `uid`/`gid` may not enter (no execute permission for
 * it), or undefined. A pod running as another user needs every folder above its HOME to be
 * traversable; a private (0700) data folder would fail it with EACCES deep inside its program.
 */
export function firstUnreachableFolder(path: string, uid: number, gid: number): string | undefined {
  if (uid === 0) return undefined;
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const d of chain) {
    if (!existsSync(d)) return undefined;
    const st = statSync(d);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return d;
  }
  return undefined;
}
