// The work queue with an injected clock: duplicates collapse, one worker per key, capped backoff.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../operator/src/control/clock.js';
import { WorkQueue } from '../../operator/src/control/workQueue.js';

async function take(q: WorkQueue): Promise<string | null> {
  return q.get();
}

test('adds of a queued key collapse into one entry', async () => {
  const q = new WorkQueue(new FakeClock());
  q.add('ns/a');
  q.add('ns/b');
  q.add('ns/a');
  q.add('ns/a');
  assert.equal(q.depth, 2);
  assert.equal(await take(q), 'ns/a');
  assert.equal(await take(q), 'ns/b');
  assert.equal(q.depth, 0);
});

test('a key being processed is never handed out twice; re-added meanwhile, it comes back once after done()', async () => {
  const q = new WorkQueue(new FakeClock());
  q.add('ns/a');
  const k = await take(q);
  assert.equal(k, 'ns/a');
  q.add('ns/a');
  q.add('ns/a');
  assert.equal(q.depth, 0, 'not queued while processing');
  let second: string | null | undefined;
  void q.get().then((x) => (second = x));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined, 'a second worker must wait');
  q.done('ns/a');
  await new Promise((r) => setImmediate(r));
  assert.equal(second, 'ns/a');
  assert.ok(q.isProcessing('ns/a'));
  q.done('ns/a');
  assert.equal(q.depth, 0);
});

test('failures back off exponentially up to the cap; forget() resets', () => {
  const clock = new FakeClock();
  const q = new WorkQueue(clock, { baseMs: 100, maxMs: 1000 });
  const delays = Array.from({ length: 6 }, () => q.addRateLimited('ns/a'));
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  q.forget('ns/a');
  assert.equal(q.addRateLimited('ns/a'), 100);
});

test('a delayed add fires at its time; the earliest pending add wins', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue(clock);
  q.addAfter('ns/a', 5000);
  q.addAfter('ns/a', 2000);
  q.addAfter('ns/a', 9000);
  assert.equal(q.delayedCount, 1);
  clock.advance(1999);
  assert.equal(q.depth, 0);
  clock.advance(1);
  assert.equal(q.depth, 1);
  assert.equal(await take(q), 'ns/a');
  q.done('ns/a');
  clock.advance(10_000);
  assert.equal(q.depth, 0, 'the later adds were dropped in favour of the earlier one');
});

test('a delayed add of a key in progress re-queues it after done()', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue(clock);
  q.add('ns/a');
  await take(q);
  q.addAfter('ns/a', 100);
  clock.advance(100);
  assert.equal(q.depth, 0);
  q.done('ns/a');
  assert.equal(q.depth, 1);
});

test('get() returns null on shutdown and on abort', async () => {
  const q = new WorkQueue(new FakeClock());
  const ac = new AbortController();
  const pending = q.get(ac.signal);
  ac.abort();
  assert.equal(await pending, null);
  q.add('ns/x');
  assert.equal(await q.get(), 'ns/x', 'an aborted waiter does not swallow keys');
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, null);
  q.add('ns/y');
  assert.equal(q.depth, 0);
});

test('many workers: each key processed by one worker at a time, every add eventually processed', async () => {
  const q = new WorkQueue(new FakeClock());
  const inFlight = new Set<string>();
  const processed: string[] = [];
  let violations = 0;
  const worker = async () => {
    for (;;) {
      const k = await q.get();
      if (k === null) return;
      if (inFlight.has(k)) violations++;
      inFlight.add(k);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      processed.push(k);
      inFlight.delete(k);
      q.done(k);
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  for (let i = 0; i < 200; i++) {
    q.add(`ns/${i % 7}`);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  while (q.depth > 0 || [...Array(7).keys()].some((i) => q.isProcessing(`ns/${i}`))) await new Promise((r) => setTimeout(r, 2));
  q.shutDown();
  await Promise.all(workers);
  assert.equal(violations, 0);
  assert.deepEqual(new Set(processed), new Set([...Array(7).keys()].map((i) => `ns/${i}`)));
  assert.ok(processed.length < 200, `duplicates collapsed: ${processed.length} reconciles for 200 adds`);
});
