// `sparkify-lake run`: a whole lake build on one machine, the same protocol the operator drives on
// Kubernetes, with shards in worker processes instead of pods.
//
//   list inputs → plan scan → write plan → scan shards (K at a time) → quality gate
//     → plan build → write plan → build shards → commit (manifest, current.json, _SUCCESS, cleanup)
//   any failure → discardRun: the committed lake stays as it was.
import { availableParallelism } from 'node:os';
import { checkQuality } from '../commit/quality.js';
import { commitRun, discardRun } from '../commit/commit.js';
import { listInputs } from '../read/inventory.js';
import { bucketsFor, makeRunSpec } from '../plan/runSpec.js';
import { planBuild } from '../plan/buildPlan.js';
import { objectCost, planScan } from '../plan/scanPlan.js';
import { readStageReceipts, writeBuildPlanDocs, writeScanPlanDocs } from '../run/documents.js';
import { shardArgs } from '../run/shardArgs.js';
import type { Stage } from '../run/layout.js';
import type { BuildPlan, BuildReceipt, Manifest, MemoryOptions, QualityOptions, ReadOptions, ScanPlan, ScanReceipt, ShardingOptions } from '../run/types.js';
import type { Storage } from '../storage/storage.js';
import { openStorage } from '../storage/open.js';
import { CREDENTIALS_FROM_ENV } from '../storage/s3Errors.js';
import type { ShardProgress } from '../stages/shardContext.js';
import { processExecutor, threadExecutor, type ExecutorKind, type ShardExecutor } from './shardExecutor.js';
import { runShardPool } from './shardPool.js';

export interface RunClock {
  /** Milliseconds, monotonic enough for durations. */
  now(): number;
  date(): Date;
}

export const systemClock: RunClock = { now: () => performance.now(), date: () => new Date() };

/** What the runner tells its reporter (the CLI's progress display, tests). */
export interface RunReporter {
  phase?(phase: 'listing' | 'planning' | 'scan' | 'build' | 'commit', detail?: string): void;
  stagePlanned?(stage: Stage, plan: ScanPlan | BuildPlan): void;
  shardProgress?(stage: Stage, index: number, p: ShardProgress): void;
  shardDone?(stage: Stage, index: number): void;
}

export interface LocalRunOptions {
  songs: string;
  logs: string;
  output: string;
  runId?: string;
  sharding?: Partial<ShardingOptions>;
  quality?: Partial<QualityOptions>;
  read?: Partial<ReadOptions>;
  memory?: Partial<MemoryOptions>;
  buckets?: number;
  /** Shards run at once (default: the machine's available parallelism). */
  parallel?: number;
  /** Extra attempts for a shard that exits retryable (default 2). */
  retries?: number;
  executor?: ExecutorKind | ShardExecutor;
  storageFor?: (uri: string) => Storage;
  clock?: RunClock;
  random?: () => number;
  reporter?: RunReporter;
  /** Aborting stops the shards, discards the run and rejects with RunFailed (Ctrl-C). */
  signal?: AbortSignal;
}

export interface LocalRunResult {
  runId: string;
  manifest: Manifest;
  scan: ScanPlan;
  build: BuildPlan;
  /** Wall seconds of the whole run. */
  seconds: number;
}

/** A run that could not complete, with a message a person can act on. */
export class RunFailed extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunFailed';
  }
}

/**
 * On one machine only `parallel` shards run at once, so extra shards only add process start-ups.
 * Opening a local file costs tens of microseconds, and a scan shard keeps 16 small S3 GETs in flight
 * (splitPrefetch.ts), so neither costs the full request latency the default per-object cost models:
 * 15k song files count as ~0.25 GB (local) or ~1 GB (S3) of work instead of ~4 GB.
 */
export const LOCAL_PER_OBJECT_COST = 16 * 1024;
export const LOCAL_S3_PER_OBJECT_COST = 64 * 1024;

function localCost(opts: LocalRunOptions): Partial<ShardingOptions> {
  const remote = (uri: string) => /^s3:\/\//i.test(uri);
  return { perObjectCost: remote(opts.songs) || remote(opts.logs) ? LOCAL_S3_PER_OBJECT_COST : LOCAL_PER_OBJECT_COST };
}

/**
 * Scan input per shard of a local run, unless --shards or --target-shard-bytes say otherwise. A
 * scan shard's memory is bounded by memory.stagingBytes whatever its input, and each shard process
 * costs ~0.3 s of CPU to start (Node, modules): 256 MiB shards (the pod default, sized for spreading
 * work over many nodes) made 10 processes of 1 GB of logs and 100k song files on 2 cores where 4 do.
 */
export const LOCAL_SCAN_SHARD_BYTES = 1 << 30;

/** A multiple of `parallel` (the lanes finish together), about LOCAL_SCAN_SHARD_BYTES of cost each. */
export function localScanShards(parallel: number, totalCost: number): number {
  return parallel * Math.max(1, Math.ceil(totalCost / (parallel * LOCAL_SCAN_SHARD_BYTES)));
}

/**
 * Buckets for a local run, from the input. Buckets bound how finely one partition (a month of plays)
 * can be cut into build units, hence a build shard's memory when one month holds most events: with
 * at least (log input / targetShardBytes) buckets, even a single month is cut into units of about
 * one target each. Beyond that, more buckets only cost: on one machine only `parallel` shards run at
 * once, and every bucket is one staged segment per month per spill, each with a fixed cost to encode
 * and decode (32 buckets, the default for 200 shards, made ~2,200 small segments of 1 GB of logs
 * where 8 make ~560; docs/engine.md, "Performance").
 */
