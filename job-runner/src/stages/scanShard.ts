// The scan shard executor: reads its task's splits, parses them (schema on read), stages plays,
// users and songs as columnar segments in one object, quarantines rejects, and writes its receipt
// last. Keys depend only on (runId, index), and the bytes only on the input, so a retried or
// duplicated shard overwrites its outputs with identical bytes.
//
//   split ──readSplit──▶ line blocks ──EventParser / SongParser──▶ batches ──ScanStaging──▶ segments
//                                                   └──rejects──▶ rejects/scan-<index>.jsonl
import { lakeLayout, shardName } from '../run/layout.js';
import { writeReceipt } from '../run/documents.js';
import type { ScanReceipt, ScanTask } from '../run/types.js';
import { readSplit } from '../read/readSplit.js';
import { DEFAULT_GZIP_IN_MEMORY_BYTES } from '../read/gzipObject.js';
import { EventParser } from '../schema/eventParser.js';
import { SongParser } from '../schema/songParser.js';
import { mergeCounts, rejectJsonLine, type RejectedRecord } from '../schema/rejects.js';
import { mergeDrift } from '../commit/manifest.js';
import { memoryOf } from '../plan/runSpec.js';
import type { ColumnBatch } from '../columnar/batch.js';
import { ObjectSink } from './objectSink.js';
import { ScanStaging } from './scanStaging.js';
import { StagedWriter } from './stagedWriter.js';
import { SplitReader } from './splitPrefetch.js';
import { throwIfAborted, type ShardContext } from './shardContext.js';

export function stagedObjectKey(runId: string, index: number): string {
  return `${lakeLayout.stagedPrefix(runId)}scan-${shardName(index)}.arrows`;
}

export function rejectsObjectKey(runId: string, index: number): string {
  return `${lakeLayout.rejectsPrefix(runId)}scan-${shardName(index)}.jsonl`;
}

/** Rejected lines are flushed to the quarantine object once this many bytes are pending. */
const REJECT_FLUSH_BYTES = 1 << 20;

export async function runScanShard(ctx: ShardContext, task: ScanTask): Promise<ScanReceipt> {
  const started = (ctx.now ?? Date.now)();
  const { spec, out } = ctx;
  const memory = memoryOf(spec);
  const staged = new StagedWriter(out, stagedObjectKey(spec.runId, task.index));
  const staging = new ScanStaging(staged, spec.buckets, memory.stagingBytes);

  let rejectSink: ObjectSink | null = null;
  let rejectLines: string[] = [];
  let rejectPendingBytes = 0;
  let rejectCount = 0;
  const onReject = (r: RejectedRecord) => {
    const line = rejectJsonLine(r);
    rejectLines.push(line);
    rejectPendingBytes += line.length;
    rejectCount++;
  };
  const flushRejects = async (force: boolean) => {
    if (rejectLines.length === 0 || (!force && rejectPendingBytes < REJECT_FLUSH_BYTES)) return;
    rejectSink ??= new ObjectSink(out, rejectsObjectKey(spec.runId, task.index), 'application/x-ndjson');
    const chunk = Buffer.from(rejectLines.join(''), 'utf8');
    rejectLines = [];
    rejectPendingBytes = 0;
    await rejectSink.write(chunk);
  };

  const parserOptions = { maxLineBytes: spec.read.maxLineBytes, maxRejectSampleBytes: spec.read.maxRejectSampleBytes, batchRows: memory.batchRows, onReject };
  const events = new EventParser(parserOptions);
  const songs = new SongParser(parserOptions);
  const stores = { song: ctx.storageFor(spec.songs), log: ctx.storageFor(spec.logs) };
  let bytesRead = 0;
  let rows = 0;
  const take = async (kind: 'song' | 'log', batches: ColumnBatch[]) => {
    for (const b of batches) {
      rows += b.length;
      if (kind === 'log') await staging.addEvents(b);
      else await staging.addSongs(b);
    }
  };

  // A .gz object is verified before it is parsed (read/gzipObject.ts): held in memory up to this size,
  // a sixteenth of the staging budget, so a shard given little memory reads big objects twice instead.
  const gzipInMemoryBytes = Math.min(DEFAULT_GZIP_IN_MEMORY_BYTES, Math.floor(memory.stagingBytes / 16));
  const readOptions = { maxLineBytes: spec.read.maxLineBytes, maxRejectSampleBytes: spec.read.maxRejectSampleBytes, gzipInMemoryBytes };
  const reader = new SplitReader(task.splits, (split) => readSplit(stores[split.kind], split, readOptions));
  try {
    for (let i = 0; i < task.splits.length; i++) {
      const split = task.splits[i]!;
      throwIfAborted(ctx.signal);
      const parser = split.kind === 'log' ? events : songs;
      parser.beginSource({ ordinal: split.ordinal, key: split.key, whole: split.start === 0 && split.end === split.size });
      let lastPos = 0;
      for await (const item of reader.items(i)) {
        throwIfAborted(ctx.signal);
        if (item.type === 'corrupt-gzip' || item.type === 'truncated-gzip') {
          // The quarantine line carries the message too; the log shows it while the run goes on.
          ctx.log?.(item.message, { source: `${stores[split.kind].root}${split.key}`, reason: item.type });
        }
        await take(split.kind, parser.push(item));
        await flushRejects(false);
        if (item.type === 'lines') {
          // Progress in stored bytes is approximate for gzip (decompressed offsets); fine for a meter.
          const pos = item.offset + item.data.length - split.start;
          bytesRead += Math.max(0, pos - lastPos);
          lastPos = pos;
        }
        ctx.onProgress?.({ bytes: bytesRead, rows });
      }
      await take(split.kind, parser.endSource());
      bytesRead += Math.max(0, split.end - split.start - lastPos);
      ctx.onProgress?.({ bytes: bytesRead, rows });
    }
    await take('log', events.finish());
    await take('song', songs.finish());
    await staging.finish();
    await flushRejects(true);
    throwIfAborted(ctx.signal);
    const parts = await staged.close();
    if (rejectSink) await (rejectSink as ObjectSink).close();

    const records = mergeCounts(events.counts(), songs.counts());
    if (records.read !== records.accepted + records.rejected || records.rejected !== rejectCount) {
      throw new Error(`conservation violated in scan shard ${task.index}: read ${records.read}, accepted ${records.accepted}, rejected ${records.rejected} (quarantined ${rejectCount})`);
    }
    const receipt: ScanReceipt = {
      runId: spec.runId,
      stage: 'scan',
      index: task.index,
      splits: task.splits.length,
      records,
      drift: mergeDrift([events.driftReport(), songs.driftReport()]),
      staged: parts,
      songPartitions: staging.songPartitions(),
      rejects: rejectCount > 0 ? { key: rejectsObjectKey(spec.runId, task.index), count: rejectCount } : null,
      seconds: ((ctx.now ?? Date.now)() - started) / 1000,
    };
    await writeReceipt(out, receipt);
    return receipt;
  } catch (err) {
    const reason = err instanceof Error ? err : new Error(String(err));
    await staged.abort(reason);
    if (rejectSink) await (rejectSink as ObjectSink).abort(reason);
    throw err;
  }
}
