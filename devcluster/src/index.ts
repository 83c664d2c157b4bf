// The dev cluster's public entry: a Kubernetes API server, the controllers (Job, ReplicaSet,
// Deployment, garbage collector), one kubelet that runs pods as local processes, and optionally an
// embedded S3 server, all in this process on free ports.
//
//   kubectl / helm / client-node ──HTTPS──▶ API server ◀──HTTP── controllers, kubelet (admin token)
//                                                │                        │
//                                                └── pods/log reads ◀─────┴── container log files
//
// It is generic Kubernetes: it imports nothing of the product, and the image→command map comes from
// the caller.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { newToken, startApiServer, type ApiFaults, type ApiServer } from './api/server.js';
import { ApiClient } from './client/apiClient.js';
import { InformerFactory } from './client/informerFactory.js';
import { DeploymentController } from './controllers/deploymentController.js';
import { GarbageCollector } from './controllers/garbageCollector.js';
import { JobController } from './controllers/jobController.js';
import type { BackoffSettings } from './controllers/jobBackoff.js';
import { ReplicaSetController } from './controllers/replicaSetController.js';
import type { ImageMap } from './kubelet/imageMap.js';
import { Kubelet } from './kubelet/kubelet.js';
import type { PodFaults } from './kubelet/podFaults.js';
import { logRoot, passageMode } from './kubelet/podSandbox.js';
import { makeFolders } from './folders.js';
import { writeAdminKubeconfig } from './kubeconfig.js';
import { startEmbeddedS3, type EmbeddedS3 } from './s3/embeddedS3.js';

export type { ImageEntry, ImageMap } from './kubelet/imageMap.js';
export type { PodFaults, PodFilter } from './kubelet/podFaults.js';
export type { ApiFaults, ApiServer } from './api/server.js';
export type { EmbeddedS3 } from './s3/embeddedS3.js';
export { ApiClient, ApiError } from './client/apiClient.js';
export { renderAdminKubeconfig, writeAdminKubeconfig } from './kubeconfig.js';
export { HOST_PORTS_ANNOTATION } from './kubelet/podWorker.js';

export interface DevClusterOptions {
  /** Pod folders and logs; by default a fresh temporary folder, removed by stop(). */
  dataDir?: string;
  /** API server port; 0 or unset = a free port. */
  port?: number;
  host?: string;
  /** Image name (without tag) or glob → local command. */
  images: ImageMap;
  /** Start the embedded S3 server with its data in this folder. */
  s3Dir?: string;
  /** Where to write the admin kubeconfig; default <dataDir>/kubeconfig. */
  kubeconfigPath?: string;
  clock?: () => Date;
  log?: (line: string) => void;
  /** Backoff between a Job's pod retries (Kubernetes: 10 s → 6 min; here 1 s → 60 s by default). */
  jobPodBackoff?: BackoffSettings;
  /** Crash-loop backoff of restarting containers (Kubernetes: 10 s → 5 min; here 2 s → 60 s by default). */
  containerRestartBackoff?: { baseMs: number; maxMs: number };
}

export interface DevCluster {
  /** https://127.0.0.1:PORT */
  url: string;
  kubeconfigPath: string;
  adminToken: string;
  /** CA of the API server's certificate. */
  caPem: string;
  dataDir: string;
  /** An admin client of the API (the runtime's own). */
  client: ApiClient;
  /** The API server itself (ServiceAccount tokens, watch-history compaction for 410 tests). */
  api: ApiServer;
  s3?: EmbeddedS3;
  faults: { api: ApiFaults; pods: PodFaults };
  /** The kubelet's name for itself (the only Node). */
  nodeName: string;
  stop(): Promise<void>;
}

export async function startDevCluster(opts: DevClusterOptions): Promise<DevCluster> {
  const log = opts.log ?? (() => undefined);
  // Run as root, the kubelet starts pods as their runAsUser (or image user): they pass through the
  // data folder to their own, so it is 0711 then, else 0700 (podSandbox.ts, "Access").
  const podsRunAsOthers = process.getuid?.() === 0;
  // A data folder the cluster made for itself goes away with it; one the caller chose stays.
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = resolve(opts.dataDir ?? mkdtempSync(join(tmpdir(), 'devcluster-')));
  const kubeconfigPath = resolve(opts.kubeconfigPath ?? join(dataDir, 'kubeconfig'));
  const removeOwnDataDir = () => {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  // Every folder first, so a path that cannot hold one (a typo, /proc) fails before a server starts.
  try {
    makeFolders(dataDir, passageMode(podsRunAsOthers));
    if (ownsDataDir) chmodSync(dataDir, passageMode(podsRunAsOthers));
    makeFolders(logRoot(dataDir), 0o700);
    makeFolders(dirname(kubeconfigPath));
    if (opts.s3Dir) makeFolders(opts.s3Dir);
  } catch (e) {
    removeOwnDataDir();
    throw e;
  }
  const adminToken = newToken();
  const api: ApiServer = await startApiServer({
    host: opts.host,
    port: opts.port,
    users: [{ token: adminToken, user: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] } }],
    clock: opts.clock,
    log,
    podLogRoot: logRoot(dataDir),
  });
  const started: { stop(): Promise<void> }[] = [];
  const client = new ApiClient({ url: api.httpUrl, token: adminToken, userAgent: 'devcluster-runtime' });
  try {
    const informers = new InformerFactory(client, log);
    started.push({ stop: () => informers.stop() });
    const common = { client, informers, now: opts.clock, log };
    const kubelet = new Kubelet({
      ...common,
      dataDir,
      enforceUsers: podsRunAsOthers,
      images: opts.images,
      api: { host: '127.0.0.1', port: api.port, caPem: api.caPem },
      restartBackoff: opts.containerRestartBackoff ?? { baseMs: 2000, maxMs: 60_000 },
    });
    const controllers = [
      new JobController({ ...common, podBackoff: opts.jobPodBackoff ?? { baseMs: 1000, maxMs: 60_000 } }),
      new ReplicaSetController(common),
      new DeploymentController(common),
      new GarbageCollector(common),
    ];
    // Stop order: controllers first (no new pods), then the kubelet (processes), then informers.
    started.unshift({ stop: () => kubelet.stop() });
    for (const c of controllers) started.unshift(c);
    // Pod processes run in their own process groups and would outlive this process: whatever way it
    // exits (short of SIGKILL), they go with it.
    const killPods = () => kubelet.killAllNow();
    process.on('exit', killPods);
    started.push({ stop: async () => void process.off('exit', killPods) });
    await kubelet.start();
    await Promise.all(controllers.map((c) => c.start()));
    const s3 = opts.s3Dir ? await startEmbeddedS3({ directory: resolve(opts.s3Dir) }) : undefined;
    if (s3) started.push(s3);
    writeAdminKubeconfig(kubeconfigPath, { server: api.url, token: adminToken, caPem: api.caPem });
    let stopping: Promise<void> | undefined;
    return {
      url: api.url,
      kubeconfigPath,
      adminToken,
      caPem: api.caPem,
      dataDir,
      client,
      api,
      s3,
      faults: { api: api.faults, pods: kubelet.faults },
      nodeName: kubelet.nodeName,
      stop() {
        stopping ??= (async () => {
          api.faults.clear();
          for (const s of started) await s.stop().catch((e: Error) => log(`devcluster: stopping: ${e.message}`));
          client.close();
          await api.stop();
          removeOwnDataDir();
        })();
        return stopping;
      },
    };
  } catch (e) {
    for (const s of started) await s.stop().catch(() => undefined);
    client.close();
    await api.stop();
    removeOwnDataDir();
    throw e;
  }
}
