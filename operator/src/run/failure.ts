// Messages for a failed run, written for the person who has to fix it: which shard, what it held,
// and what its pod said last. Pure; the observer gathers the facts (task files, pod logs).
import type { Stage } from '../../../job-runner/src/index.js';
import type { JobView, ShardFailure } from './observed.js';

const MAX_INPUTS_LISTED = 5;
const MAX_LOG_CHARS = 2000;

export function shardFailureMessage(job: JobView, failures: readonly ShardFailure[]): string {
  const indexes = job.failedIndexes.length ? job.failedIndexes : failures.map((f) => f.index);
  const head = `${job.stage} Job ${job.name} failed` + (job.failure ? ` (${job.failure.reason}${job.failure.message ? `: ${job.failure.message}` : ''})` : '');
  if (!failures.length) {
    return indexes.length ? `${head}; failed shards: ${indexes.join(', ')} (their pods are gone, so no log is available)` : head;
  }
  const parts = failures.map((f) => describeShard(f));
  const more = indexes.length > failures.length ? `\n(and ${indexes.length - failures.length} more failed shards: ${indexes.filter((i) => !failures.some((f) => f.index === i)).join(', ')})` : '';
  return `${head}\n${parts.join('\n')}${more}`;
}

function describeShard(f: ShardFailure): string {
  const inputs = f.inputs.length
    ? f.inputs.slice(0, MAX_INPUTS_LISTED).join(', ') + (f.inputs.length > MAX_INPUTS_LISTED ? ` and ${f.inputs.length - MAX_INPUTS_LISTED} more` : '')
    : 'no recorded inputs';
  const exit = f.exitCode !== undefined ? `, exit code ${f.exitCode}${f.exitCode === 3 ? ' (permanent: not retried)' : ''}` : '';
  const reason = f.reason ? `, ${f.reason}` : '';
  const pod = f.pod ? ` of pod ${f.pod}` : '';
  const log = f.logTail?.trim() ? `\n  last log lines${pod}:\n${indent(tail(f.logTail.trim(), MAX_LOG_CHARS))}` : f.pod ? `\n  pod ${f.pod} left no log` : '';
  return `- ${f.stage} shard ${f.index}${exit}${reason}; it held ${inputs}${log}`;
}

export function missingReceiptsMessage(stage: Stage, jobName: string, missing: readonly number[], receiptsUri: string): string {
  const list = missing.length > 10 ? `${missing.slice(0, 10).join(', ')} and ${missing.length - 10} more` : missing.join(', ');
  return `${stage} Job ${jobName} completed, but shard(s) ${list} wrote no receipt under ${receiptsUri}; the run cannot be trusted and will not commit (rerun it by changing spec.rerunToken)`;
}

function tail(s: string, max: number): string {
  return s.length <= max ? s : `…${s.slice(s.length - max)}`;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
