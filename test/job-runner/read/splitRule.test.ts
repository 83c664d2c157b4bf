// Property test of the split rule: for random contents and random split points, the lines read over
// all splits are the object's lines, each exactly once, in order, with correct offsets and line
// numbers; blocks hold whole lines only; oversized lines come out as `oversized`, never in a block.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSplit } from '../../../job-runner/src/read/readSplit.js';
import type { ReadItem } from '../../../job-runner/src/read/items.js';
import { LocalStorage } from '../../../job-runner/src/storage/localStorage.js';
import type { Storage } from '../../../job-runner/src/storage/storage.js';
import type { InputSplit } from '../../../job-runner/src/run/types.js';
import { tempDir } from '../../helpers/paths.js';
import { ChunkyMemoryStorage, seeded } from './memoryStorage.js';
import { contentLength, flatten, modelLines, type SeenLine } from './lineModel.js';

const PIECES = ['', ' ', '\t \r', '{"a":1}', '{"song":"Ça va","x":"日本語"}', '😀😀', 'x'.repeat(40), 'é'.repeat(9)];

/** Random object: short, blank, CRLF, unicode and long lines, with or without a final newline. */
function randomObject(rand: () => number, maxLine: number): Buffer {
  const lines: string[] = [];
  const n = Math.floor(rand() * 40);
  for (let i = 0; i < n; i++) {
    const r = rand();
    let text: string;
    if (r < 0.1) text = 'L'.repeat(maxLine - 2 + Math.floor(rand() * 5)); // around the limit
    else if (r < 0.15) text = 'Z'.repeat(maxLine * 3 + Math.floor(rand() * 50)); // far over it
    else text = PIECES[Math.floor(rand() * PIECES.length)]! + (rand() < 0.3 ? PIECES[Math.floor(rand() * PIECES.length)]! : '');
    lines.push(text + (rand() < 0.25 ? '\r' : ''));
  }
  const body = lines.join('\n');
  return Buffer.from(rand() < 0.5 ? body + '\n' : body);
}

function randomSplits(rand: () => number, key: string, size: number): InputSplit[] {
  const cuts = new Set<number>([0, size]);
  const k = Math.floor(rand() * 6);
  for (let i = 0; i < k; i++) cuts.add(Math.floor(rand() * (size + 1)));
  const points = [...cuts].sort((a, b) => a - b);
  const splits: InputSplit[] = [];
  for (let i = 0; i + 1 < points.length; i++) splits.push({ kind: 'log', key, ordinal: 0, compressed: false, start: points[i]!, end: points[i + 1]!, size });
  if (splits.length === 0) splits.push({ kind: 'log', key, ordinal: 0, compressed: false, start: 0, end: size, size });
  return splits;
}

async function collect(it: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const item of it) out.push(item);
  return out;
}

