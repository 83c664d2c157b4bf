// `shard --out <uri> --run-id <id> --stage scan|build [--index N]`: the job-runner pod's command
// (job-runner/src/main.ts) and `sparkify-lake shard`. Logs are JSON lines (winston) on stdout.
//
// Exit codes (docs/architecture.md): 0 done (receipt written); 1 failed, retryable (network, S3 5xx
// after retries, SIGTERM); 3 permanent (bad arguments, missing or invalid run documents, missing
// bucket, denied credentials, an input object gone): the Job's podFailurePolicy fails the index.
import winston from 'winston';
import { InvalidDocumentError } from '../run/documents.js';
import { assertRunId } from '../run/layout.js';
import type { Stage } from '../run/layout.js';
import type { Storage } from '../storage/storage.js';
import { StorageError } from '../storage/storage.js';
import { openStorage } from '../storage/open.js';
import { runShard } from './runShard.js';
import { ShardAborted, type ShardProgress } from './shardContext.js';

export const EXIT_DONE = 0;
export const EXIT_RETRYABLE = 1;
export const EXIT_PERMANENT = 3;

export interface ShardArgs {
  out: string;
  runId: string;
  stage: Stage;
  index: number;
}

export class UsageError extends Error {}

/** What `--help` prints (plain text on stdout; everything else the shard says is JSON logs). */
export const SHARD_USAGE = `usage: shard --out <uri> --run-id <id> --stage scan|build [--index N]

Runs one shard of a planned run: the job-runner image's entrypoint (node dist/job-runner/src/main.js)
and \`sparkify-lake shard\`. It reads <out>/_lake/runs/<id>/run.json and its task, writes its outputs
and then its receipt; logs are JSON lines on stdout.

  --out <uri>        the lake's output root: s3://bucket/prefix or a folder
  --run-id <id>      the run (lowercase letters, digits and '-', at most 40)
  --stage scan|build
  --index N          the shard index; defaults to JOB_COMPLETION_INDEX (set by an Indexed Job)

S3 settings come from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
SPARKIFY_S3_FORCE_PATH_STYLE. Exit codes: 0 done, 1 failed (retryable), 3 permanent failure.`;

/** Whether the arguments ask for the usage text (`--help`, `-h`, with or without the `shard` word). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

export function parseShardArgs(argv: readonly string[], env: Record<string, string | undefined>): ShardArgs {
  const args = [...argv];
  if (args[0] === 'shard') args.shift();
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--(out|run-id|stage|index)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    flags.set(m[1]!, value);
  }
  const out = flags.get('out');
  const runId = flags.get('run-id');
  const stage = flags.get('stage');
  if (!out) throw new UsageError('--out <output uri> is required');
  if (!runId) throw new UsageError('--run-id <id> is required');
  try {
    assertRunId(runId);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (stage !== 'scan' && stage !== 'build') throw new UsageError(`--stage must be scan or build, got ${JSON.stringify(stage)}`);
  const rawIndex = flags.get('index') ?? env.JOB_COMPLETION_INDEX;
  if (rawIndex === undefined) throw new UsageError('no shard index: pass --index N or set JOB_COMPLETION_INDEX (an Indexed Job does)');
  if (!/^\d+$/.test(rawIndex)) throw new UsageError(`shard index must be a non-negative integer, got ${JSON.stringify(rawIndex)}`);
  return { out, runId, stage, index: Number(rawIndex) };
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof InvalidDocumentError) return EXIT_PERMANENT;
  if (err instanceof ShardAborted) return EXIT_RETRYABLE;
  if (err instanceof StorageError) {
    if (err.transient) return EXIT_RETRYABLE;
    return ['invalid', 'no-bucket', 'access-denied', 'not-found'].includes(err.kind) ? EXIT_PERMANENT : EXIT_RETRYABLE;
  }
  return EXIT_RETRYABLE;
}

export interface ShardMainOptions {
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Progress callback (the local runner passes one to relay progress over IPC). */
  onProgress?: (p: ShardProgress) => void;
  /** Where JSON log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  storageFor?: (uri: string) => Storage;
  now?: () => number;
}

/** Runs one shard; returns the exit code. Never throws. */
export async function shardMain(argv: readonly string[], opts: ShardMainOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: opts.logStream ?? process.stdout })],
  });
  let args: ShardArgs;
  try {
    args = parseShardArgs(argv, env);
  } catch (err) {
    logger.error(`invalid shard arguments: ${(err as Error).message}`, { usage: 'shard --out <uri> --run-id <id> --stage scan|build [--index N]', exitCode: EXIT_PERMANENT });
    return EXIT_PERMANENT;
  }
  const meta = { runId: args.runId, stage: args.stage, index: args.index };
  const started = (opts.now ?? Date.now)();
  const storageFor = opts.storageFor ?? ((uri: string) => openStorage(uri, { source: uri }));
  try {
    const out = storageFor(args.out);
    logger.info('shard started', { ...meta, output: out.root });
    const receipt = await runShard({
      out,
      storageFor,
      runId: args.runId,
      stage: args.stage,
      index: args.index,
      signal: opts.signal,
      onProgress: opts.onProgress,
      now: opts.now,
      log: (message, fields) => logger.info(message, { ...meta, ...fields }),
    });
    const summary =
      receipt.stage === 'scan'
        ? { records: receipt.records, staged: receipt.staged.length, rejects: receipt.rejects?.count ?? 0 }
        : { files: receipt.files.length, rows: receipt.files.reduce((n, f) => n + f.rows, 0) };
    logger.info('shard done', { ...meta, seconds: ((opts.now ?? Date.now)() - started) / 1000, ...summary });
    return EXIT_DONE;
  } catch (err) {
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    logger.error(`shard failed: ${message}`, { ...meta, exitCode: code, retryable: code === EXIT_RETRYABLE, kind: err instanceof StorageError ? err.kind : (err as Error)?.name });
    return code;
  } finally {
    await new Promise<void>((resolve) => {
      logger.on('finish', () => resolve());
      logger.end();
      setTimeout(resolve, 200).unref();
    });
  }
}

/**
 * The process-level entrypoint (job-runner/src/main.ts and `sparkify-lake shard`): SIGTERM/SIGINT
 * abort the shard; when forked with an IPC channel, progress goes to the parent at most 5 times a second.
 */
export async function shardEntrypoint(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(SHARD_USAGE + '\n');
    return EXIT_DONE;
  }
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.on('SIGTERM', abort);
  process.on('SIGINT', abort);
  let lastSent = 0;
  const onProgress = process.send
    ? (p: ShardProgress) => {
        const now = Date.now();
        if (now - lastSent < 200) return;
        lastSent = now;
        process.send?.({ type: 'progress', bytes: p.bytes, rows: p.rows });
      }
    : undefined;
  try {
    return await shardMain(argv, { signal: controller.signal, onProgress });
  } finally {
    process.off('SIGTERM', abort);
    process.off('SIGINT', abort);
  }
}
