// The commit protocol, and the discard of an abandoned run.
//
//   verify (all receipts, every listed file present with its size)
//     → _lake/manifests/<runId>.json   (skipped when it already exists: a re-run keeps the first one)
//     → _lake/current.json             ← the commit point: readers of the pointer see the new run
//     → <table>/_SUCCESS
//     → delete table files not in the manifest, then the run's staged/ data
//
// Every step is idempotent, so a commit interrupted anywhere is finished by running it again. Table
// files carry the run id in their names, so a run never overwrites a committed file; until the pointer
// moves, the previous run's manifest still describes a complete lake. One writer per output root is
// assumed: the cleanup deletes whatever the new manifest does not list, including another run's files.
import type { Storage } from '../storage/storage.js';
import { lakeLayout } from '../run/layout.js';
import { readJsonIfExists, readPlan, writeJson } from '../run/documents.js';
import { TABLES } from '../run/types.js';
import type { BuildReceipt, CurrentPointer, Manifest, RunSpec, ScanReceipt } from '../run/types.js';
import { buildManifest } from './manifest.js';

export interface CommitOptions {
  now?: () => Date;
  /** Temp files of killed writers older than this are removed by the cleanup (default 1 hour). */
  staleWriteGraceMs?: number;
}

export type DiscardOptions = Pick<CommitOptions, 'now' | 'staleWriteGraceMs'>;

/**
 * A live writer touches its temp file at least every few seconds (a staged spill, a reject flush),
 * so an hour without a write means the writer is gone.
 */
export const DEFAULT_STALE_WRITE_GRACE_MS = 60 * 60 * 1000;

export async function commitRun(out: Storage, spec: RunSpec, scan: ScanReceipt[], build: BuildReceipt[], opts: CommitOptions = {}): Promise<Manifest> {
  const runId = spec.runId;
  await verifyComplete(out, runId, scan, build);
  const manifestKey = lakeLayout.manifest(runId);
  let manifest = await readJsonIfExists<Manifest>(out, manifestKey);
  // The verification's listing of the tables also tells the cleanup what is there: with one writer
  // per output root nothing else adds table files in between, and a songs table is tens of
  // thousands of folders to walk. A re-run of the commit (manifest already written) lists again.
  let listed: Map<string, number> | undefined;
  if (!manifest) {
    manifest = buildManifest(spec, scan, build, (opts.now ?? (() => new Date()))());
    listed = await verifyFiles(out, manifest);
    await writeJson(out, manifestKey, manifest);
  }
  const current = await readJsonIfExists<CurrentPointer>(out, lakeLayout.current());
  if (current?.runId !== runId) {
    const pointer: CurrentPointer = { runId, manifest: manifestKey, committedAt: manifest.committedAt };
    await writeJson(out, lakeLayout.current(), pointer);
  }
  for (const table of TABLES) await writeJson(out, lakeLayout.success(table), { runId, committedAt: manifest.committedAt });
  await cleanupAfterCommit(out, manifest, listed);
  await removeStaleWrites(out, [...TABLES.map((t) => lakeLayout.tablePrefix(t)), lakeLayout.runRoot(runId)], opts);
  return manifest;
}

/**
 * What killed writers left under the prefixes a commit or discard cleans (temp files of a local
 * output; listings never show them), once older than the grace period.
 */
async function removeStaleWrites(out: Storage, prefixes: readonly string[], opts: DiscardOptions): Promise<void> {
  if (!out.removeStaleWrites) return;
  const now = (opts.now ?? (() => new Date()))();
  const olderThan = new Date(now.getTime() - (opts.staleWriteGraceMs ?? DEFAULT_STALE_WRITE_GRACE_MS));
  for (const prefix of prefixes) await out.removeStaleWrites(prefix, olderThan);
}

/**
 * Deletes table files the committed manifest does not list, and the run's staged data. `listed`:
 * the table files as just listed by the verification (key → size), to spare a second walk.
 */
