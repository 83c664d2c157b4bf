// One shard of a stage, as the pod entrypoint and the local runner both run it: read run.json and
// the task, dispatch to the stage's executor. Receipts are written by the executors, last.
import { readRunSpec, readTask } from '../run/documents.js';
import type { Stage } from '../run/layout.js';
import type { BuildReceipt, ScanReceipt } from '../run/types.js';
import { runBuildShard } from './buildShard.js';
import { runScanShard } from './scanShard.js';
import type { ShardContext } from './shardContext.js';

export interface ShardRequest extends Omit<ShardContext, 'spec'> {
  runId: string;
  stage: Stage;
}

export async function runShard(req: ShardRequest): Promise<ScanReceipt | BuildReceipt> {
  const spec = await readRunSpec(req.out, req.runId);
  const ctx: ShardContext = { ...req, spec };
  if (req.stage === 'scan') return runScanShard(ctx, await readTask(req.out, req.runId, 'scan', req.index));
  return runBuildShard(ctx, await readTask(req.out, req.runId, 'build', req.index));
}

