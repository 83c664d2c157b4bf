// The admin kubeconfig of a dev cluster, read alike by kubectl, helm and @kubernetes/client-node.
// The server speaks HTTPS with a CA generated at start, so the kubeconfig carries that CA
// (certificate-authority-data) and no TLS check is skipped. A plain-http server (not the default)
// gets `insecure-skip-tls-verify: true`, without which client-node refuses to talk to it.
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { makeFolders } from './folders.js';

export interface KubeconfigSpec {
  server: string;
  token: string;
  /** PEM CA bundle of an https server. */
  caPem?: string;
  /** Cluster, context and user entry name. */
  name?: string;
  namespace?: string;
}

export function renderAdminKubeconfig(k: KubeconfigSpec): string {
  const name = k.name ?? 'devcluster';
  const cluster: Record<string, unknown> = { server: k.server };
  if (k.server.startsWith('https:') && k.caPem) cluster['certificate-authority-data'] = Buffer.from(k.caPem).toString('base64');
  else cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name: `${name}-admin`, user: { token: k.token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, ...(k.namespace ? { namespace: k.namespace } : {}) } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes the kubeconfig with owner-only permissions (it holds an admin token). */
export function writeAdminKubeconfig(path: string, k: KubeconfigSpec): void {
  makeFolders(dirname(path));
  writeFileSync(path, renderAdminKubeconfig(k), { mode: 0o600 });
}
