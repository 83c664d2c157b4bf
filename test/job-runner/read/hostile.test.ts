// Hostile inputs, table-driven, read from real files through LocalStorage: what each yields, item
// by item. Blank lines are lines here (the parser decides they are not records).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync, constants as zc } from 'node:zlib';
import { readSplit } from '../../../job-runner/src/read/readSplit.js';
import { LineBlocker } from '../../../job-runner/src/read/lineBlocks.js';
import type { ReadItem } from '../../../job-runner/src/read/items.js';
import { LocalStorage } from '../../../job-runner/src/storage/localStorage.js';
import type { InputSplit } from '../../../job-runner/src/run/types.js';
import { tempDir, udacityLogs, udacitySongs } from '../../helpers/paths.js';
import { openStorage } from '../../../job-runner/src/storage/open.js';
import { modelLines } from './lineModel.js';
import { ChunkyMemoryStorage, seeded } from './memoryStorage.js';

const MiB = 1024 * 1024;
const OPTS = { maxLineBytes: 16 * MiB, maxRejectSampleBytes: 64 * 1024 };

/** What a read yields, in a form that diffs readably. */
type Summary = (
  | { lines: string[]; offset: number; firstLine: number | null }
  | { oversized: { offset: number; line: number | null; length: number; head: string } }
  | { broken: string; offset: number; line: number | null; tail: string; length: number }
)[];

function summarize(items: ReadItem[]): Summary {
  return items.map((it) => {
    if (it.type === 'lines') return { lines: it.data.toString('utf8').split(/(?<=\n)/), offset: it.offset, firstLine: it.firstLine };
    if (it.type === 'oversized') return { oversized: { offset: it.offset, line: it.line, length: it.length, head: it.head.toString('latin1') } };
    return { broken: it.type, offset: it.offset, line: it.line, tail: it.tail.toString('latin1'), length: it.length };
  });
}

const dir = tempDir();
const storage = new LocalStorage(dir + '/');

async function read(name: string, content: Buffer, opts: Partial<typeof OPTS> & { blockBytes?: number } = {}, range?: [number, number]): Promise<ReadItem[]> {
  writeFileSync(join(dir, name), content);
  const split: InputSplit = { kind: 'log', key: name, ordinal: 0, compressed: name.endsWith('.gz'), start: range?.[0] ?? 0, end: range?.[1] ?? content.length, size: content.length };
  const out: ReadItem[] = [];
  for await (const item of readSplit(storage, split, { ...OPTS, ...opts })) out.push(item);
  return out;
}

