// A tiny in-memory world for the Job controller's pure decisions: it applies each plan the way the
// API server and the kubelet would (pods created with uids, deletions pending on finalizers,
// finalizers removed, status written), so tests can walk a Job through its life without a server.
import type { Condition, Job, JobSpec, Pod } from '../../../devcluster/src/client/types.js';
import { DEFAULT_POD_BACKOFF, type BackoffRecord, type BackoffSettings } from '../../../devcluster/src/controllers/jobBackoff.js';
import { completionIndex } from '../../../devcluster/src/controllers/jobPods.js';
import { finishJobStatus } from '../../../devcluster/src/controllers/jobStatus.js';
import { planJobSync, type JobSyncPlan } from '../../../devcluster/src/controllers/jobSync.js';
import { nowIso } from '../../../devcluster/src/controllers/podState.js';

export function makeJob(spec: Partial<JobSpec>, name = 'x'): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { template: { metadata: { labels: { app: 'a' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'img' }] } }, ...spec },
  };
}

export class JobSim {
  pods = new Map<string, Pod>();
  now = Date.parse('2025-01-01T00:00:00Z');
  backoff: BackoffRecord = { failuresAfterLastSuccess: 0 };
  plans: JobSyncPlan[] = [];
  private uidSeq = 0;
  private seed = 1;

  constructor(
    public job: Job,
    public settings: BackoffSettings = { ...DEFAULT_POD_BACKOFF, baseMs: 1000, maxMs: 8000 },
  ) {}

  random = (): number => {
    this.seed = (this.seed * 16807) % 2147483647;
    return this.seed / 2147483647;
  };

  get status() {
    return this.job.status ?? {};
  }

  /** One sync: plan, then carry it out as if every request succeeded. */
  sync(): JobSyncPlan {
    const plan = planJobSync({ job: this.job, pods: [...this.pods.values()], now: new Date(this.now), backoff: this.backoff, backoffSettings: this.settings, random: this.random });
    this.plans.push(plan);
    for (const d of plan.deletePods) {
      const p = this.pods.get(d.pod.metadata.uid!);
      if (!p) continue;
      if (d.removeFinalizer) p.metadata.finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== 'batch.kubernetes.io/job-tracking');
      p.metadata.deletionTimestamp ??= nowIso(new Date(this.now));
      this.reap(p);
    }
    for (const c of plan.createPods) {
      const uid = `pod-${++this.uidSeq}`;
      this.pods.set(uid, { ...structuredClone(c), metadata: { ...structuredClone(c.metadata), uid, creationTimestamp: nowIso(new Date(this.now)) }, status: { phase: 'Pending' } });
    }
    if (plan.flushStatus) this.job = { ...this.job, status: structuredClone(plan.flushStatus) };
    this.backoff = plan.backoff;
    for (const p of plan.removeFinalizersFrom) {
      const live = this.pods.get(p.metadata.uid!);
      if (!live) continue;
      live.metadata.finalizers = (live.metadata.finalizers ?? []).filter((f) => f !== 'batch.kubernetes.io/job-tracking');
      this.reap(live);
    }
    const still = new Set([...this.pods.values()].filter((p) => p.metadata.finalizers?.includes('batch.kubernetes.io/job-tracking')).map((p) => p.metadata.uid!));
    const fin = finishJobStatus(plan.after, still, new Date(this.now));
    if (fin.status) this.job = { ...this.job, status: fin.status };
    return plan;
  }

  /** Deleted pods stop (the kubelet) and vanish once their finalizers are gone (the API server). */
  private reap(p: Pod): void {
    if (!p.metadata.deletionTimestamp) return;
    if (p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') this.finishPod(p, 'Failed', 143);
    if ((p.metadata.finalizers ?? []).length === 0) this.pods.delete(p.metadata.uid!);
  }

  active(): Pod[] {
    return [...this.pods.values()].filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  }

  activeIndexes(): number[] {
    return this.active().map(completionIndex).sort((a, b) => a - b);
  }

  finishPod(p: Pod, phase: 'Succeeded' | 'Failed', exitCode: number, conditions: Condition[] = []): void {
    const t = nowIso(new Date(this.now));
    p.status = {
      phase,
      conditions: [...conditions, { type: 'Ready', status: 'False', lastTransitionTime: t }],
      containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: t } }, lastState: {} }],
    };
  }

  /** Finishes the active pod of an index (or the first active pod for NonIndexed Jobs). */
  finish(index: number, phase: 'Succeeded' | 'Failed', exitCode = phase === 'Succeeded' ? 0 : 1, conditions: { type: string; status: 'True' | 'False' }[] = []): Pod {
    const p = this.active().find((q) => index < 0 || completionIndex(q) === index);
    if (!p) throw new Error(`no active pod for index ${index}`);
    this.finishPod(p, phase, exitCode, conditions);
    return p;
  }

  run(p: Pod): void {
    p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: nowIso(new Date(this.now)) }] };
  }

  advance(ms: number): void {
    this.now += ms;
  }

  condition(type: string) {
    return this.job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  }
}
