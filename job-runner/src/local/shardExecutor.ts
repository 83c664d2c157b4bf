// How the local runner starts one shard: a child process running the pod entrypoint (main.js, the
// same file a job-runner pod runs) or a worker thread running the same shardMain. Either way the shard
// reports progress, can be stopped (SIGTERM / an abort message), and ends with an exit code and the
// tail of its JSON log for error messages.
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { ShardProgress } from '../stages/shardContext.js';

export type ExecutorKind = 'process' | 'thread';

export interface ShardHandle {
  /** Resolves with the exit code and the last log lines (JSON). */
  done: Promise<{ code: number; log: string[] }>;
  stop(): void;
}

export type ShardExecutor = (argv: string[], onProgress: (p: ShardProgress) => void) => ShardHandle;

const MAIN_JS = new URL('../main.js', import.meta.url);
const WORKER_JS = new URL('./shardWorker.js', import.meta.url);
const LOG_TAIL = 20;

export function processExecutor(env: NodeJS.ProcessEnv = process.env): ShardExecutor {
  return (argv, onProgress) => {
    const child = fork(MAIN_JS, argv, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env, serialization: 'json' });
    const log: string[] = [];
    const keep = (line: string) => {
      log.push(line);
      if (log.length > LOG_TAIL) log.shift();
    };
    createInterface({ input: child.stdout! }).on('line', keep);
    createInterface({ input: child.stderr! }).on('line', keep);
    child.on('message', (m: { type?: string; bytes?: number; rows?: number }) => {
      if (m?.type === 'progress') onProgress({ bytes: m.bytes ?? 0, rows: m.rows ?? 0 });
    });
    const done = new Promise<{ code: number; log: string[] }>((resolve) => {
      child.once('error', (err) => {
        keep(JSON.stringify({ level: 'error', message: `could not start shard process: ${err.message}` }));
        resolve({ code: 1, log });
      });
      child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), log }));
    });
    return { done, stop: () => void child.kill('SIGTERM') };
  };
}

export function threadExecutor(): ShardExecutor {
  return (argv, onProgress) => {
    const worker = new Worker(WORKER_JS, { workerData: { argv }, stdout: true, stderr: true });
    const log: string[] = [];
    const keep = (line: string) => {
      log.push(line);
      if (log.length > LOG_TAIL) log.shift();
    };
    createInterface({ input: worker.stdout }).on('line', keep);
    createInterface({ input: worker.stderr }).on('line', keep);
    let exitCode: number | null = null;
    worker.on('message', (m: { type?: string; bytes?: number; rows?: number; code?: number }) => {
      if (m?.type === 'progress') onProgress({ bytes: m.bytes ?? 0, rows: m.rows ?? 0 });
      if (m?.type === 'exit') {
        exitCode = m.code ?? 1;
        // Keep-alive sockets may hold the thread's event loop; the shard is finished.
        setTimeout(() => void worker.terminate(), 50);
      }
    });
    const done = new Promise<{ code: number; log: string[] }>((resolve) => {
      worker.once('error', (err) => {
        keep(JSON.stringify({ level: 'error', message: `shard thread crashed: ${err.message}` }));
      });
      worker.once('exit', (code) => resolve({ code: exitCode ?? (code === 0 ? 1 : code || 1), log }));
    });
    return { done, stop: () => worker.postMessage({ type: 'abort' }) };
  };
}
