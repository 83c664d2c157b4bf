// The pod status the kubelet reports, computed from the state of the pod's containers
// (pkg/kubelet/kubelet_pods.go getPhase / generateAPIPodStatus, for the parts this kubelet has):
//
//   a container never started ────────────▶ Pending
//   some running, none waiting to start ──▶ Running
//   all stopped: deleted/killed pod ──────▶ Succeeded if all exited 0, else Failed
//                restartPolicy Always ────▶ Running (restarting)
//                all exited 0 ────────────▶ Succeeded
//                Never ───────────────────▶ Failed;  OnFailure ─▶ Running (restarting)
import type { Condition, ContainerState, ContainerStatus, Pod, PodPhase, PodStatus } from '../client/types.js';

export interface ContainerRuntimeState {
  name: string;
  image: string;
  state: ContainerState;
  lastState: ContainerState;
  restartCount: number;
  ready: boolean;
  started: boolean;
  containerID?: string;
}

export interface PodRuntimeState {
  initContainers: ContainerRuntimeState[];
  containers: ContainerRuntimeState[];
  startTime?: string;
  /** The pod is being stopped for good (deleted, past its deadline, evicted): the phase becomes terminal. */
  terminal: boolean;
  /** Set by pod faults and evictions. */
  disruption?: { reason: string; message: string };
  reason?: string;
  message?: string;
  podIP: string;
  hostIP: string;
}

const neverStarted = (c: ContainerRuntimeState): boolean => !!c.state.waiting && !c.lastState.terminated;
const exitedZero = (c: ContainerRuntimeState): boolean => c.state.terminated?.exitCode === 0 || (!!c.state.waiting && c.lastState.terminated?.exitCode === 0);

export function podPhase(pod: Pod, rt: PodRuntimeState): PodPhase {
  const policy = pod.spec.restartPolicy ?? 'Always';
  const initPending = rt.initContainers.some((c) => c.state.terminated?.exitCode !== 0);
  if (initPending) {
    const failedInit = rt.initContainers.some((c) => c.state.terminated && c.state.terminated.exitCode !== 0);
    if (failedInit && (policy === 'Never' || rt.terminal)) return 'Failed';
    return 'Pending';
  }
  const waiting = rt.containers.filter(neverStarted).length;
  const running = rt.containers.filter((c) => c.state.running).length;
  const stopped = rt.containers.filter((c) => c.state.terminated || (c.state.waiting && c.lastState.terminated)).length;
  const succeeded = rt.containers.filter(exitedZero).length;
  if (rt.terminal && running === 0) {
    // A stopped pod never restarts: it ends Succeeded only if every container exited 0.
    return rt.containers.length > 0 && succeeded === rt.containers.length ? 'Succeeded' : 'Failed';
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(prev: Condition[] | undefined, type: string, status: 'True' | 'False', now: string, reason?: string, message?: string): Condition {
  const old = prev?.find((c) => c.type === type);
  const c: Condition = { type, status, lastProbeTime: null as unknown as string, lastTransitionTime: old && old.status === status ? (old.lastTransitionTime ?? now) : now };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

function toStatus(c: ContainerRuntimeState): ContainerStatus {
  const s: ContainerStatus = {
    name: c.name,
    image: c.image,
    imageID: `devcluster://${c.image}`,
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: c.state,
    lastState: c.lastState,
  };
  if (c.containerID) s.containerID = c.containerID;
  return s;
}

export function computePodStatus(pod: Pod, rt: PodRuntimeState, now: string): PodStatus {
  const prev = pod.status?.conditions;
  const phase = podPhase(pod, rt);
  const terminalPhase = phase === 'Succeeded' || phase === 'Failed';
  const initialized = rt.initContainers.every((c) => c.state.terminated?.exitCode === 0);
  const unready = rt.containers.filter((c) => !c.ready).map((c) => c.name);
  const conditions: Condition[] = [];
  if (rt.disruption) conditions.push(condition(prev, 'DisruptionTarget', 'True', now, rt.disruption.reason, rt.disruption.message));
  conditions.push(condition(prev, 'PodReadyToStartContainers', terminalPhase ? 'False' : 'True', now));
  conditions.push(
    initialized
      ? condition(prev, 'Initialized', 'True', now)
      : condition(prev, 'Initialized', 'False', now, 'ContainersNotInitialized', `containers with incomplete status: [${rt.initContainers.filter((c) => c.state.terminated?.exitCode !== 0).map((c) => c.name).join(' ')}]`),
  );
  if (terminalPhase && phase === 'Succeeded') {
    conditions.push(condition(prev, 'Ready', 'False', now, 'PodCompleted'));
    conditions.push(condition(prev, 'ContainersReady', 'False', now, 'PodCompleted'));
  } else if (unready.length === 0 && rt.containers.length > 0) {
    conditions.push(condition(prev, 'Ready', 'True', now));
    conditions.push(condition(prev, 'ContainersReady', 'True', now));
  } else {
    const msg = `containers with unready status: [${unready.join(' ')}]`;
    conditions.push(condition(prev, 'Ready', 'False', now, 'ContainersNotReady', msg));
    conditions.push(condition(prev, 'ContainersReady', 'False', now, 'ContainersNotReady', msg));
  }
  conditions.push(condition(prev, 'PodScheduled', 'True', now));
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: rt.hostIP,
    hostIPs: [{ ip: rt.hostIP }],
    podIP: rt.podIP,
    podIPs: [{ ip: rt.podIP }],
    qosClass: pod.status?.qosClass ?? 'BestEffort',
    containerStatuses: rt.containers.map(toStatus),
  };
  if (rt.initContainers.length > 0) status.initContainerStatuses = rt.initContainers.map(toStatus);
  if (rt.startTime) status.startTime = rt.startTime;
  if (rt.reason) status.reason = rt.reason;
  if (rt.message) status.message = rt.message;
  return status;
}

/** Kubelet's crash-loop backoff: base doubling per restart, capped (10 s → 5 min upstream). */
export function restartDelayMs(restartCount: number, baseMs: number, maxMs: number): number {
  if (restartCount <= 0) return 0;
  return Math.min(baseMs * 2 ** (restartCount - 1), maxMs);
}

/** Whether a container that exited is started again under the pod's restartPolicy. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  const p = policy ?? 'Always';
  return p === 'Always' || (p === 'OnFailure' && exitCode !== 0);
}
