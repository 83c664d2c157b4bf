// Names that must come out the same every time they are computed: the run id, the spec hash and
// the child Job names. A restarted operator recomputes them and finds the run it had started, and
// "already exists" on create means "already done".
import { createHash } from 'node:crypto';
import type { Stage } from '../../../job-runner/src/index.js';
import type { LakeJobSpec } from '../crd/types.js';

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * What a run was started for: the whole spec except `suspend`, which pauses a run instead of
 * changing it. Any other change (inputs, output, sharding, runner, rerunToken…) starts a new run.
 */
export function specHash(spec: LakeJobSpec): string {
  const { suspend: _suspend, ...rest } = spec;
  return sha256(canonicalJson(rest)).slice(0, 16);
}

/**
 * The run id for a resource at a generation: `<generation>-<8 hex of sha256(uid, generation,
 * rerunToken)>`. Deterministic, so a restarted operator computes the same id; the uid makes runs of
 * a deleted-and-recreated resource distinct; the generation makes a spec that changes back (A→B→A)
 * a new run. Matches the engine's run-id rule (lowercase, digits, '-', ≤ 40 chars).
 */
export function runIdFor(uid: string, generation: number, rerunToken: string | undefined): string {
  const h = sha256(`${uid}\n${generation}\n${rerunToken ?? ''}`).slice(0, 8);
  return `${generation}-${h}`;
}

/**
 * Job names stay ≤ 52 characters: the Job controller derives pod hostnames `<job>-<index>` and
 * labels (≤ 63) from them, and index numbers need room. A long resource name is cut and a hash of
 * the full name keeps cut names distinct.
 */
export const MAX_JOB_NAME = 52;

export function jobName(lakeJobName: string, runId: string, stage: Stage): string {
  const full = `${lakeJobName}-${runId}-${stage}`;
  if (full.length <= MAX_JOB_NAME) return full;
  const suffix = `-${sha256(lakeJobName).slice(0, 6)}-${runId}-${stage}`;
  const keep = Math.max(1, MAX_JOB_NAME - suffix.length);
  const head = lakeJobName.slice(0, keep).replace(/[-.]+$/, '') || 'x';
  return `${head}${suffix}`;
}

/** Label values are ≤ 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric. */
export function labelValue(v: string): string {
  if (v.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(v)) return v;
  const h = sha256(v).slice(0, 10);
  const head = v.replace(/[^-A-Za-z0-9_.]/g, '-').slice(0, 52).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return head ? `${head}-${h}` : h;
}