const cases: { name: string; file: string; content: Buffer; opts?: Partial<typeof OPTS> & { blockBytes?: number }; want: Summary }[] = [
  { name: 'empty file', file: 'empty.json', content: Buffer.alloc(0), want: [] },
  { name: 'empty .gz object', file: 'empty.json.gz', content: Buffer.alloc(0), want: [] },
  { name: 'gzip of nothing', file: 'nothing.json.gz', content: gzipSync(Buffer.alloc(0)), want: [] },
  { name: 'only blank lines', file: 'blank.json', content: Buffer.from('\n \n\t\r\n\n'), want: [{ lines: ['\n', ' \n', '\t\r\n', '\n'], offset: 0, firstLine: 1 }] },
  { name: 'no trailing newline', file: 'nonl.json', content: Buffer.from('{"a":1}\n{"a":2}'), want: [{ lines: ['{"a":1}\n', '{"a":2}'], offset: 0, firstLine: 1 }] },
  { name: 'CRLF line ends are kept for the parser', file: 'crlf.json', content: Buffer.from('{"a":1}\r\n{"a":2}\r\n'), want: [{ lines: ['{"a":1}\r\n', '{"a":2}\r\n'], offset: 0, firstLine: 1 }] },
  {
    name: 'a line one byte over the limit is oversized; exactly at the limit (CR not counted) is fine',
    file: 'limit.json',
    content: Buffer.from('12345\r\n123456\nab\n'),
    opts: { maxLineBytes: 5, maxRejectSampleBytes: 3 },
    want: [
      { lines: ['12345\r\n'], offset: 0, firstLine: 1 },
      { oversized: { offset: 7, line: 2, length: 6, head: '123' } },
      { lines: ['ab\n'], offset: 14, firstLine: 3 },
    ],
  },
  {
    name: 'unicode across block boundaries: blocks end at line ends, never inside a character',
    file: 'unicode.json',
    content: Buffer.from('😀é\n日本語\nÇa\n'),
    opts: { blockBytes: 3, maxLineBytes: 10 },
    want: [
      // the first block of a whole-object read fills up to max(blockBytes, maxLineBytes)
      { lines: ['😀é\n', '日本語\n'], offset: 0, firstLine: 1 },
      { lines: ['Ça\n'], offset: 17, firstLine: 3 },
    ],
  },
  { name: 'gzip', file: 'ok.json.gz', content: gzipSync('{"a":1}\n\n{"a":2}'), want: [{ lines: ['{"a":1}\n', '\n', '{"a":2}'], offset: 0, firstLine: 1 }] },
  {
    name: 'gzip made of several members (cat a.gz b.gz)',
    file: 'multi.json.gz',
    content: Buffer.concat([gzipSync('{"a":1}\n'), gzipSync('{"a":2}\n')]),
    want: [{ lines: ['{"a":1}\n', '{"a":2}\n'], offset: 0, firstLine: 1 }],
  },
  {
    name: 'a .gz that is plain text is one corrupt-gzip item showing its first bytes',
    file: 'plain.json.gz',
    content: Buffer.from('{"a":1}\n{"a":2}\n'),
    opts: { maxRejectSampleBytes: 10 },
    want: [{ broken: 'corrupt-gzip', offset: 0, line: 1, tail: '{"a":1}\n{"', length: 16 }],
  },
  {
    name: 'oversized line inside gzip',
    file: 'big.json.gz',
    content: gzipSync('ok\n' + 'x'.repeat(100) + '\nok2'),
    opts: { maxLineBytes: 50, maxRejectSampleBytes: 4 },
    want: [
      { lines: ['ok\n'], offset: 0, firstLine: 1 },
      { oversized: { offset: 3, line: 2, length: 100, head: 'xxxx' } },
      { lines: ['ok2'], offset: 104, firstLine: 3 },
    ],
  },
];

for (const c of cases) {
  test(`hostile: ${c.name}`, async () => {
    assert.deepEqual(summarize(await read(c.file, c.content, c.opts)), c.want);
  });
}

test('hostile: a 1 MiB line (under the limit) arrives whole in a block', async () => {
  const line = '{"x":"' + 'é'.repeat(MiB / 2) + '"}';
  const items = await read('mib.json', Buffer.from(`{"a":1}\n${line}\n{"b":2}\n`), { blockBytes: 64 * 1024 });
  const lines = items.flatMap((it) => (it.type === 'lines' ? it.data.toString('utf8').split(/(?<=\n)/) : [`<${it.type}>`]));
  assert.deepEqual(lines, ['{"a":1}\n', line + '\n', '{"b":2}\n']);
  assert.ok(Buffer.byteLength(line) > MiB);
});

test('hostile: a line far over the limit is skipped with bounded memory', () => {
  // 256 MiB pushed in 1 MiB chunks through the blocker: it never holds more than the limit + a chunk.
  const blocker = new LineBlocker({ maxLineBytes: 4 * MiB, blockBytes: MiB, maxRejectSampleBytes: 100 }, 0, 1);
  const chunk = Buffer.alloc(MiB, 0x61);
  let peak = 0;
  const items: ReadItem[] = [...blocker.push(Buffer.from('before\n'))];
  for (let i = 0; i < 256; i++) {
    items.push(...blocker.push(chunk));
    peak = Math.max(peak, blocker.retainedBytes);
  }
  items.push(...blocker.push(Buffer.from('\nafter\n')), ...blocker.finish());
  assert.ok(peak <= 5 * MiB + 7, `peak retained ${peak}`);
  assert.deepEqual(summarize(items), [
    { lines: ['before\n'], offset: 0, firstLine: 1 },
    { oversized: { offset: 7, line: 2, length: 256 * MiB, head: 'a'.repeat(100) } },
    { lines: ['after\n'], offset: 7 + 256 * MiB + 1, firstLine: 3 },
  ]);
});

