// Status is recomputed from the world on every reconcile (the Jobs and the run's receipts in S3),
// never accumulated: a restarted operator, or a second replica, writes the same status. Only what
// the world cannot tell is carried over from the previous status: which run is current (runId,
// specHash), when it started and finished, and the outcome of a finished run.
import { TABLES, type Stage } from '../../../job-runner/src/index.js';
import type { Condition, ConditionType, LakeJobStatus, Phase, StageStatus, TableStatus } from '../crd/types.js';
import { STUCK_MARK } from './events.js';
import type { JobView, RunObservation } from './observed.js';

export interface ConditionInput {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
}

/** The condition as it should be now; lastTransitionTime moves only when `status` changes. */
export function condition(prev: readonly Condition[] | undefined, c: ConditionInput, generation: number, now: Date): Condition {
  const old = prev?.find((p) => p.type === c.type);
  const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now.toISOString();
  return { type: c.type, status: c.status, reason: c.reason, message: truncate(c.message ?? '', 32000), observedGeneration: generation, lastTransitionTime };
}

export interface Verdicts {
  phase: Phase;
  suspended: boolean;
  invalid: { reason: string; message: string } | null;
  failed: { reason: string; message: string } | null;
  /** Running=False reason while a failed run is being cleaned up (see decide.ts). */
  cleanup?: 'CleaningUp';
  /** Running condition message: what is happening now. */
  activity?: string;
  succeededMessage?: string;
}

const ACTIVE: readonly Phase[] = ['Planning', 'Scanning', 'Building', 'Committing'];

/** The five conditions, always all present, so `kubectl wait --for=condition=X` and Argo CD can rely on them. */
export function conditionsFor(v: Verdicts, prev: readonly Condition[] | undefined, generation: number, now: Date): Condition[] {
  const running = ACTIVE.includes(v.phase) && !v.suspended && !v.invalid;
  const notRunningReason = v.cleanup ?? (v.suspended ? 'Suspended' : v.invalid ? 'Invalid' : v.phase);
  const list: ConditionInput[] = [
    running
      ? { type: 'Running', status: 'True', reason: v.phase, message: v.activity ?? '' }
      : { type: 'Running', status: 'False', reason: notRunningReason, message: v.cleanup ? 'stopping the failed run and removing its staging data' : '' },
    v.phase === 'Succeeded'
      ? { type: 'Succeeded', status: 'True', reason: 'RunCommitted', message: v.succeededMessage ?? '' }
      : { type: 'Succeeded', status: 'False', reason: v.phase, message: '' },
    v.failed ? { type: 'Failed', status: 'True', reason: v.failed.reason, message: v.failed.message } : { type: 'Failed', status: 'False', reason: 'NoFailure', message: '' },
    v.invalid ? { type: 'Invalid', status: 'True', reason: v.invalid.reason, message: v.invalid.message } : { type: 'Invalid', status: 'False', reason: 'Valid', message: '' },
    v.suspended ? { type: 'Suspended', status: 'True', reason: 'SpecSuspend', message: 'spec.suspend is true: no shard pods run' } : { type: 'Suspended', status: 'False', reason: 'NotSuspended', message: '' },
  ];
  return list.map((c) => condition(prev, c, generation, now));
}

/** Longest status.message: one line a terminal can show (the condition keeps the whole text). */
export const HEADLINE_MAX = 256;

/**
 * status.reason and status.message: what `kubectl get slj` shows next to the phase. The phase is the
 * run's lifecycle and stays so (a lake job waiting for its Secret is still Pending); the reason says
 * why it needs a person, as STATUS does for a pod in CrashLoopBackOff. Derived from the conditions,
 * so both always agree with them. In order of what to fix first: an Invalid cause (nothing runs
 * until it is fixed), a failure, pods that cannot start, a suspension; absent while all is well,
 * when the message is the run's progress note.
 */
