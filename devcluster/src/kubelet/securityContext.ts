// Which user a container runs as, and the kubelet's runAsNonRoot check (verifyRunAsNonRoot).
// Container settings win over the pod's; without runAsUser the image's user applies (the image map's
// `user`, root when unset).
import type { Container, Pod } from '../client/types.js';
import type { ImageEntry } from './imageMap.js';

export type UserResult = { uid: number; gid: number } | { error: string };

/** format.Pod: `name_namespace(uid)`, as the kubelet names pods in messages. */
export const podRef = (pod: Pod): string => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

export function containerUser(pod: Pod, container: Container, entry: ImageEntry): UserResult {
  const sc = container.securityContext ?? {};
  const psc = pod.spec.securityContext ?? {};
  const explicitUid = sc.runAsUser ?? psc.runAsUser;
  const uid = explicitUid ?? entry.user ?? 0;
  const gid = sc.runAsGroup ?? psc.runAsGroup ?? 0;
  const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  if (nonRoot) {
    if (explicitUid === 0) return { error: `container's runAsUser breaks non-root policy (pod: "${podRef(pod)}", container: ${container.name})` };
    if (explicitUid === undefined && uid === 0) return { error: `container has runAsNonRoot and image will run as root (pod: "${podRef(pod)}", container: ${container.name})` };
  }
  return { uid, gid };
}
