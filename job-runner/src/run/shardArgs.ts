import type { Stage } from './layout.js';

/**
 * How a job-runner pod (or a local shard process) is invoked. The shard index comes from
 * JOB_COMPLETION_INDEX (or `--index N`); S3 settings from AWS_ENDPOINT_URL, AWS_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and SPARKIFY_S3_FORCE_PATH_STYLE.
 */
export function shardArgs(output: string, runId: string, stage: Stage): string[] {
  return ['shard', '--out', output, '--run-id', runId, '--stage', stage];
}
