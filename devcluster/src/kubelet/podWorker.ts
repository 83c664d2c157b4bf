// One pod's life on the dev cluster's node, as the kubelet's pod worker drives it:
//
//   bind ─▶ sandbox (folders, ports, service-account token, volumes) ─▶ init containers in order
//        ─▶ containers: config (image, env, user) ─▶ process ─▶ exit ─▶ restart per restartPolicy
//                                                                      with crash-loop backoff
//   deletion / activeDeadlineSeconds / pod fault ─▶ SIGTERM, SIGKILL after the grace period
//        ─▶ terminal phase written ─▶ (deletion) final DELETE with gracePeriodSeconds=0
//
// Every step that waits on the cluster (a missing Secret, ServiceAccount or image entry) is
// reported in the container's waiting state with the kubelet's reason and retried.
import { join } from 'node:path';
import { isAlreadyExists, isConflict, isNotFound, type ApiClient } from '../client/apiClient.js';
import { PODS } from '../client/resources.js';
import type { Container, ContainerState, Pod } from '../client/types.js';
import type { EventRecorder } from '../controllers/events.js';
import { nowIso } from '../controllers/podState.js';
import { makeFoldersAsync } from '../folders.js';
import { podOwner, prepareLaunch } from './containerLaunch.js';
import type { ImageMap } from './imageMap.js';
import { createSandbox, freePort, podPaths, type PodPaths } from './podSandbox.js';
import { computePodStatus, restartDelayMs, shouldRestart, type ContainerRuntimeState, type PodRuntimeState } from './podStatus.js';
import { PodVolumes } from './podVolumes.js';
import { resolvePort, startProbing } from './probes.js';
import { startProcess, type ContainerProcess } from './processRunner.js';
import { podRef } from './securityContext.js';

export const HOST_PORTS_ANNOTATION = 'devcluster.sparkify.io/host-ports';

export interface WorkerContext {
  client: ApiClient;
  nodeName: string;
  dataDir: string;
  images: ImageMap;
  /** Where in-cluster clients reach the API server, and the CA that signs it (https). */
  api: { host: string; port: number; caPem?: string };
  hostIP: string;
  node: { cpus: number; memoryBytes: number };
  restartBackoff: { baseMs: number; maxMs: number };
  /** Retry delay for a container that cannot be configured yet. */
  configRetryMs: number;
  /** Run containers as their runAsUser (needs root); otherwise as the kubelet's own user. */
  enforceUsers: boolean;
  events: EventRecorder;
  now(): Date;
  log(line: string): void;
}


