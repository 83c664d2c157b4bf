// The scan shard's read-ahead of small splits: items come out in split order, at most `window` small
// splits are in flight, big splits are streamed (never prefetched), and a failed prefetch surfaces
// when its split is consumed, not before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SplitReader } from '../../../job-runner/src/stages/splitPrefetch.js';
import type { ReadItem } from '../../../job-runner/src/read/items.js';
import type { InputSplit } from '../../../job-runner/src/run/types.js';

const split = (i: number, size: number): InputSplit => ({ kind: 'song', key: `k${i}`, ordinal: i, compressed: false, start: 0, end: size, size });

test('split read-ahead: order kept, window bounded, big splits streamed, errors at their split', async () => {
  const splits = [split(0, 10), split(1, 10), split(2, 5000), split(3, 10), split(4, 10), split(5, 10), split(6, 10)];
  let inFlight = 0;
  let maxInFlight = 0;
  const started: number[] = [];
  const read = async function* (s: InputSplit): AsyncGenerator<ReadItem> {
    started.push(s.ordinal);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, (7 - s.ordinal) * 3)); // later splits finish first
    inFlight--;
    if (s.ordinal === 5) throw new Error('GET k5 failed');
    yield { type: 'lines', data: Buffer.from(`${s.ordinal}\n`), offset: 0, firstLine: 1 };
  };
  const reader = new SplitReader(splits, read, { window: 2, smallBytes: 100 });
  const seen: string[] = [];
  for (let i = 0; i < splits.length; i++) {
    try {
      for await (const item of reader.items(i)) if (item.type === 'lines') seen.push(item.data.toString().trim());
    } catch (err) {
      seen.push(`error ${i}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(seen, ['0', '1', '2', '3', '4', 'error 5: GET k5 failed', '6']);
  assert.ok(maxInFlight <= 3, `${maxInFlight} reads at once`); // the split being read + window 2
  assert.equal(started.filter((o) => o === 2).length, 1, 'the big split is read once, when its turn comes');
  assert.ok(started.indexOf(3) < started.indexOf(2), 'small split 3 was fetched ahead while big split 2 waited its turn');
});
