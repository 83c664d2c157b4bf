// A pod's volumes as the kubelet's volume manager sets them up: the projected ServiceAccount token
// (TokenRequest bound to the pod, renewed at 80 % of its lifetime), Secret and ConfigMap volumes, and
// emptyDirs. A failure is a FailedMount message; the caller retries.
import type { ApiClient } from '../client/apiClient.js';
import { CONFIGMAPS, SECRETS, SERVICEACCOUNTS } from '../client/resources.js';
import type { ConfigMap, KubeObject, Pod, Secret } from '../client/types.js';
import { prepareVolumes, writeServiceAccount, type PodPaths } from './podSandbox.js';

export class PodVolumes {
  private tokenTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly caPem: string | undefined,
    private readonly now: () => Date,
    private readonly log: (line: string) => void,
  ) {}

  /** Returns a FailedMount message, or undefined when everything is in place. */
  async mount(pod: Pod, paths: PodPaths, owner: { uid: number; gid: number } | undefined): Promise<string | undefined> {
    const ns = pod.metadata.namespace!;
    const saName = pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? 'default';
    let automount = pod.spec.automountServiceAccountToken;
    if (automount !== false) {
      const sa = await this.client.tryGet<KubeObject & { automountServiceAccountToken?: boolean }>(SERVICEACCOUNTS, ns, saName);
      if (!sa) return `MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: serviceaccounts "${saName}" not found`;
      automount ??= sa.automountServiceAccountToken ?? true;
    }
    if (automount !== false) {
      try {
        await this.refreshToken(pod, paths, saName, owner);
      } catch (e) {
        return `MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: ${(e as Error).message}`;
      }
    }
    const secrets = new Map<string, Secret | undefined>();
    const configMaps = new Map<string, ConfigMap | undefined>();
    for (const v of pod.spec.volumes ?? []) {
      if (v.secret) secrets.set(v.secret.secretName, await this.client.tryGet<Secret>(SECRETS, ns, v.secret.secretName));
      if (v.configMap) configMaps.set(v.configMap.name, await this.client.tryGet<ConfigMap>(CONFIGMAPS, ns, v.configMap.name));
    }
    const r = await prepareVolumes(pod, paths, { secret: (n) => secrets.get(n), configMap: (n) => configMaps.get(n) }, owner);
    return 'error' in r ? r.error : undefined;
  }

  stop(): void {
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    this.tokenTimer = undefined;
  }

  private async refreshToken(pod: Pod, paths: PodPaths, saName: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
    const ns = pod.metadata.namespace!;
    const res = await this.client.createSubresource<{ status?: { token?: string; expirationTimestamp?: string } }>(SERVICEACCOUNTS, ns, saName, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
    });
    const token = res.status?.token;
    if (!token) throw new Error('the TokenRequest answer carried no token');
    await writeServiceAccount(paths, { token, caPem: this.caPem, namespace: ns }, owner);
    const expires = Date.parse(res.status?.expirationTimestamp ?? '');
    const lifetime = Number.isFinite(expires) ? expires - this.now().getTime() : 3607_000;
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    this.tokenTimer = setTimeout(() => void this.refreshToken(pod, paths, saName, owner).catch((e: Error) => this.log(`kubelet: token refresh for ${ns}/${pod.metadata.name}: ${e.message}`)), Math.max(lifetime * 0.8, 1000));
    this.tokenTimer.unref();
  }
}