export function localBuckets(parallel: number, logCost: number, targetShardBytes: number, maxShards: number): number {
  const want = Math.max(8, 2 * parallel, Math.ceil(logCost / targetShardBytes));
  return Math.min(bucketsFor(maxShards), 2 ** Math.ceil(Math.log2(want)));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `r20261129-153012-7f3a`: sortable by start time, unique enough for one output root. */
export function newRunId(date: Date, random: () => number): string {
  const iso = date.toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  const suffix = Math.floor(random() * 0x10000).toString(16).padStart(4, '0');
  return `r${stamp}-${suffix}`;
}

export async function runLocal(opts: LocalRunOptions): Promise<LocalRunResult> {
  try {
    return await runLocalUnchecked(opts);
  } catch (err) {
    if (err instanceof RunFailed) throw err;
    // Storage errors carry their own actionable message (which root, what to fix).
    throw new RunFailed((err as Error).message, { cause: err });
  }
}

async function runLocalUnchecked(opts: LocalRunOptions): Promise<LocalRunResult> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  // A local run is a person at a shell: credentials come from the environment, not a Secret.
  const storageFor = opts.storageFor ?? ((uri: string) => openStorage(uri, { credentialsFrom: CREDENTIALS_FROM_ENV }));
  const parallel = Math.max(1, opts.parallel ?? availableParallelism());
  const executor = typeof opts.executor === 'function' ? opts.executor : opts.executor === 'thread' ? threadExecutor() : processExecutor();
  const report = opts.reporter ?? {};
  const runId = opts.runId ?? newRunId(clock.date(), opts.random ?? Math.random);
  let spec = makeRunSpec({
    runId,
    songs: opts.songs,
    logs: opts.logs,
    output: opts.output,
    origin: 'cli',
    sharding: { minShards: parallel, ...localCost(opts), ...definedOnly(opts.sharding ?? {}) },
    quality: opts.quality,
    read: opts.read,
    memory: opts.memory,
    buckets: opts.buckets,
    now: clock.date(),
  });
  const out = storageFor(opts.output);

  report.phase?.('listing');
  const inputs = await listInputs(spec, storageFor);
  if (inputs.length === 0) throw new RunFailed(`no input found under ${opts.songs} or ${opts.logs}`);

  report.phase?.('planning');
  // Local defaults that depend on the input (the spec written to run.json records what was chosen).
  const userSharding = opts.sharding ?? {};
  if (userSharding.shards === undefined && userSharding.targetShardBytes === undefined) {
    const total = inputs.reduce((sum, o) => sum + objectCost(o.size, o.compressed, spec.sharding.perObjectCost), 0);
    spec = { ...spec, sharding: { ...spec.sharding, shards: localScanShards(parallel, total) } };
  }
  if (opts.buckets === undefined) {
    const logCost = inputs.reduce((sum, o) => sum + (o.kind === 'log' ? objectCost(o.size, o.compressed, 0) : 0), 0);
    spec = { ...spec, buckets: localBuckets(parallel, logCost, spec.sharding.targetShardBytes, spec.sharding.maxShards) };
  }
  const scanPlan = planScan(spec, inputs);
  try {
    await writeScanPlanDocs(out, spec, scanPlan);
  } catch (err) {
    throw new RunFailed(`cannot write to the output ${out.root}: ${(err as Error).message}`, { cause: err });
  }
  report.stagePlanned?.('scan', scanPlan);

  const runStage = async (stage: Stage, shards: number) => {
    report.phase?.(stage);
    await runShardPool({
      stage,
      shards,
      parallel,
      retries: opts.retries ?? 2,
      executor,
      signal: opts.signal,
      argvFor: (index) => [...shardArgs(opts.output, runId, stage), '--index', String(index)],
      events: {
        onShardProgress: (index, p) => report.shardProgress?.(stage, index, p),
        onShardDone: (index) => report.shardDone?.(stage, index),
      },
    });
  };

  try {
    await runStage('scan', scanPlan.shards);
    const scanReceipts = [...(await readStageReceipts(out, runId, 'scan')).values()] as ScanReceipt[];
    const verdict = checkQuality(spec, scanReceipts);
    if (!verdict.ok) throw new RunFailed(verdict.message);

    const buildPlan = planBuild(spec, scanReceipts);
    await writeBuildPlanDocs(out, buildPlan);
    report.stagePlanned?.('build', buildPlan);
    await runStage('build', buildPlan.shards);
    const buildReceipts = [...(await readStageReceipts(out, runId, 'build')).values()] as BuildReceipt[];

    if (opts.signal?.aborted) throw new RunFailed('interrupted before the commit; the run was discarded');
    report.phase?.('commit');
    const manifest = await commitRun(out, spec, scanReceipts, buildReceipts, { now: () => clock.date() });
    return { runId, manifest, scan: scanPlan, build: buildPlan, seconds: (clock.now() - started) / 1000 };
  } catch (err) {
    await discardRun(out, runId).catch(() => undefined);
    if (opts.signal?.aborted) throw new RunFailed(`${(err as Error).message}: run ${runId} was discarded, the committed lake is unchanged`, { cause: err });
    throw err;
  }
}
