// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the
// holder renews the lease every retry period; a candidate takes it over once it has not been
// renewed for leaseDuration; a leader that cannot renew within renewDeadline stops acting; a leader
// that shuts down cleanly releases the lease so a standby takes over at once.
//
// The decision is a pure function of (lease, identity, now); the loop around it is thin.
import type { Clock, Timer } from '../control/clock.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeRest } from './rest.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

export interface LeaderTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_TIMINGS: LeaderTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export type LeaseStep = { kind: 'create' | 'renew' | 'takeover'; spec: LeaseSpec } | { kind: 'wait'; holder: string; expiresInMs: number };

/** What a candidate should do with the lease it just read (null: there is none yet). */
export function leaseStep(lease: Lease | null, me: string, now: number, t: LeaderTimings): LeaseStep {
  const durationSeconds = Math.ceil(t.leaseDurationMs / 1000);
  const stamp = microTime(now);
  if (!lease) return { kind: 'create', spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 } };
  const s = lease.spec;
  if (s.holderIdentity === me) return { kind: 'renew', spec: { ...s, leaseDurationSeconds: durationSeconds, renewTime: stamp } };
  const renewed = s.renewTime ? Date.parse(s.renewTime) : s.acquireTime ? Date.parse(s.acquireTime) : 0;
  const expiresAt = renewed + (s.leaseDurationSeconds ?? durationSeconds) * 1000;
  if (!s.holderIdentity || !Number.isFinite(expiresAt) || expiresAt <= now) {
    return { kind: 'takeover', spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: (s.leaseTransitions ?? 0) + 1 } };
  }
  return { kind: 'wait', holder: s.holderIdentity, expiresInMs: expiresAt - now };
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (the API server insists). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaderElectorOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  clock: Clock;
  timings?: LeaderTimings;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
  log?(msg: string, fields?: Record<string, unknown>): void;
}

export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private timer: Timer | undefined;
  private stopped = false;
  private lastSeenLeader = '';
  private readonly t: LeaderTimings;

  constructor(private readonly o: LeaderElectorOptions) {
    this.t = o.timings ?? DEFAULT_LEADER_TIMINGS;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  private path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases/${encodeURIComponent(this.o.name)}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.o.log?.('lease attempt failed', { error: (err as Error).message });
    }
    if (this.leading && this.o.clock.now() - this.lastRenew > this.t.renewDeadlineMs) {
      // Could not renew in time: another replica may take over any moment, so stop acting now.
      this.setLeading(false);
    }
    if (!this.stopped) this.timer = this.o.clock.setTimeout(() => void this.tick(), this.t.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    let lease: Lease | null = null;
    try {
      lease = await this.o.rest.request<Lease>('GET', this.path(), { timeoutMs: this.t.retryPeriodMs * 2 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const now = this.o.clock.now();
    const step = leaseStep(lease, this.o.identity, now, this.t);
    if (step.kind === 'wait') {
      if (this.leading) this.setLeading(false);
      if (step.holder !== this.lastSeenLeader) {
        this.lastSeenLeader = step.holder;
        this.o.onNewLeader?.(step.holder);
      }
      return;
    }
    try {
      if (step.kind === 'create') {
        await this.o.rest.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases`, {
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: step.spec },
          timeoutMs: this.t.retryPeriodMs * 2,
        });
      } else {
        // Conditional on the resourceVersion we read: two candidates cannot both win a takeover.
        await this.o.rest.request('PUT', this.path(), {
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...lease!.metadata }, spec: step.spec },
          timeoutMs: this.t.retryPeriodMs * 2,
        });
      }
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return; // someone else wrote first; look again next tick
      throw err;
    }
    this.lastRenew = now;
    if (!this.leading) {
      this.lastSeenLeader = this.o.identity;
      this.setLeading(true);
    }
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    if (v) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  /** Stops campaigning; a leader releases the lease so that a standby takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    if (!this.leading) return;
    try {
      const lease = await this.o.rest.request<Lease>('GET', this.path(), { timeoutMs: 2000 });
      if (lease.spec.holderIdentity === this.o.identity) {
        await this.o.rest.request('PUT', this.path(), {
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.o.clock.now()) } },
          timeoutMs: 2000,
        });
      }
    } catch (err) {
      this.o.log?.('could not release the lease', { error: (err as Error).message });
    }
    this.setLeading(false);
  }
}
