// The dev cluster's single node: it registers a Node, watches pods, binds unscheduled ones to itself
// (there is no scheduler) and runs each in a PodWorker. Container logs go where the API server reads
// them for pods/log (processRunner.ts). It also offers pod faults for reliability tests.
import { arch, cpus, release, totalmem } from 'node:os';
import { isAlreadyExists, isNotFound, type ApiClient } from '../client/apiClient.js';
import type { InformerFactory } from '../client/informerFactory.js';
import { NODES, PODS, type Resource } from '../client/resources.js';
import type { KubeObject, Pod } from '../client/types.js';
import { eventRecorder, type EventRecorder } from '../controllers/events.js';
import { nowIso } from '../controllers/podState.js';
import type { ImageMap } from './imageMap.js';
import { podFaults, type PodFaults } from './podFaults.js';
import { prepareNodeFolders, removeSandbox } from './podSandbox.js';
import { PodWorker, type WorkerContext } from './podWorker.js';

export interface KubeletOptions {
  client: ApiClient;
  informers: InformerFactory;
  dataDir: string;
  images: ImageMap;
  api: { host: string; port: number; caPem?: string };
  nodeName?: string;
  /** Crash-loop backoff (Kubernetes: 10 s doubling to 5 min). */
  restartBackoff?: { baseMs: number; maxMs: number };
  configRetryMs?: number;
  /** Default: true when running as root (switching uid needs it). */
  enforceUsers?: boolean;
  now?: () => Date;
  random?: () => number;
  log?: (line: string) => void;
}

export const DEFAULT_NODE_NAME = 'devcluster';

const LEASES: Resource = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
/** The kubelet's node lease: renewed every 10 s, valid 40 s (upstream's defaults). */
const LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;

export class Kubelet {
  readonly nodeName: string;
  private readonly workers = new Map<string, PodWorker>();
  private readonly ctx: WorkerContext;
  private readonly events: EventRecorder;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private leaseRenewal: ReturnType<typeof setInterval> | undefined;
  /** When the node's conditions last changed (they never do here): kept across heartbeats. */
  private conditionsSince = '';
  private stopping = false;
  readonly faults: PodFaults;

  constructor(private readonly opts: KubeletOptions) {
    this.nodeName = opts.nodeName ?? DEFAULT_NODE_NAME;
    const now = opts.now ?? (() => new Date());
    const log = opts.log ?? (() => undefined);
    this.events = eventRecorder(opts.client, 'kubelet', now, log);
    this.ctx = {
      client: opts.client,
      nodeName: this.nodeName,
      dataDir: opts.dataDir,
      images: opts.images,
      api: opts.api,
      hostIP: '127.0.0.1',
      node: { cpus: cpus().length, memoryBytes: totalmem() },
      restartBackoff: opts.restartBackoff ?? { baseMs: 10_000, maxMs: 300_000 },
      configRetryMs: opts.configRetryMs ?? 1000,
      enforceUsers: opts.enforceUsers ?? process.getuid?.() === 0,
      events: this.events,
      now,
      log,
    };
    this.faults = podFaults({ workers: () => [...this.workers.values()], random: opts.random ?? Math.random });
  }

  async start(): Promise<void> {
    await prepareNodeFolders(this.ctx.dataDir, this.ctx.enforceUsers);
    await this.registerNode();
    this.heartbeat = setInterval(() => void this.postNodeStatus().catch((e: Error) => this.ctx.log(`kubelet: node status: ${e.message}`)), 30_000);
    this.heartbeat.unref();
    await this.renewLease().catch((e: Error) => this.ctx.log(`kubelet: node lease: ${e.message}`));
    this.leaseRenewal = setInterval(() => void this.renewLease().catch((e: Error) => this.ctx.log(`kubelet: node lease: ${e.message}`)), LEASE_RENEW_MS);
    this.leaseRenewal.unref();
    const pods = this.opts.informers.informer<Pod>(PODS);
    pods.on({ add: (p) => this.observe(p), update: (_o, p) => this.observe(p), delete: (p) => void this.forget(p) });
    await pods.start();
    for (const p of pods.list()) this.observe(p);
  }

  /** Stops every pod's processes (SIGTERM, SIGKILL after graceMs) and the log endpoint. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.leaseRenewal) clearInterval(this.leaseRenewal);
    await Promise.all([...this.workers.values()].map((w) => w.shutdown(graceMs)));
    await this.events.flush();
  }

  /** Synchronous last resort (process exit): SIGKILL every pod's processes. */
  killAllNow(): void {
    for (const w of this.workers.values()) w.killNow();
  }

  private observe(p: Pod): void {
    if (this.stopping) return;
    if (p.spec.nodeName && p.spec.nodeName !== this.nodeName) return;
    const uid = p.metadata.uid!;
    const w = this.workers.get(uid);
    if (w) return w.update(p);
    const phase = p.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const worker = new PodWorker(this.ctx, p);
    this.workers.set(uid, worker);
    worker.start();
  }

  private async forget(p: Pod): Promise<void> {
    const w = this.workers.get(p.metadata.uid!);
    if (!w) return;
    this.workers.delete(p.metadata.uid!);
    await w.removed();
    await removeSandbox(w.paths);
  }

  private nodeObject(): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.nodeName,
        labels: { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(), 'node-role.kubernetes.io/control-plane': '' },
      },
      spec: {},
    };
  }

  private nodeStatus(): Record<string, unknown> {
    const now = nowIso(this.ctx.now());
    this.conditionsSince ||= now;
    const mem = `${Math.floor(totalmem() / 1024)}Ki`;
    const resources = { cpu: String(cpus().length), memory: mem, pods: '110', 'ephemeral-storage': '100Gi' };
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: this.conditionsSince });
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: this.nodeName },
      ],
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: 'devcluster (pods run as local processes)',
        containerRuntimeVersion: 'devcluster://1.0.0',
        kubeletVersion: 'v1.33.0-devcluster',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: arch() === 'x64' ? 'amd64' : arch(),
      },
    };
  }

  private async registerNode(): Promise<void> {
    try {
      await this.opts.client.create(NODES, undefined, this.nodeObject());
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    await this.postNodeStatus();
  }

  /**
   * Node heartbeats as upstream's kubelet sends them: a Lease in kube-node-lease named after the node
   * (`kubectl describe node` shows it; node-lifecycle tooling reads renewTime).
   */
  private async renewLease(): Promise<void> {
    const now = this.ctx.now().toISOString().replace('Z', '000Z');
    const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now };
    try {
      await this.opts.client.patch(LEASES, LEASE_NAMESPACE, this.nodeName, { spec }, 'merge');
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const node = await this.opts.client.get(NODES, undefined, this.nodeName);
      const ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: node.metadata.uid! }];
      await this.opts.client.create(LEASES, LEASE_NAMESPACE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.nodeName, namespace: LEASE_NAMESPACE, ownerReferences }, spec: { ...spec, acquireTime: now } });
    }
  }

  private async postNodeStatus(): Promise<void> {
    await this.opts.client.patch(NODES, undefined, this.nodeName, { status: this.nodeStatus() }, 'merge', 'status');
  }
}
