// Where the operator finds its cluster, in this order: the --kubeconfig flag, $KUBECONFIG, the
// in-cluster service account. On the dev cluster a pod's service-account folder cannot live at
// /var/run/secrets/…, so the kubelet passes the folder's path prefix in an environment variable,
// which loadFromCluster(prefix) understands.
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * The env var carrying the path prefix of a pod's filesystem on the dev cluster (its kubelet runs
 * pods as plain processes and sets it); unset on a real cluster, where the prefix is empty.
 */
export const SERVICE_ACCOUNT_PREFIX_ENV = ['DEVCLUSTER_ROOT'];
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedConfig {
  kubeConfig: KubeConfig;
  source: string;
  /** The pod's namespace when running in a cluster (default for the leader lease). */
  podNamespace?: string;
}

export function loadKubeConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const kc = new KubeConfig();
  if (flag) {
    kc.loadFromFile(flag);
    return { kubeConfig: kc, source: `--kubeconfig ${flag}` };
  }
  if (env.KUBECONFIG) {
    const first = env.KUBECONFIG.split(':').find(Boolean)!;
    kc.loadFromFile(first);
    return { kubeConfig: kc, source: `KUBECONFIG=${first}` };
  }
  if (env.KUBERNETES_SERVICE_HOST) {
    const prefix = SERVICE_ACCOUNT_PREFIX_ENV.map((k) => env[k]).find(Boolean) ?? '';
    kc.loadFromCluster(prefix);
    const nsFile = `${prefix}${SA_DIR}/namespace`;
    const podNamespace = env.POD_NAMESPACE ?? (existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined);
    return { kubeConfig: kc, source: `in-cluster service account${prefix ? ` (${prefix}${SA_DIR})` : ''}`, ...(podNamespace ? { podNamespace } : {}) };
  }
  throw new Error('no cluster to talk to: pass --kubeconfig FILE, set KUBECONFIG, or run the operator in a pod (in-cluster service account)');
}
