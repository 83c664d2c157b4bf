// Reads a run's progress from S3, incrementally. Plans and receipts are written once and never
// change (a retried shard rewrites identical bytes), so each is fetched once and kept as a small
// summary; a poll costs one LIST of the receipts prefix of the running stage plus a GET per new
// receipt. Memory per run is a few numbers per shard, not the receipts themselves.
import {
  checkQuality,
  lakeLayout,
  readReceipts,
  StorageError,
  TABLES,
  type BuildPlan,
  type BuildReceipt,
  type BuildTask,
  type PlanSummary,
  type QualityVerdict,
  type RunSpec,
  type ScanReceipt,
  type ScanTask,
  type Stage,
  type Storage,
  type TableName,
} from '../../../job-runner/src/index.js';
import type { BuildReceiptSummary, RunObservation, ScanReceiptSummary, TableTotals } from '../run/observed.js';

interface RunCache {
  scanPlan: PlanSummary | null;
  buildPlan: RunObservation['buildPlan'];
  scanReceipts: Map<number, ScanReceiptSummary>;
  buildReceipts: Map<number, BuildReceiptSummary>;
  quality: QualityVerdict | null;
  runSpec: RunSpec | null;
  lastUsed: number;
}

export interface ObserveRunOptions {
  /** Also read `_lake/current.json` (before commit, on deletion, when superseded). */
  checkCommitted: boolean;
}

export class RunReader {
  private readonly cache = new Map<string, RunCache>();

  constructor(private readonly maxRuns = 1000) {}

  async observe(out: Storage, runId: string, opts: ObserveRunOptions): Promise<Omit<RunObservation, 'failures'>> {
    const c = this.entry(out, runId);
    if (!c.scanPlan) c.scanPlan = summary(await readJsonIfExists<PlanSummary>(out, lakeLayout.plan(runId, 'scan')));
    if (c.scanPlan && c.scanReceipts.size < c.scanPlan.shards) await this.pollReceipts(out, runId, 'scan', c);
    if (c.scanPlan && c.scanReceipts.size >= c.scanPlan.shards && !c.quality) {
      // The engine's verdict needs whole receipts; they are read once, when the scan is complete.
      const spec = await this.runSpec(out, runId, c);
      const receipts = [...(await readReceipts(out, runId, 'scan')).values()].sort((a, b) => a.index - b.index);
      c.quality = checkQuality(spec, receipts);
    }
    if (c.quality && !c.buildPlan) {
      const plan = await readJsonIfExists<BuildPlan>(out, lakeLayout.plan(runId, 'build'));
      if (plan) c.buildPlan = { ...summary(plan)!, partitions: { ...plan.partitions } };
    }
    if (c.buildPlan && c.buildReceipts.size < c.buildPlan.shards) await this.pollReceipts(out, runId, 'build', c);
    const buildDone = c.buildPlan !== null && c.buildReceipts.size >= c.buildPlan.shards;
    let committed = false;
    if (opts.checkCommitted || buildDone) {
      const current = await readJsonIfExists<{ runId?: string }>(out, lakeLayout.current());
      committed = current?.runId === runId;
    }
    return { runId, scanPlan: c.scanPlan, scanReceipts: c.scanReceipts, quality: c.quality, buildPlan: c.buildPlan, buildReceipts: c.buildReceipts, committed };
  }

  /** The run's RunSpec (run.json), cached. */
  async runSpec(out: Storage, runId: string, c = this.entry(out, runId)): Promise<RunSpec> {
    if (!c.runSpec) {
      const spec = await readJsonIfExists<RunSpec>(out, lakeLayout.runSpec(runId));
      if (!spec) throw new StorageError('not-found', `run spec ${out.root}${lakeLayout.runSpec(runId)} is missing: the run's staging data was removed`, false);
      c.runSpec = spec;
    }
    return c.runSpec;
  }

