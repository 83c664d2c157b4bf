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
  // A message that differs only in its timings is the same problem seen again, not a new one.
  if (inv && (!wasInv || wasInv.reason !== inv.reason || withoutTimings(wasInv.message ?? '') !== withoutTimings(inv.message ?? ''))) events.push({ type: 'Warning', reason: inv.reason ?? 'Invalid', message: inv.message ?? '' });
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

// Timings that S3 and retry messages embed ("after 8 attempts over 5.6 s", "timed out after 30000 ms"):
// they differ on every attempt, so they must not make a new Event (see eventRecorder.ts).
const ATTEMPTS = /\s*after \d+ attempts? over \d+(?:\.\d+)? ?m?s\b/g;
const DURATION = /\b\d+(?:\.\d+)? ?(?:ms|s|sec|seconds?|min|minutes?)\b/g;

/** The message without its timings: what decides whether an occurrence is a new Event or a repeat. */
export function withoutTimings(message: string): string {
  return message.replace(ATTEMPTS, '').replace(DURATION, '<t>');
}

/**
 * What makes two occurrences one Event (count++ instead of a new object), as client-go's
 * EventCorrelator keys them: the object, the type, the reason and the message — here the message
 * without its timings.
 */
export function eventKey(involvedUid: string, e: EventSpec): string {
  return JSON.stringify([involvedUid, e.type, e.reason, withoutTimings(e.message)]);
}