test('hostile: truncated gzip, cut at 200 points, yields every complete line then one truncated-gzip, losing no byte', async () => {
  const text = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, song: `s${'é'.repeat(i % 13)}`, pad: 'p'.repeat(i % 97) })).join('\n');
  const gz = gzipSync(text);
  const rand = seeded(20260201);
  const cuts = [1, 2, 9, 10, 11, 30, Math.floor(gz.length / 3), Math.floor(gz.length / 2), gz.length - 9, gz.length - 8, gz.length - 4, gz.length - 1];
  while (cuts.length < 200) cuts.push(1 + Math.floor(rand() * (gz.length - 1)));
  for (const cut of cuts) {
    const cutBytes = gz.subarray(0, cut);
    // What an independent decoder recovers from the same bytes (sync flush: no error, all it can).
    let decodable: Buffer;
    try {
      decodable = gunzipSync(cutBytes, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      decodable = Buffer.alloc(0); // cut inside the header
    }
    const lastNl = decodable.lastIndexOf(0x0a);
    const complete = modelLines(decodable.subarray(0, lastNl + 1));
    const items = await read(`cut-${cut}.json.gz`, cutBytes, { blockBytes: 4096 });
    const last = items[items.length - 1]!;
    const got = items.slice(0, -1).flatMap((it) => (it.type === 'lines' ? modelLines(it.data).map((l) => ({ ...l, offset: l.offset + it.offset, line: l.line - 1 + it.firstLine! })) : []));
    assert.equal(items.slice(0, -1).every((it) => it.type === 'lines'), true, `cut ${cut}`);
    assert.deepEqual(got.map((l) => [l.offset, l.line, l.bytes.toString()]), complete.map((l) => [l.offset, l.line, l.bytes.toString()]), `cut ${cut}`);
    assert.equal(last.type, 'truncated-gzip', `cut ${cut}`);
    if (last.type !== 'truncated-gzip') continue;
    assert.equal(last.offset, lastNl + 1, `cut ${cut}: tail offset`);
    assert.equal(last.line, complete.length + 1, `cut ${cut}: tail line`);
    assert.equal(last.tail.toString('latin1'), decodable.subarray(lastNl + 1).toString('latin1'), `cut ${cut}: tail`);
    assert.match(last.message, /truncated/);
    // Nothing lost: the lines and the tail cover every byte zlib can decode from the cut object.
    assert.equal(got.reduce((n, l) => n + l.bytes.length + 1, 0) + last.length, decodable.length, `cut ${cut}: bytes accounted for`);
  }
});

test('hostile: corrupt gzip data mid-stream is one corrupt-gzip item and nothing else', async () => {
  const text = Array.from({ length: 20000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n';
  const gz = Buffer.from(gzipSync(text));
  gz.fill(0xff, Math.floor(gz.length * 0.6), Math.floor(gz.length * 0.6) + 40);
  const items = await read('corrupt.json.gz', gz, { blockBytes: 4096 });
  assert.equal(items.length, 1, summarize(items).map((x) => JSON.stringify(x).slice(0, 80)).join('\n'));
  const only = items[0]!;
  assert.equal(only.type, 'corrupt-gzip');
  if (only.type !== 'corrupt-gzip') return;
  assert.equal(only.offset, 0);
  assert.equal(only.line, 1);
  // Its sample: the first decoded bytes, which are the object's text (the damage is far later).
  assert.equal(only.tail.toString(), text.slice(0, 64 * 1024));
  assert.ok(only.length >= only.tail.length && only.length < text.length, `decoded before the error: ${only.length}`);
  assert.match(only.message, /^corrupt gzip object .*corrupt\.json\.gz: (the deflate data is damaged|the CRC-32 of the decoded data does not match the trailer) \(zlib: [^)]+\) after \d+ of \d+ compressed bytes, \d+ bytes decoded before the error\. The whole object is quarantined .*re-upload the object/);
});

test('hostile: a gzip whose trailer does not match (CRC-32, ISIZE) is one corrupt-gzip item holding the decoded text', async () => {
  for (const text of ['{"a":1}\n{"a":2}\n', '{"a":1}\n{"a":2}']) {
    for (const [name, at, what] of [['crc', 8, /CRC-32 .*zlib: incorrect data check/], ['isize', 2, /ISIZE.*zlib: incorrect length check/]] as const) {
      const gz = Buffer.from(gzipSync(text));
      gz[gz.length - at]! ^= 0xff;
      const items = await read(`${name}.json.gz`, gz);
      assert.deepEqual(summarize(items), [{ broken: 'corrupt-gzip', offset: 0, line: 1, tail: text, length: text.length }], `${name} ${JSON.stringify(text)}`);
      assert.match((items[0] as { message: string }).message, what);
    }
  }
});

test('hostile: a damaged gzip header is one corrupt-gzip item showing the raw bytes', async () => {
  const text = '{"a":1}\n{"a":2}\n';
  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ['magic', (b) => (b[1] ^= 0xff), /not a gzip stream/],
    ['method', (b) => (b[2] = 7), /the gzip header is damaged \(zlib: unknown compression method\)/],
    ['flags', (b) => (b[3] = 0xe0), /the gzip header is damaged \(zlib: unknown header flags set\)/],
  ];
  for (const [name, damage, message] of cases) {
    const gz = Buffer.from(gzipSync(text));
    damage(gz);
    const items = await read(`${name}.json.gz`, gz);
    assert.deepEqual(summarize(items), [{ broken: 'corrupt-gzip', offset: 0, line: 1, tail: gz.toString('latin1'), length: gz.length }], name);
    assert.match((items[0] as { message: string }).message, message, name);
  }
});