  /** What a shard held, for failure messages: input keys with byte ranges, or output units. */
  async describeTask(out: Storage, runId: string, stage: Stage, index: number): Promise<string[]> {
    const task = await readJsonIfExists<ScanTask | BuildTask>(out, lakeLayout.task(runId, stage, index));
    if (!task) return [];
    if (task.stage === 'scan') {
      const spec = await this.runSpec(out, runId).catch(() => null);
      return task.splits.map((s) => {
        const root = spec ? (s.kind === 'song' ? spec.songs : spec.logs) : '';
        const whole = s.start === 0 && s.end >= s.size;
        return `${joinUri(root, s.key)}${whole ? '' : ` bytes [${s.start}, ${s.end})`}`;
      });
    }
    return task.units.map((u) => `${u.table}${Object.entries(u.partition).map(([k, v]) => `/${k}=${v}`).join('')}${u.buckets.length ? ` buckets ${u.buckets.join(',')}` : ''}`);
  }

  forget(out: Storage, runId: string): void {
    this.cache.delete(cacheKey(out, runId));
  }

  get size(): number {
    return this.cache.size;
  }

  private entry(out: Storage, runId: string): RunCache {
    const key = cacheKey(out, runId);
    let c = this.cache.get(key);
    if (!c) {
      c = { scanPlan: null, buildPlan: null, scanReceipts: new Map(), buildReceipts: new Map(), quality: null, runSpec: null, lastUsed: 0 };
      this.cache.set(key, c);
      if (this.cache.size > this.maxRuns) this.evictOldest();
    }
    c.lastUsed = Date.now();
    return c;
  }

  private evictOldest(): void {
    let oldest: [string, number] | null = null;
    for (const [k, v] of this.cache) if (!oldest || v.lastUsed < oldest[1]) oldest = [k, v.lastUsed];
    if (oldest) this.cache.delete(oldest[0]);
  }

  private async pollReceipts(out: Storage, runId: string, stage: Stage, c: RunCache): Promise<void> {
    const prefix = lakeLayout.receiptsPrefix(runId, stage);
    const have = stage === 'scan' ? c.scanReceipts : c.buildReceipts;
    const fresh: string[] = [];
    for await (const o of out.list(prefix)) {
      const m = /(\d+)\.json$/.exec(o.key);
      if (m && !have.has(Number(m[1]))) fresh.push(o.key);
    }
    await Promise.all(
      fresh.map(async (key) => {
        const r = await readJsonIfExists<ScanReceipt | BuildReceipt>(out, key);
        if (!r || r.runId !== runId) return;
        if (r.stage === 'scan') c.scanReceipts.set(r.index, { index: r.index, read: r.records.read, accepted: r.records.accepted, rejected: r.records.rejected });
        else c.buildReceipts.set(r.index, buildSummary(r));
      }),
    );
  }
}

function buildSummary(r: BuildReceipt): BuildReceiptSummary {
  const tables: Partial<Record<TableName, TableTotals>> = {};
  for (const name of TABLES) {
    const files = r.files.filter((f) => f.table === name);
    const partitions = r.partitions?.[name] ?? 0;
    if (!files.length && !partitions) continue;
    tables[name] = { partitions, files: files.length, rows: files.reduce((s, f) => s + f.rows, 0), bytes: files.reduce((s, f) => s + f.bytes, 0) };
  }
  return { index: r.index, tables };
}

function summary(p: PlanSummary | null): PlanSummary | null {
  return p ? { shards: p.shards, inputObjects: p.inputObjects, inputBytes: p.inputBytes, skew: p.skew } : null;
}

function cacheKey(out: Storage, runId: string): string {
  return `${out.root}\n${runId}`;
}

function joinUri(root: string, key: string): string {
  return root ? `${root.endsWith('/') ? root : `${root}/`}${key}` : key;
}

async function readJsonIfExists<T>(out: Storage, key: string): Promise<T | null> {
  let bytes: Buffer;
  try {
    bytes = await out.get(key);
  } catch (err) {
    if (err instanceof StorageError && err.kind === 'not-found') return null;
    throw err;
  }
  return JSON.parse(bytes.toString('utf8')) as T;
}
