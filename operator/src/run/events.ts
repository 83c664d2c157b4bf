// The Kubernetes Events of a lake job, derived from what changed between two statuses, so every
// phase change, failure, invalidity, stuck pod and suspend/resume is announced exactly once (a
// status that did not change yields no event, whichever replica or restart computes it). Pure.
import type { LakeJobStatus } from '../crd/types.js';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Marks a Running message about pods that cannot start (eventsBetween turns it into a Warning). */
export const STUCK_MARK = 'cannot start';

/** Events for what changed between two statuses: every phase change, failure and invalidity. */
export function eventsBetween(prev: LakeJobStatus, next: LakeJobStatus): EventSpec[] {
  const events: EventSpec[] = [];
  const cond = (s: LakeJobStatus, t: string) => s.conditions?.find((c) => c.type === t && c.status === 'True');
  if (prev.phase !== next.phase && next.phase) {
    const failed = cond(next, 'Failed');
    if (next.phase === 'Failed' && failed) events.push({ type: 'Warning', reason: failed.reason ?? 'Failed', message: `run ${next.runId} failed: ${failed.message ?? ''}` });
    else if (next.phase === 'Succeeded') events.push({ type: 'Normal', reason: 'Succeeded', message: cond(next, 'Succeeded')?.message ?? `run ${next.runId} committed` });
    else events.push({ type: 'Normal', reason: next.phase, message: phaseMessage(next) });
  }
  const inv = cond(next, 'Invalid');
  const wasInv = cond(prev, 'Invalid');
  if (inv && (!wasInv || wasInv.reason !== inv.reason || wasInv.message !== inv.message)) events.push({ type: 'Warning', reason: inv.reason ?? 'Invalid', message: inv.message ?? '' });
  if (!inv && wasInv) events.push({ type: 'Normal', reason: 'Valid', message: `resolved: ${wasInv.message ?? ''}` });
  const running = next.conditions?.find((c) => c.type === 'Running' && c.status === 'True');
  const wasStuck = prev.conditions?.find((c) => c.type === 'Running')?.message?.includes(STUCK_MARK) ?? false;
  if (running?.message?.includes(STUCK_MARK) && !wasStuck) events.push({ type: 'Warning', reason: 'PodsCannotStart', message: running.message.slice(running.message.indexOf('; ') + 2) });
  const sus = Boolean(cond(next, 'Suspended'));
  const wasSus = Boolean(cond(prev, 'Suspended'));
  if (sus !== wasSus) events.push({ type: 'Normal', reason: sus ? 'Suspended' : 'Resumed', message: sus ? 'spec.suspend is true: shard pods are stopped' : 'spec.suspend is false: the run continues' });
  return events;
}

function phaseMessage(s: LakeJobStatus): string {
  const run = s.runId ? `run ${s.runId}` : 'no run';
  switch (s.phase) {
    case 'Planning':
      return `${run}: listing the inputs and planning the scan`;
    case 'Scanning':
      return s.plan ? `${run}: scanning ${s.plan.inputObjects} objects (${s.plan.inputBytes} bytes) in ${s.plan.shards} shards, skew ${s.plan.skew}` : `${run}: scanning`;
    case 'Building':
      return `${run}: scan done (${s.records?.read ?? 0} records read, ${s.records?.rejected ?? 0} rejected); building the tables`;
    case 'Committing':
      return `${run}: all partitions landed (${s.rows ?? 0} rows); committing`;
    default:
      return `${run}: ${s.phase}`;
  }
}