test('hostile: byte-range splits of a real-shaped log file agree with the whole-file read', async () => {
  const text = Array.from({ length: 500 }, (_, i) => `{"ts":${1541000000000 + i},"page":"NextSong","song":"Ça ${i}"}`).join('\n');
  const data = Buffer.from(text);
  mkdirSync(join(dir, 'r'), { recursive: true });
  const whole = await read('r/whole.json', data);
  const third = Math.floor(data.length / 3);
  const parts = [...(await read('r/whole.json', data, {}, [0, third])), ...(await read('r/whole.json', data, {}, [third, 2 * third])), ...(await read('r/whole.json', data, {}, [2 * third, data.length]))];
  const join_ = (items: ReadItem[]) => Buffer.concat(items.map((it) => (it.type === 'lines' ? it.data : Buffer.alloc(0)))).toString();
  assert.equal(join_(parts), join_(whole));
  assert.equal(join_(whole), text);
});

test('real Udacity sample: 8,056 events in 30 log files and 71 song files, one line each', async () => {
  const count = async (root: string) => {
    const s = openStorage(root);
    let files = 0;
    let lines = 0;
    for await (const o of s.list()) {
      files++;
      const split: InputSplit = { kind: 'log', key: o.key, ordinal: 0, compressed: false, start: 0, end: o.size, size: o.size };
      for await (const it of readSplit(s, split, OPTS)) {
        assert.equal(it.type, 'lines');
        if (it.type === 'lines') lines += it.data.toString().split('\n').filter((l) => l.trim() !== '').length;
      }
    }
    return { files, lines };
  };
  assert.deepEqual(await count(udacityLogs), { files: 30, lines: 8056 });
  assert.deepEqual(await count(udacitySongs), { files: 71, lines: 71 });
});

test('a split reads little past its end: the last line plus a bounded lookahead', async () => {
  const line = '{"ts":1541000000000,"page":"NextSong"}\n';
  const data = Buffer.from(line.repeat(Math.ceil((4 * MiB) / line.length)));
  const mem = new ChunkyMemoryStorage(seeded(3), 64 * 1024);
  await mem.put('big.json', data);
  const split: InputSplit = { kind: 'log', key: 'big.json', ordinal: 0, compressed: false, start: MiB, end: 2 * MiB, size: data.length };
  let bytes = 0;
  for await (const it of readSplit(mem, split, { ...OPTS, blockBytes: 256 * 1024 })) if (it.type === 'lines') bytes += it.data.length;
  assert.ok(Math.abs(bytes - MiB) < line.length, `read ${bytes} bytes of lines for a 1 MiB split`);
  // The reader asked for [start-1, end + 256 KiB) and stopped once the last line was complete.
  assert.ok(mem.served <= MiB + 256 * 1024 + 1, `served ${mem.served}`);
  assert.equal(mem.streamsOpened, 1);
});