export async function cleanupAfterCommit(out: Storage, manifest: Manifest, listed?: ReadonlyMap<string, number>): Promise<void> {
  const keep = new Set(manifest.files.map((f) => f.key));
  for (const table of TABLES) {
    const stale: string[] = [];
    const keys = listed ? [...listed.keys()].filter((k) => k.startsWith(lakeLayout.tablePrefix(table))) : await listKeys(out, lakeLayout.tablePrefix(table));
    for (const key of keys) if (key !== lakeLayout.success(table) && !keep.has(key)) stale.push(key);
    await out.delete(stale);
  }
  await deletePrefix(out, lakeLayout.stagedPrefix(manifest.runId));
}

/**
 * Removes an unfinished run's staged data and the table files it wrote. Never touches committed data:
 * files of the committed manifest are kept even if named for this run, and when this run is the
 * committed one only its staged data goes. Plans, receipts and rejects stay for inspection; a
 * discarded run id must not be resumed.
 */
export async function discardRun(out: Storage, runId: string, opts: DiscardOptions = {}): Promise<void> {
  const current = await readJsonIfExists<CurrentPointer>(out, lakeLayout.current());
  const committed = current ? await readJsonIfExists<Manifest>(out, current.manifest) : null;
  const keep = new Set(committed?.files.map((f) => f.key) ?? []);
  if (current?.runId !== runId) {
    const marker = `part-${runId}-`;
    for (const table of TABLES) {
      const mine: string[] = [];
      for await (const o of out.list(lakeLayout.tablePrefix(table))) {
        const base = o.key.slice(o.key.lastIndexOf('/') + 1);
        if (base.startsWith(marker) && !keep.has(o.key)) mine.push(o.key);
      }
      await out.delete(mine);
    }
  }
  await deletePrefix(out, lakeLayout.stagedPrefix(runId));
  await removeStaleWrites(out, [...TABLES.map((t) => lakeLayout.tablePrefix(t)), lakeLayout.runRoot(runId)], opts);
}

async function deletePrefix(out: Storage, prefix: string): Promise<void> {
  let batch: string[] = [];
  for await (const o of out.list(prefix)) {
    batch.push(o.key);
    if (batch.length >= 1000) {
      await out.delete(batch);
      batch = [];
    }
  }
  await out.delete(batch);
}

/** Refuses to commit a run with a missing or foreign receipt: the lake would silently lose rows. */
async function verifyComplete(out: Storage, runId: string, scan: readonly ScanReceipt[], build: readonly BuildReceipt[]): Promise<void> {
  for (const [stage, receipts] of [['scan', scan], ['build', build]] as const) {
    const plan = stage === 'scan' ? await readPlan(out, runId, 'scan') : await readPlan(out, runId, 'build');
    if (!plan) throw new Error(`cannot commit run ${runId}: its ${stage} plan ${out.root}${lakeLayout.plan(runId, stage)} does not exist`);
    const have = new Set<number>();
    for (const r of receipts) {
      if (r.runId !== runId || r.stage !== stage) throw new Error(`cannot commit run ${runId}: a ${stage} receipt belongs to run ${r.runId} stage ${r.stage}`);
      have.add(r.index);
    }
    const missing: number[] = [];
    for (let i = 0; i < plan.shards; i++) if (!have.has(i)) missing.push(i);
    if (missing.length > 0 || have.size !== plan.shards) {
      throw new Error(`cannot commit run ${runId}: ${stage} receipts missing for shard(s) ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} (have ${have.size} of ${plan.shards})`);
    }
  }
}

async function listKeys(out: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of out.list(prefix)) keys.push(o.key);
  return keys;
}

/** Every manifest file must exist with the size its receipt recorded. One listing per table, returned. */
async function verifyFiles(out: Storage, manifest: Manifest): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const table of TABLES) for await (const o of out.list(lakeLayout.tablePrefix(table))) sizes.set(o.key, o.size);
  const bad = manifest.files.filter((f) => sizes.get(f.key) !== f.bytes);
  if (bad.length > 0) {
    const f = bad[0]!;
    throw new Error(
      `cannot commit run ${manifest.runId}: ${bad.length} output file(s) missing or changed, e.g. ${out.root}${f.key} ` +
        `(receipt says ${f.bytes} bytes, storage has ${sizes.has(f.key) ? `${sizes.get(f.key)} bytes` : 'nothing'}); re-run the build shards`,
    );
  }
  return sizes;
}
