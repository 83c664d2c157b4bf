// Container probes (httpGet, exec, tcpSocket) and the kubelet's threshold logic. Pods share the
// host's network, so a probe goes to 127.0.0.1 at the host port the kubelet assigned to the
// container port (see DEVCLUSTER_PORT_<containerPort> in docs/devcluster.md ("Runtime")).
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from '../client/types.js';

export type ProbeResult = 'success' | 'failure';

export interface ProbeContext {
  /** Host port for a container port number or name; undefined when the container has no such port. */
  hostPort(port: number | string): number | undefined;
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
}

export function resolvePort(container: Container, port: number | string, map: Map<number, number>): number | undefined {
  const n = typeof port === 'number' ? port : /^\d+$/.test(port) ? Number(port) : container.ports?.find((p) => p.name === port)?.containerPort;
  if (n === undefined) return undefined;
  return map.get(n) ?? n;
}

export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = ctx.hostPort(probe.httpGet.port);
    if (port === undefined) return 'failure';
    const lib = (probe.httpGet.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? https : http;
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.33', Accept: '*/*' };
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return new Promise((resolve) => {
      const req = lib.get({ host: '127.0.0.1', port, path: probe.httpGet!.path ?? '/', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400 ? 'success' : 'failure');
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve('failure'));
    });
  }
  if (probe.tcpSocket) {
    const port = ctx.hostPort(probe.tcpSocket.port);
    if (port === undefined) return 'failure';
    return new Promise((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port, timeout: timeoutMs });
      sock.once('connect', () => {
        sock.destroy();
        resolve('success');
      });
      sock.once('timeout', () => {
        sock.destroy();
        resolve('failure');
      });
      sock.once('error', () => resolve('failure'));
    });
  }
  if (probe.exec?.command?.length) {
    const [cmd, ...args] = probe.exec.command;
    return new Promise((resolve) => {
      let done = false;
      const child = spawn(cmd!, args, { cwd: ctx.cwd, env: ctx.env, uid: ctx.uid, gid: ctx.gid, stdio: 'ignore' });
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        if (!done) resolve('failure');
        done = true;
      }, timeoutMs);
      child.once('error', () => {
        clearTimeout(t);
        if (!done) resolve('failure');
        done = true;
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        if (!done) resolve(code === 0 ? 'success' : 'failure');
        done = true;
      });
    });
  }
  return 'success';
}

/** Consecutive-result bookkeeping: the state flips after successThreshold / failureThreshold results. */
export class ProbeTracker {
  private successes = 0;
  private failures = 0;
  constructor(
    private readonly probe: Probe,
    public passing: boolean,
  ) {}

  record(r: ProbeResult): boolean {
    if (r === 'success') {
      this.successes++;
      this.failures = 0;
      if (!this.passing && this.successes >= (this.probe.successThreshold ?? 1)) this.passing = true;
    } else {
      this.failures++;
      this.successes = 0;
      if (this.passing && this.failures >= (this.probe.failureThreshold ?? 3)) this.passing = false;
      if (!this.passing && this.failures >= (this.probe.failureThreshold ?? 3)) return false;
    }
    return this.passing;
  }

  get failedOut(): boolean {
    return this.failures >= (this.probe.failureThreshold ?? 3);
  }
}

export interface ProbedContainer {
  container: Container;
  /** The container's live state: `started` and `ready` are set here. */
  state: { started: boolean; ready: boolean };
  probeContext: ProbeContext;
  /** Something changed that the pod status should show. */
  changed(): void;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** A liveness/startup probe failed out: the container must be restarted. */
  restart(): void;
}

/**
 * Sleeps `ms`, or less when `wake` aborts. The abort listener goes when the timer fires: a probe loop
 * pauses on the same signal for the pod's whole life, and listeners left behind would pile up
 * (MaxListenersExceededWarning after ten periods, and memory for as long as the pod runs).
 */
export const pause = (ms: number, wake: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (wake.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      wake.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    wake.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs a container's startup, readiness and liveness probes until the returned controller aborts.
 * Readiness and liveness wait for the startup probe, as in the kubelet.
 */
export function startProbing(p: ProbedContainer): AbortController {
  const stop = new AbortController();
  const c = p.container;
  const loop = async (kind: 'readiness' | 'liveness' | 'startup') => {
    const probe = kind === 'readiness' ? c.readinessProbe : kind === 'liveness' ? c.livenessProbe : c.startupProbe;
    if (!probe) return;
    const tracker = new ProbeTracker(probe, kind === 'liveness');
    await pause((probe.initialDelaySeconds ?? 0) * 1000, stop.signal);
    while (!stop.signal.aborted) {
      if (kind !== 'startup' && !p.state.started) {
        await pause(200, stop.signal);
        continue;
      }
      const result = await runProbe(probe, p.probeContext);
      if (stop.signal.aborted) return;
      const was = tracker.passing;
      const passing = tracker.record(result);
      if (result === 'failure') p.event('Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed`);
      if (kind === 'readiness' && passing !== p.state.ready) {
        p.state.ready = passing;
        p.changed();
      }
      if (kind === 'startup' && passing && !was) {
        p.state.started = true;
        p.state.ready = !c.readinessProbe;
        p.changed();
        return;
      }
      if ((kind === 'liveness' || kind === 'startup') && tracker.failedOut) {
        p.event('Normal', 'Killing', `Container ${c.name} failed ${kind} probe, will be restarted`);
        p.restart();
        return;
      }
      await pause((probe.periodSeconds ?? 10) * 1000, stop.signal);
    }
  };
  for (const k of ['startup', 'readiness', 'liveness'] as const) void loop(k);
  return stop;
}
