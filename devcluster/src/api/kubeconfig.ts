// A kubeconfig for one identity on the dev cluster (kubectl, helm, client-node all read it), and the
// in-cluster files a pod's client expects (token, ca.crt, namespace).
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** https://127.0.0.1:PORT */
  server: string;
  caPem: string;
  token: string;
  user?: string;
  context?: string;
  namespace?: string;
}

export function renderKubeconfig(o: KubeconfigOptions): string {
  const context = o.context ?? 'devcluster';
  const user = o.user ?? 'admin';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server: o.server, 'certificate-authority-data': Buffer.from(o.caPem).toString('base64') } }],
    users: [{ name: user, user: { token: o.token } }],
    contexts: [{ name: context, context: { cluster: context, user, ...(o.namespace ? { namespace: o.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}
