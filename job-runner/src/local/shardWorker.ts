// A shard in a worker thread (the local runner's `thread` executor): the same shardMain as the pod
// entrypoint, with progress and the exit code posted to the parent.
import { parentPort, workerData } from 'node:worker_threads';
import { shardMain } from '../stages/shardCommand.js';

const controller = new AbortController();
parentPort?.on('message', (m: { type?: string }) => {
  if (m?.type === 'abort') controller.abort();
});
let last = 0;
const code = await shardMain((workerData as { argv: string[] }).argv, {
  signal: controller.signal,
  onProgress: (p) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    parentPort?.postMessage({ type: 'progress', bytes: p.bytes, rows: p.rows });
  },
});
parentPort?.postMessage({ type: 'exit', code });
parentPort?.close();
