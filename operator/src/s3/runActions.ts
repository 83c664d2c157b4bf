// The S3 side effects of a run, each a thin call into the engine: plan the scan, plan the build,
// commit, discard. All of them are idempotent in the engine, so the reconciler may repeat them.
import {
  commitRun,
  discardRun,
  listInputs,
  makeRunSpec,
  parseQuantity,
  planBuild,
  planScan,
  readReceipts,
  writeBuildPlan,
  writeScanPlan,
  type Storage,
} from '../../../job-runner/src/index.js';
import type { LakeJobSpec, SparkifyLakeJob } from '../crd/types.js';
import type { RunReader } from './runReader.js';

/** What the reconciler needs done in S3 (an interface, so reconciler tests can use a fake). */
export interface RunActions {
  planScan(lakeJob: SparkifyLakeJob, spec: LakeJobSpec, runId: string, storageFor: (uri: string) => Storage): Promise<void>;
  planBuild(out: Storage, runId: string): Promise<void>;
  commit(out: Storage, runId: string): Promise<void>;
  discard(out: Storage, runId: string): Promise<void>;
}

export class EngineRunActions implements RunActions {
  constructor(
    private readonly runs: RunReader,
    private readonly clock: () => Date,
  ) {}

  async planScan(lakeJob: SparkifyLakeJob, spec: LakeJobSpec, runId: string, storageFor: (uri: string) => Storage): Promise<void> {
    const runSpec = makeRunSpec({
      runId,
      songs: spec.source.songs,
      logs: spec.source.logs,
      output: spec.output,
      origin: `operator/${lakeJob.metadata.namespace}/${lakeJob.metadata.name}`,
      sharding: { targetShardBytes: parseQuantity(spec.sharding.targetShardBytes, 'spec.sharding.targetShardBytes'), maxShards: spec.sharding.maxShards },
      quality: { maxRejectRatio: spec.quality.maxRejectRatio },
      now: this.clock(),
    });
    const inputs = await listInputs(runSpec, storageFor);
    const plan = planScan(runSpec, inputs);
    await writeScanPlan(storageFor(spec.output), runSpec, plan);
  }

  async planBuild(out: Storage, runId: string): Promise<void> {
    const spec = await this.runs.runSpec(out, runId);
    const receipts = [...(await readReceipts(out, runId, 'scan')).values()].sort((a, b) => a.index - b.index);
    await writeBuildPlan(out, planBuild(spec, receipts));
  }

  async commit(out: Storage, runId: string): Promise<void> {
    const spec = await this.runs.runSpec(out, runId);
    const scan = [...(await readReceipts(out, runId, 'scan')).values()].sort((a, b) => a.index - b.index);
    const build = [...(await readReceipts(out, runId, 'build')).values()].sort((a, b) => a.index - b.index);
    await commitRun(out, spec, scan, build);
  }

  async discard(out: Storage, runId: string): Promise<void> {
    await discardRun(out, runId);
    this.runs.forget(out, runId);
  }
}
