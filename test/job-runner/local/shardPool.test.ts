// The local runner's shard pool with a fake executor (the real one is exercised by every run test):
// concurrency bound, retries of exit 1 like backoffLimitPerIndex, exit 3 fails at once and stops the
// shards still running, the error names the shard and its last log message. Plus the progress line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runShardPool, ShardFailed } from '../../../job-runner/src/local/shardPool.js';
import type { ShardExecutor } from '../../../job-runner/src/local/shardExecutor.js';
import { formatProgress, TtyProgress } from '../../../job-runner/src/local/progress.js';

/** Exit codes per index, one per attempt (the last one repeats); records concurrency and stops. */
function fakeExecutor(script: Record<number, number[]>) {
  const attempts = new Map<number, number>();
  let running = 0;
  let maxRunning = 0;
  const stopped: number[] = [];
  const executor: ShardExecutor = (argv) => {
    const index = Number(argv[argv.indexOf('--index') + 1]);
    const attempt = attempts.get(index) ?? 0;
    attempts.set(index, attempt + 1);
    const codes = script[index] ?? [0];
    const code = codes[Math.min(attempt, codes.length - 1)]!;
    running++;
    maxRunning = Math.max(maxRunning, running);
    let stop: () => void = () => undefined;
    const done = new Promise<{ code: number; log: string[] }>((resolve) => {
      const timer = setTimeout(() => resolve({ code, log: [JSON.stringify({ level: 'error', message: `shard failed: boom in ${index}` })] }), code === 0 ? 5 : 1);
      stop = () => {
        clearTimeout(timer);
        stopped.push(index);
        resolve({ code: 1, log: [] });
      };
    }).finally(() => running--);
    return { done, stop: () => stop() };
  };
  return { executor, attempts, stopped, maxRunning: () => maxRunning };
}

const cases: { name: string; shards: number; parallel: number; script: Record<number, number[]>; want: { error?: RegExp; attempts?: Record<number, number> } }[] = [
  { name: 'all succeed, K at a time', shards: 7, parallel: 3, script: {}, want: { attempts: { 0: 1, 6: 1 } } },
  { name: 'a retryable failure is run again', shards: 3, parallel: 2, script: { 2: [1, 0] }, want: { attempts: { 2: 2 } } },
  { name: 'retries run out', shards: 2, parallel: 1, script: { 0: [1] }, want: { error: /scan shard 0 failed \(exit 1\): boom in 0/, attempts: { 0: 3 } } },
  { name: 'a permanent failure stops at once', shards: 4, parallel: 2, script: { 1: [3] }, want: { error: /scan shard 1 failed \(exit 3, permanent\): boom in 1/, attempts: { 1: 1 } } },
];

for (const c of cases) {
  test(`shard pool: ${c.name}`, async () => {
    const fake = fakeExecutor(c.script);
    const run = runShardPool({ stage: 'scan', shards: c.shards, parallel: c.parallel, retries: 2, executor: fake.executor, argvFor: (i) => ['shard', '--index', String(i)] });
    if (c.want.error) await assert.rejects(run, (err: Error) => err instanceof ShardFailed && c.want.error!.test(err.message));
    else await run;
    assert.ok(fake.maxRunning() <= c.parallel, `ran ${fake.maxRunning()} at once`);
    for (const [i, n] of Object.entries(c.want.attempts ?? {})) assert.equal(fake.attempts.get(Number(i)), n, `attempts of shard ${i}`);
  });
}

test('shard pool: an abort (Ctrl-C) stops the running shards and starts no more', async () => {
  const fake = fakeExecutor({});
  const controller = new AbortController();
  const run = runShardPool({ stage: 'build', shards: 10, parallel: 2, retries: 2, executor: fake.executor, argvFor: (i) => ['shard', '--index', String(i)], signal: controller.signal });
  controller.abort();
  await assert.rejects(run, /interrupted during the build stage/);
  assert.deepEqual(fake.stopped.sort(), [0, 1]);
  assert.equal(fake.attempts.size, 2);
});

test('progress: the line shows shards, bytes, MB/s and rows', () => {
  assert.equal(
    formatProgress({ stage: 'scan', shards: 8, done: 3, bytes: 412 * 2 ** 20, totalBytes: 2 ** 30, rows: 4021337, seconds: 2 }),
    'scan   3/8 shards  412.0 MiB of 1.0 GiB  216.0 MB/s  4,021,337 rows',
  );
});

test('progress: drawn on a TTY with an injected clock, nothing on a pipe', () => {
  let now = 0;
  const writes: string[] = [];
  const tty = Object.assign({ isTTY: true, columns: 200, write: (s: string) => (writes.push(s), true) }) as unknown as NodeJS.WriteStream;
  const reporter = TtyProgress.forStream(tty, { now: () => now, date: () => new Date(0) });
  reporter.stagePlanned?.('scan', { runId: 'r', stage: 'scan', shards: 2, inputObjects: 2, inputBytes: 2e6, skew: 1, tasks: [] });
  now = 1000;
  reporter.shardProgress?.('scan', 0, { bytes: 1e6, rows: 10 });
  now = 1200;
  reporter.shardDone?.('scan', 0);
  reporter.shardDone?.('scan', 1);
  assert.ok(writes.some((w) => w.includes('1/2 shards') && w.includes('0.8 MB/s') && w.includes('10 rows')), writes.join('|'));
  assert.ok(writes[writes.length - 1]!.endsWith('\n'));
  const pipe = { isTTY: false, write: () => assert.fail('nothing is written to a pipe') } as unknown as NodeJS.WriteStream;
  const silent = TtyProgress.forStream(pipe, { now: () => 0, date: () => new Date(0) });
  silent.phase?.('listing');
  assert.equal(silent.stagePlanned, undefined);
});