async function checkObject(storage: Storage, key: string, data: Buffer, splits: InputSplit[], opts: { maxLineBytes: number; blockBytes: number; maxRejectSampleBytes: number; wholeReadBytes?: number }, label: string) {
  const want = modelLines(data);
  const problems: string[] = [];
  const seen: SeenLine[] = [];
  for (const split of splits) {
    const items = await collect(readSplit(storage, split, opts));
    for (const item of items) {
      if (item.type === 'lines') {
        const ends = item.offset + item.data.length;
        if (item.data[item.data.length - 1] !== 0x0a && ends !== data.length) problems.push(`block at ${item.offset} ends mid-line`);
        if (!item.data.equals(data.subarray(item.offset, ends))) problems.push(`block at ${item.offset} does not match the object's bytes`);
        // Memory bound: a block is cut once it reaches its threshold, so it exceeds it by one line at most.
        const bound = Math.max(opts.blockBytes, opts.maxLineBytes) + opts.maxLineBytes + 2;
        if (item.data.length > bound) problems.push(`block at ${item.offset} holds ${item.data.length} bytes > ${bound}`);
      }
      if (item.type !== 'truncated-gzip' && item.type !== 'corrupt-gzip' && (item.offset < split.start || item.offset >= split.end)) {
        problems.push(`split [${split.start},${split.end}) yielded an item starting at ${item.offset}`);
      }
    }
    const lines = flatten(items, problems);
    for (const l of lines) {
      if (l.offset < split.start || l.offset >= split.end) problems.push(`split [${split.start},${split.end}) yielded a line at ${l.offset}`);
      if (split.start > 0 && l.line !== null) problems.push(`split starting at ${split.start} claims line number ${l.line}`);
    }
    seen.push(...lines);
  }
  assert.deepEqual(problems, [], label);
  assert.equal(seen.length, want.length, `${label}: line count`);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const s = seen[i]!;
    assert.equal(s.offset, w.offset, `${label}: offset of line ${w.line}`);
    if (s.line !== null) assert.equal(s.line, w.line, `${label}: number of the line at ${w.offset}`);
    if (contentLength(w.bytes) > opts.maxLineBytes) {
      assert.ok(s.oversized, `${label}: line ${w.line} (${w.bytes.length} bytes) should be oversized`);
      assert.equal(s.oversized.length, contentLength(w.bytes), `${label}: oversized length`);
      assert.ok(s.oversized.head.equals(w.bytes.subarray(0, opts.maxRejectSampleBytes)), `${label}: oversized head of line ${w.line}: ${JSON.stringify(s.oversized.head.toString('latin1'))} vs ${JSON.stringify(w.bytes.subarray(0, opts.maxRejectSampleBytes).toString('latin1'))} max ${opts.maxLineBytes}`);
    } else {
      assert.ok(s.bytes, `${label}: line ${w.line} should be in a block`);
      assert.ok(s.bytes.equals(w.bytes), `${label}: bytes of line ${w.line}`);
    }
  }
}

test('every line is read exactly once over random splits (in-memory, random chunking)', async () => {
  const iterations = Number(process.env.SLAKE_PROPERTY_ITERATIONS ?? 1500);
  for (let seed = 1; seed <= iterations; seed++) {
    const rand = seeded(seed);
    const maxLineBytes = 8 + Math.floor(rand() * 60);
    // Half the objects through small whole reads (one get), half through chunked streams only.
    const opts = { maxLineBytes, blockBytes: 1 + Math.floor(rand() * 200), maxRejectSampleBytes: Math.floor(rand() * 12), wholeReadBytes: rand() < 0.5 ? 0 : 1 << 20 };
    const data = randomObject(rand, maxLineBytes);
    const storage = new ChunkyMemoryStorage(rand, 1 + Math.floor(rand() * 150));
    await storage.put('obj.json', data);
    await checkObject(storage, 'obj.json', data, randomSplits(rand, 'obj.json', data.length), opts, `seed ${seed}`);
  }
});

test('every line is read exactly once over random splits (local files)', async () => {
  const dir = tempDir();
  const storage = new LocalStorage(dir + '/');
  for (let seed = 10_001; seed <= 10_150; seed++) {
    const rand = seeded(seed);
    const maxLineBytes = 8 + Math.floor(rand() * 60);
    // Half the objects through small whole reads (one get), half through chunked streams only.
    const opts = { maxLineBytes, blockBytes: 1 + Math.floor(rand() * 200), maxRejectSampleBytes: Math.floor(rand() * 12), wholeReadBytes: rand() < 0.5 ? 0 : 1 << 20 };
    const data = randomObject(rand, maxLineBytes);
    writeFileSync(join(dir, `o${seed}.jsonl`), data);
    await checkObject(storage, `o${seed}.jsonl`, data, randomSplits(rand, `o${seed}.jsonl`, data.length), opts, `seed ${seed}`);
  }
});

test('every split point of one object, one split each side', async () => {
  const rand = seeded(7);
  const data = Buffer.from('a\r\n\n{"k":"v"}\nlonglonglonglong\n😀\n\nlast');
  const storage = new ChunkyMemoryStorage(rand, 3);
  await storage.put('o', data);
  for (let cut = 0; cut <= data.length; cut++) {
    const splits: InputSplit[] = [
      { kind: 'log', key: 'o', ordinal: 0, compressed: false, start: 0, end: cut, size: data.length },
      { kind: 'log', key: 'o', ordinal: 0, compressed: false, start: cut, end: data.length, size: data.length },
    ];
    await checkObject(storage, 'o', data, splits, { maxLineBytes: 12, blockBytes: 4, maxRejectSampleBytes: 5 }, `cut ${cut}`);
  }
});
