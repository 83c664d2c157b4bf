// Reading and writing the run protocol's JSON documents (run.json, plans, tasks, receipts) under the
// keys of layout.ts. Documents are serialised deterministically (fixed key order from the builders,
// one trailing newline), so writing the same document twice gives the same bytes: idempotent.
import type { Storage } from '../storage/storage.js';
import { StorageError } from '../storage/storage.js';
import { lakeLayout, type Stage } from './layout.js';
import type { BuildPlan, BuildReceipt, BuildTask, RunSpec, ScanPlan, ScanReceipt, ScanTask } from './types.js';

/** A document that exists but cannot be used: a permanent failure (exit code 3 in a pod). */
export class InvalidDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDocumentError';
  }
}

export function toJson(doc: unknown): string {
  return JSON.stringify(doc) + '\n';
}

export async function writeJson(out: Storage, key: string, doc: unknown): Promise<void> {
  await out.put(key, toJson(doc), { contentType: 'application/json' });
}

/** The parsed document, or null when it does not exist. */
export async function readJsonIfExists<T>(out: Storage, key: string): Promise<T | null> {
  let bytes: Buffer;
  try {
    bytes = await out.get(key);
  } catch (err) {
    if (err instanceof StorageError && err.kind === 'not-found') return null;
    throw err;
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidDocumentError(`${out.root}${key} is not valid JSON (${(err as Error).message}); the run's documents were damaged`);
  }
}

export async function readJson<T>(out: Storage, key: string, what: string): Promise<T> {
  const doc = await readJsonIfExists<T>(out, key);
  if (doc === null) throw new InvalidDocumentError(`${what} ${out.root}${key} does not exist`);
  return doc;
}

export async function readRunSpec(out: Storage, runId: string): Promise<RunSpec> {
  const spec = await readJson<RunSpec>(out, lakeLayout.runSpec(runId), 'run spec');
  if (spec.runId !== runId) throw new InvalidDocumentError(`run spec ${out.root}${lakeLayout.runSpec(runId)} belongs to run ${JSON.stringify(spec.runId)}, not ${runId}`);
  return spec;
}

export async function readTask(out: Storage, runId: string, stage: 'scan', index: number): Promise<ScanTask>;
export async function readTask(out: Storage, runId: string, stage: 'build', index: number): Promise<BuildTask>;
export async function readTask(out: Storage, runId: string, stage: Stage, index: number): Promise<ScanTask | BuildTask> {
  const key = lakeLayout.task(runId, stage, index);
  const task = await readJson<ScanTask | BuildTask>(out, key, `${stage} task ${index}`);
  if (task.runId !== runId || task.stage !== stage || task.index !== index) {
    throw new InvalidDocumentError(`task ${out.root}${key} is for run ${task.runId} ${task.stage} ${task.index}, not ${runId} ${stage} ${index}`);
  }
  return task;
}

/** Writes run.json, the plan and one task file per shard. Same inputs, same bytes: idempotent. */
export async function writeScanPlanDocs(out: Storage, spec: RunSpec, plan: ScanPlan): Promise<void> {
  if (plan.runId !== spec.runId) throw new Error(`scan plan of run ${plan.runId} cannot be written for run ${spec.runId}`);
  await writeJson(out, lakeLayout.runSpec(spec.runId), spec);
  await writeTasks(out, plan.runId, 'scan', plan.tasks);
  await writeJson(out, lakeLayout.plan(plan.runId, 'scan'), plan);
}

export async function writeBuildPlanDocs(out: Storage, plan: BuildPlan): Promise<void> {
  await writeTasks(out, plan.runId, 'build', plan.tasks);
  await writeJson(out, lakeLayout.plan(plan.runId, 'build'), plan);
}

/** Tasks first, plan last: a plan that exists always has its task files. */
async function writeTasks(out: Storage, runId: string, stage: Stage, tasks: readonly (ScanTask | BuildTask)[]): Promise<void> {
  const limit = 16;
  for (let i = 0; i < tasks.length; i += limit) {
    await Promise.all(tasks.slice(i, i + limit).map((t) => writeJson(out, lakeLayout.task(runId, stage, t.index), t)));
  }
}

export async function readPlan(out: Storage, runId: string, stage: 'scan'): Promise<ScanPlan | null>;
export async function readPlan(out: Storage, runId: string, stage: 'build'): Promise<BuildPlan | null>;
export async function readPlan(out: Storage, runId: string, stage: Stage): Promise<ScanPlan | BuildPlan | null> {
  return readJsonIfExists<ScanPlan | BuildPlan>(out, lakeLayout.plan(runId, stage));
}

export async function writeReceipt(out: Storage, receipt: ScanReceipt | BuildReceipt): Promise<void> {
  await writeJson(out, lakeLayout.receipt(receipt.runId, receipt.stage, receipt.index), receipt);
}

/** The shard indexes that have a receipt: one listing, no GETs (for polling progress). */
export async function receiptIndexes(out: Storage, runId: string, stage: Stage): Promise<number[]> {
  const prefix = lakeLayout.receiptsPrefix(runId, stage);
  const indexes: number[] = [];
  for await (const o of out.list(prefix)) {
    const name = o.key.slice(prefix.length);
    if (/^\d{5,}\.json$/.test(name)) indexes.push(Number(name.slice(0, -'.json'.length)));
  }
  return indexes.sort((a, b) => a - b);
}

/** Every receipt present for a stage, by shard index. */
export async function readStageReceipts(out: Storage, runId: string, stage: Stage): Promise<Map<number, ScanReceipt | BuildReceipt>> {
  const prefix = lakeLayout.receiptsPrefix(runId, stage);
  const keys: string[] = [];
  for await (const o of out.list(prefix)) {
    if (/^\d{5,}\.json$/.test(o.key.slice(prefix.length))) keys.push(o.key);
  }
  const found = new Map<number, ScanReceipt | BuildReceipt>();
  const limit = 16;
  for (let i = 0; i < keys.length; i += limit) {
    const docs = await Promise.all(keys.slice(i, i + limit).map((k) => readJsonIfExists<ScanReceipt | BuildReceipt>(out, k)));
    docs.forEach((doc, j) => {
      const key = keys[i + j]!;
      if (!doc) return; // deleted between list and get
      const index = Number(key.slice(prefix.length, -'.json'.length));
      if (doc.runId !== runId || doc.stage !== stage || doc.index !== index) {
        throw new InvalidDocumentError(`receipt ${out.root}${key} names run ${doc.runId} ${doc.stage} ${doc.index}`);
      }
      found.set(index, doc);
    });
  }
  return found;
}
