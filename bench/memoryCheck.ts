// Memory check: a large input (default 5 GB of logs) built with a fixed shard memory budget
// (`--staging-memory`), reporting the peak RSS of every shard process. The claim under test is that
// a shard's memory is bounded by configuration, not by input size: the per-shard peaks must not grow
// with the input, and they should sit near the budget plus the runtime's baseline.
import { rmSync } from 'node:fs';
import { runOurs, type ContenderResult } from './contenders.js';
import type { BenchData } from './benchData.js';

export interface ShardPeak {
  stage: string;
  index: string;
  peakRssBytes: number;
}

export interface MemoryCheckResult {
  inputBytes: number;
  stagingMemory: string;
  run: ContenderResult;
  shards: ShardPeak[];
  maxScanPeak: number;
  maxBuildPeak: number;
}

/** Shard processes are `node …/main.js shard --out … --stage scan|build …` (index in their env or args). */
export function shardPeaks(run: ContenderResult): ShardPeak[] {
  const peaks: ShardPeak[] = [];
  for (const p of run.measured?.processes ?? []) {
    const stage = /--stage (scan|build)/.exec(p.command)?.[1];
    if (!stage) continue;
    peaks.push({ stage, index: /--index (\d+)/.exec(p.command)?.[1] ?? `pid ${p.pid}`, peakRssBytes: p.peakRssBytes });
  }
  return peaks;
}

export async function memoryCheck(o: { data: BenchData; out: string; stagingMemory: string; parallel?: number; keep: boolean }): Promise<MemoryCheckResult> {
  const run = await runOurs({ songs: o.data.songs, logs: o.data.logs, out: o.out, parallel: o.parallel, clean: true, extraArgs: ['--staging-memory', o.stagingMemory] });
  if (!o.keep) rmSync(o.out, { recursive: true, force: true });
  const shards = shardPeaks(run);
  const max = (stage: string) => Math.max(0, ...shards.filter((s) => s.stage === stage).map((s) => s.peakRssBytes));
  return {
    inputBytes: o.data.summary.logs.bytes + o.data.summary.songs.bytes,
    stagingMemory: o.stagingMemory,
    run,
    shards,
    maxScanPeak: max('scan'),
    maxBuildPeak: max('build'),
  };
}