export function headline(conditions: readonly Condition[]): Pick<LakeJobStatus, 'reason' | 'message'> {
  const on = (type: ConditionType) => conditions.find((c) => c.type === type && c.status === 'True');
  const invalid = on('Invalid');
  if (invalid) return { reason: invalid.reason, message: oneLine(`Invalid: ${invalid.reason}: ${invalid.message ?? ''}`) };
  const failed = on('Failed');
  if (failed) return { reason: failed.reason, message: oneLine(`Failed: ${failed.reason}: ${failed.message ?? ''}`) };
  const running = on('Running');
  if (running?.message?.includes(STUCK_MARK)) return { reason: 'PodsCannotStart', message: oneLine(running.message) };
  if (on('Suspended')) return { reason: 'Suspended', message: 'Suspended: spec.suspend is true, no shard pods run; set it to false to continue' };
  const note = running?.message || on('Succeeded')?.message;
  return note ? { message: oneLine(note) } : {};
}

/** Multi-line messages (a failed shard's log lines) folded onto one line and cut to HEADLINE_MAX. */
export function oneLine(s: string): string {
  return truncate(s.replace(/\s+/g, ' ').trim(), HEADLINE_MAX);
}

/** Plan, stages, tables, records, rows and progress of a run, from its Jobs and receipts. */
export function runProgress(run: RunObservation | undefined, jobs: readonly JobView[], phase: Phase): Pick<LakeJobStatus, 'plan' | 'stages' | 'tables' | 'records' | 'rows' | 'progress'> {
  if (!run) return {};
  const out: Pick<LakeJobStatus, 'plan' | 'stages' | 'tables' | 'records' | 'rows' | 'progress'> = {};
  const ofRun = jobs.filter((j) => j.runId === run.runId);
  if (run.scanPlan) {
    const p = run.scanPlan;
    out.plan = { shards: p.shards, inputObjects: p.inputObjects, inputBytes: p.inputBytes, skew: round(p.skew, 3) };
  }
  const stages: StageStatus[] = [];
  if (run.scanPlan) stages.push(stageStatus('scan', run.scanPlan.shards, run.scanReceipts.size, ofRun.find((j) => j.stage === 'scan')));
  if (run.buildPlan) stages.push(stageStatus('build', run.buildPlan.shards, run.buildReceipts.size, ofRun.find((j) => j.stage === 'build')));
  if (stages.length) out.stages = stages;

  if (run.scanReceipts.size) {
    let read = 0;
    let accepted = 0;
    let rejected = 0;
    for (const r of run.scanReceipts.values()) {
      read += r.read;
      accepted += r.accepted;
      rejected += r.rejected;
    }
    out.records = { read, accepted, rejected };
  }
  if (run.buildPlan) {
    const tables: TableStatus[] = [];
    let rows = 0;
    for (const name of TABLES) {
      const t: TableStatus = { name, partitions: run.buildPlan.partitions[name] ?? 0, partitionsLanded: 0, rows: 0, bytes: 0 };
      for (const r of run.buildReceipts.values()) {
        const got = r.tables[name];
        if (!got) continue;
        t.partitionsLanded! += got.partitions;
        t.rows! += got.rows;
        t.bytes! += got.bytes;
      }
      // Song partitions can vanish after deduplication, so the plan's count is an upper bound;
      // once every shard has landed the landed count is the truth.
      if (run.buildReceipts.size === run.buildPlan.shards) t.partitions = t.partitionsLanded;
      rows += t.rows!;
      tables.push(t);
    }
    out.tables = tables;
    out.rows = rows;
  }
  const current: Stage | null = phase === 'Scanning' || (phase === 'Planning' && run.scanPlan) ? 'scan' : phase === 'Building' || phase === 'Committing' || phase === 'Succeeded' ? 'build' : null;
  if (current === 'scan' && run.scanPlan) out.progress = `${run.scanReceipts.size}/${run.scanPlan.shards}`;
  else if (current === 'build' && run.buildPlan) out.progress = `${run.buildReceipts.size}/${run.buildPlan.shards}`;
  else if (current === 'build' && run.scanPlan) out.progress = `0/?`;
  return out;
}

function stageStatus(name: Stage, total: number, completed: number, job: JobView | undefined): StageStatus {
  return {
    name,
    ...(job ? { job: job.name } : {}),
    total,
    completed,
    failed: job?.failed ?? 0,
    active: job?.active ?? 0,
    ...(job?.startTime ? { startTime: job.startTime } : {}),
    ...(job?.completionTime ? { completionTime: job.completionTime } : {}),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 15)}… (truncated)`;
}

/** Deep equality of JSON values, so status is written only when something changed. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameJson(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => sameJson(ao[k], bo[k]));
}
