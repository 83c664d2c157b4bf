// Where every document of the run protocol lives, relative to the output root.
// One place for all keys, so the planner, the shards, the commit and the operator cannot disagree.
//
//   <output>/
//     songs/ artists/ users/ time/ songplays/        committed tables (+ _SUCCESS in each)
//     _lake/current.json                             the commit point
//     _lake/manifests/<runId>.json
//     _lake/runs/<runId>/run.json                    RunSpec
//     _lake/runs/<runId>/<stage>/plan.json           ScanPlan | BuildPlan (summary + tasks)
//     _lake/runs/<runId>/<stage>/tasks/<index>.json  ScanTask | BuildTask
//     _lake/runs/<runId>/<stage>/receipts/<index>.json
//     _lake/runs/<runId>/staged/...                  scan output, consumed by build
//     _lake/runs/<runId>/rejects/...                 quarantined records
import type { TableName } from './types.js';

export type Stage = 'scan' | 'build';

const RUN_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Run ids appear in keys and Kubernetes names: lowercase alphanumerics and '-', at most 40 chars. */
export function assertRunId(runId: string): string {
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: want ${RUN_ID}`);
  return runId;
}

export const lakeLayout = {
  current: () => '_lake/current.json',
  manifest: (runId: string) => `_lake/manifests/${assertRunId(runId)}.json`,
  runRoot: (runId: string) => `_lake/runs/${assertRunId(runId)}/`,
  runSpec: (runId: string) => `_lake/runs/${assertRunId(runId)}/run.json`,
  plan: (runId: string, stage: Stage) => `_lake/runs/${assertRunId(runId)}/${stage}/plan.json`,
  task: (runId: string, stage: Stage, index: number) => `_lake/runs/${assertRunId(runId)}/${stage}/tasks/${shardName(index)}.json`,
  receiptsPrefix: (runId: string, stage: Stage) => `_lake/runs/${assertRunId(runId)}/${stage}/receipts/`,
  receipt: (runId: string, stage: Stage, index: number) => `_lake/runs/${assertRunId(runId)}/${stage}/receipts/${shardName(index)}.json`,
  stagedPrefix: (runId: string) => `_lake/runs/${assertRunId(runId)}/staged/`,
  rejectsPrefix: (runId: string) => `_lake/runs/${assertRunId(runId)}/rejects/`,
  tablePrefix: (table: TableName) => `${table}/`,
  success: (table: TableName) => `${table}/_SUCCESS`,
} as const;

/** Zero-padded so that keys sort in index order. */
export function shardName(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new Error(`invalid shard index ${index}`);
  return String(index).padStart(5, '0');
}