const sleep = (ms: number, wake: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (wake.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    wake.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class PodWorker {
  readonly paths: PodPaths;
  private readonly rt: PodRuntimeState;
  private readonly procs = new Map<string, ContainerProcess>();
  private readonly ports = new Map<number, number>();
  private terminating: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  private statusDirty = false;
  private statusWriting: Promise<void> | undefined;
  private lastWritten = '';
  private readonly volumes: PodVolumes;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private gone = false;
  private finalDeleted = false;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  private killAt = Infinity;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    public pod: Pod,
  ) {
    this.paths = podPaths(ctx.dataDir, pod);
    this.volumes = new PodVolumes(ctx.client, ctx.api.caPem, ctx.now, ctx.log);
    const waiting = (c: Container): ContainerRuntimeState => ({ name: c.name, image: c.image ?? '', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, restartCount: 0, ready: false, started: false });
    this.rt = {
      initContainers: (pod.spec.initContainers ?? []).map((c) => ({ ...waiting(c), state: { waiting: { reason: 'PodInitializing' } } })),
      containers: pod.spec.containers.map(waiting),
      terminal: false,
      podIP: ctx.hostIP,
      hostIP: ctx.hostIP,
    };
  }

  get key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  /** Last resort when the whole process exits: SIGKILL every process group now, synchronously. */
  killNow(): void {
    for (const p of this.procs.values()) p.signal('SIGKILL');
  }

  isRunning(): boolean {
    return this.procs.size > 0;
  }

  start(): void {
    this.running ??= this.run().catch((e: Error) => this.ctx.log(`kubelet: pod ${this.key}: ${e.stack ?? e.message}`));
  }

  /** A newer version of the pod from the API. */
  update(pod: Pod): void {
    this.pod = pod;
    if (pod.metadata.deletionTimestamp) void this.terminate({ grace: pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30, deleteAfter: true });
  }

  /** The pod object is gone (deleted, even forcibly): stop whatever still runs, write nothing. */
  async removed(): Promise<void> {
    this.gone = true;
    await this.terminate({ grace: 0, deleteAfter: false });
  }

  /** Pod fault: the node kills the pod, which becomes terminal whatever its restartPolicy. */
  kill(signal: NodeJS.Signals, disruption?: { reason: string; message: string }): Promise<void> {
    if (disruption) this.rt.disruption = disruption;
    this.markDirty();
    return this.terminate({ grace: signal === 'SIGKILL' ? 0 : (this.pod.spec.terminationGracePeriodSeconds ?? 30), signal, deleteAfter: false });
  }

  /** Cluster shutdown: stop processes quickly, leave the API alone. */
  async shutdown(graceMs: number): Promise<void> {
    this.gone = true;
    await this.terminate({ grace: graceMs / 1000, deleteAfter: false });
  }

  private async run(): Promise<void> {
    const phase = this.pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    if (!this.pod.spec.nodeName) await this.bind();
    if (this.pod.metadata.deletionTimestamp) return void this.update(this.pod);
    this.rt.startTime = nowIso(this.ctx.now());
    this.markDirty();
    if (this.pod.spec.activeDeadlineSeconds !== undefined) {
      this.deadlineTimer = setTimeout(() => {
        this.rt.reason = 'DeadlineExceeded';
        this.rt.message = 'Pod was active on the node longer than the specified deadline';
        this.ctx.events.event(this.pod, 'Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
        void this.terminate({ grace: this.pod.spec.terminationGracePeriodSeconds ?? 30, deleteAfter: false });
      }, this.pod.spec.activeDeadlineSeconds * 1000);
      this.deadlineTimer.unref();
    }
    if (!(await this.prepareSandbox())) return;
    for (const [i, c] of (this.pod.spec.initContainers ?? []).entries()) {
      const ok = await this.containerLoop(c, this.rt.initContainers[i]!, true);
      if (!ok) return;
    }
    await Promise.all(this.pod.spec.containers.map((c, i) => this.containerLoop(c, this.rt.containers[i]!, false)));
    // Every container finished and none restarts: the phase is terminal now.
    this.rt.terminal = true;
    this.markDirty();
    await this.flushStatus();
  }

  /** Binds the pod to this node through the pods/binding subresource, as the scheduler does. */
  private async bind(): Promise<void> {
    const ns = this.pod.metadata.namespace;
    const name = this.pod.metadata.name!;
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: this.ctx.nodeName } };
    for (let attempt = 0; !this.stopSignal.signal.aborted; attempt++) {
      try {
        await this.ctx.client.createSubresource(PODS, ns, name, 'binding', binding);
        this.pod = { ...this.pod, spec: { ...this.pod.spec, nodeName: this.ctx.nodeName } };
        this.ctx.events.event(this.pod, 'Normal', 'Scheduled', `Successfully assigned ${this.key} to ${this.ctx.nodeName}`);
        return;
      } catch (e) {
        if (isNotFound(e)) {
          this.gone = true;
          this.stopSignal.abort();
          return;
        }
        // Already bound (by an earlier attempt whose answer was lost): the informer shows to which node.
        if (isConflict(e) || isAlreadyExists(e)) {
          const fresh = await this.ctx.client.tryGet<Pod>(PODS, ns, name).catch(() => undefined);
          if (fresh?.spec.nodeName === this.ctx.nodeName) {
            this.pod = fresh;
            return;
          }
        }
        this.ctx.log(`kubelet: binding ${this.key}: ${(e as Error).message}`);
        await sleep(Math.min(100 * 2 ** attempt, 2000), this.stopSignal.signal);
      }
    }
  }

  /** Folders, host ports, the service-account token and volumes; retried until ready or stopped. */
  private async prepareSandbox(): Promise<boolean> {
    const owner = this.ctx.enforceUsers ? podOwner(this.ctx.images, this.pod) : undefined;
    await createSandbox(this.paths, owner);
    for (const c of [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers]) {
      for (const p of c.ports ?? []) {
        if (!this.ports.has(p.containerPort)) this.ports.set(p.containerPort, (p as { hostPort?: number }).hostPort ?? (await freePort()));
      }
    }
    if (this.ports.size > 0) {
      const value = JSON.stringify(Object.fromEntries(this.ports));
      await this.ctx.client.patch(PODS, this.pod.metadata.namespace, this.pod.metadata.name!, { metadata: { annotations: { [HOST_PORTS_ANNOTATION]: value } } }, 'merge').catch((e: Error) => this.ctx.log(`kubelet: annotating ${this.key}: ${e.message}`));
    }
    for (let attempt = 0; !this.stopSignal.signal.aborted; attempt++) {
      const problem = await this.volumes.mount(this.pod, this.paths, owner);
      if (!problem) return true;
      if (attempt === 0 || attempt % 10 === 0) this.ctx.events.event(this.pod, 'Warning', 'FailedMount', problem);
      await sleep(Math.min(this.ctx.configRetryMs * 2 ** Math.min(attempt, 4), 10_000), this.stopSignal.signal);
    }
    return false;
  }

  /**
   * Runs one container until it is done for good. Returns whether it ended successfully (what an
   * init container needs to let the next one start).
   */
  private async containerLoop(c: Container, st: ContainerRuntimeState, init: boolean): Promise<boolean> {
    const policy = init && this.pod.spec.restartPolicy === 'Always' ? 'OnFailure' : this.pod.spec.restartPolicy;
    let configAttempt = 0;
    while (!this.stopSignal.signal.aborted) {
      const prepared = await prepareLaunch(this.ctx, this.pod, this.paths, this.ports, c);
      if (this.stopSignal.signal.aborted) break;
      if ('reason' in prepared) {
        if (st.state.waiting?.reason !== prepared.reason || st.state.waiting?.message !== prepared.message) {
          this.ctx.events.event(this.pod, 'Warning', 'Failed', `Error: ${prepared.message}`);
        }
        st.state = { waiting: { reason: prepared.reason, message: prepared.message } };
        this.markDirty();
        await sleep(Math.min(this.ctx.configRetryMs * 2 ** Math.min(configAttempt++, 4), 10_000), this.stopSignal.signal);
        continue;
      }
      configAttempt = 0;
      const launch = prepared.launch;
      for (const w of prepared.warnings) this.ctx.events.event(this.pod, 'Warning', 'InvalidEnvironmentVariableNames', w);
      const logDir = join(this.paths.logs, c.name);
      await makeFoldersAsync(logDir, 0o700);
      // Stopped while the folder was being made: starting now would outlive the stop.
      if (this.stopSignal.signal.aborted) break;
      const startedAt = nowIso(this.ctx.now());
      const proc = startProcess({ ...launch, logPath: join(logDir, `${st.restartCount}.log`) });
      this.procs.set(c.name, proc);
      // Running only once the process exists (a command that cannot start goes straight to StartError).
      const running = await proc.started;
      st.containerID = `devcluster://${this.pod.metadata.uid}/${c.name}/${st.restartCount}`;
      if (running) {
        st.state = { running: { startedAt } };
        st.started = !c.startupProbe;
        st.ready = init ? false : !c.readinessProbe && st.started;
        this.markDirty();
        this.ctx.events.event(this.pod, 'Normal', 'Started', `Started container ${c.name}`);
      }
      const probing = init
        ? undefined
        : startProbing({
            container: c,
            state: st,
            probeContext: { hostPort: (p) => resolvePort(c, p, this.ports), env: launch.env, cwd: launch.cwd, uid: launch.uid, gid: launch.gid },
            changed: () => this.markDirty(),
            event: (type, reason, message) => this.ctx.events.event(this.pod, type, reason, message),
            restart: () => {
              proc.signal('SIGTERM');
              setTimeout(() => proc.signal('SIGKILL'), (this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000).unref();
            },
          });
      const exit = await proc.exited;
      probing?.abort();
      this.procs.delete(c.name);
      const terminated: ContainerState['terminated'] = {
        exitCode: exit.exitCode,
        reason: exit.startError ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error',
        startedAt,
        finishedAt: nowIso(this.ctx.now()),
        containerID: st.containerID,
      };
      if (exit.startError) terminated.message = exit.startError;
      st.state = { terminated };
      st.ready = false;
      st.started = false;
      this.markDirty();
      if (this.stopSignal.signal.aborted || this.rt.terminal) return exit.exitCode === 0;
      if (!shouldRestart(policy, exit.exitCode)) return exit.exitCode === 0;
      const delay = restartDelayMs(st.restartCount + 1, this.ctx.restartBackoff.baseMs, this.ctx.restartBackoff.maxMs);
      st.lastState = { terminated };
      st.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${podRef(this.pod)}` } };
      this.ctx.events.event(this.pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podRef(this.pod)}`);
      this.markDirty();
      await sleep(delay, this.stopSignal.signal);
      if (this.stopSignal.signal.aborted) {
        st.state = { terminated };
        return exit.exitCode === 0;
      }
      st.restartCount++;
    }
    return false;
  }

  /**
   * Stops the pod for good: SIGTERM (or the given signal), SIGKILL after the grace period, then the
   * terminal status, then — for a deletion — the final DELETE that lets the API server remove it.
   */
  private async terminate(opts: { grace: number; signal?: NodeJS.Signals; deleteAfter: boolean }): Promise<void> {
    // A second, shorter request (force deletion, cluster shutdown) brings the SIGKILL forward.
    if (this.terminating) this.scheduleKill(opts.grace);
    await (this.terminating ??= this.stopContainers(opts));
    if (this.gone || this.finalDeleted || !(opts.deleteAfter || this.pod.metadata.deletionTimestamp)) return;
    this.finalDeleted = true;
    try {
      await this.ctx.client.delete(PODS, this.pod.metadata.namespace, this.pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.pod.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) {
        this.finalDeleted = false;
        this.ctx.log(`kubelet: final delete of ${this.key}: ${(e as Error).message}`);
      }
    }
  }

  private scheduleKill(graceSeconds: number): void {
    const at = Date.now() + Math.max(graceSeconds, 0) * 1000;
    if (at >= this.killAt) return;
    this.killAt = at;
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      for (const p of this.procs.values()) p.signal('SIGKILL');
    }, at - Date.now());
  }

  private async stopContainers(opts: { grace: number; signal?: NodeJS.Signals }): Promise<void> {
    this.rt.terminal = true;
    this.stopSignal.abort();
    this.volumes.stop();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const procs = [...this.procs.entries()];
    for (const [name, p] of procs) {
      if (!this.gone) this.ctx.events.event(this.pod, 'Normal', 'Killing', `Stopping container ${name}`);
      p.signal(opts.signal ?? 'SIGTERM');
    }
    if (procs.length > 0) {
      this.scheduleKill(opts.grace);
      await Promise.all(procs.map(([, p]) => p.exited));
      clearTimeout(this.killTimer);
    }
    await this.running;
    // Containers that never started end as terminated too, so the pod's phase is final.
    for (const st of [...this.rt.initContainers, ...this.rt.containers]) {
      if (!st.state.waiting) continue;
      const last = st.lastState.terminated;
      st.state = last ? { terminated: last } : { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } };
    }
    if (this.gone) return;
    this.markDirty();
    await this.flushStatus();
  }

  private markDirty(): void {
    if (this.gone) return;
    this.statusDirty = true;
    this.statusWriting ??= this.writeStatusLoop().finally(() => (this.statusWriting = undefined));
  }

  private async flushStatus(): Promise<void> {
    while (this.statusWriting) await this.statusWriting;
  }

  /** One writer per pod: the latest status wins, writes never overlap. */
  private async writeStatusLoop(): Promise<void> {
    let failures = 0;
    while (this.statusDirty && !this.gone) {
      this.statusDirty = false;
      const status = computePodStatus(this.pod, this.rt, nowIso(this.ctx.now()));
      const text = JSON.stringify(status);
      if (text === this.lastWritten) continue;
      try {
        // A merge patch of the status subresource: the kubelet owns status, so last writer wins.
        const patch = { status: { ...status, reason: status.reason ?? null, message: status.message ?? null } };
        const updated = await this.ctx.client.patch<Pod>(PODS, this.pod.metadata.namespace, this.pod.metadata.name!, patch, 'merge', 'status');
        this.lastWritten = text;
        if (updated.metadata.resourceVersion) this.pod = { ...this.pod, status: updated.status };
        failures = 0;
      } catch (e) {
        if (isNotFound(e)) {
          this.gone = true;
          return;
        }
        failures++;
        this.statusDirty = true;
        this.ctx.log(`kubelet: status of ${this.key}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** failures, 2000)));
      }
    }
  }
}
