// Records from the reader's items: lines, blank lines, CRLF, positions, the pretty-printed document
// rule, reader rejects (oversized lines, gzip errors), batching and conservation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventParser } from '../../../job-runner/src/schema/eventParser.js';
import { SongParser } from '../../../job-runner/src/schema/songParser.js';
import type { ParseInput, SourceInfo } from '../../../job-runner/src/schema/recordParser.js';
import type { RejectedRecord } from '../../../job-runner/src/schema/rejects.js';
import { allRows, batchRows } from './batchRows.js';
import { feedSources, lineBlocks } from './feed.js';
import { rng } from './lineGen.js';

const events = (opts: { batchRows?: number; maxLineBytes?: number; maxRejectSampleBytes?: number } = {}) => (onReject: (r: RejectedRecord) => void) =>
  new EventParser({ onReject, ...opts });
const songs = (opts: { batchRows?: number; maxLineBytes?: number } = {}) => (onReject: (r: RejectedRecord) => void) => new SongParser({ onReject, ...opts });
const src = (key: string, whole = true, ordinal = 0): SourceInfo => ({ ordinal, key, whole });
const lines = (text: string, firstLine: number | null = 1, offset = 0): ParseInput[] => [{ type: 'lines', data: Buffer.from(text), offset, firstLine }];

test('blank lines are not records but count as lines; CRLF loses one \\r; the last line needs no newline', () => {
  const text = '\n  \t\r\n{"ts":1,"page":"Home"}\r\n\r\r\n{"ts":2}\r\r\n{"ts":3}';
  const { batches, rejects, parser } = feedSources(events(), [{ src: src('a.json', false), items: lines(text) }]);
  const rows = allRows(batches);
  assert.deepEqual(rejects, []);
  assert.deepEqual(rows.map((r) => [r.ts, r.line, r.offset]), [[1, 3, 6], [2, 5, 33], [3, 6, 44]]);
  assert.deepEqual(parser.counts(), { read: 3, accepted: 3, rejected: 0, rejectedByReason: {} });
});

test('a split that does not start at 0 knows offsets, not line numbers', () => {
  const { batches } = feedSources(events(), [{ src: src('big.json', false, 4), items: lines('{"ts":1}\n{"ts":2}\n', null, 1000) }]);
  const rows = allRows(batches);
  assert.deepEqual(rows.map((r) => [r.src, r.offset, r.line]), [[4, 1000, null], [4, 1009, null]]);
  const line = batches[0].columns.find((c) => c.name === 'line')!.column;
  assert.ok(line.valid && line.valid.every((v) => v === 0), 'line column is null');
});

test('a reject carries source, line, offset and the raw text without its newline and one \\r', () => {
  const { rejects } = feedSources(events(), [{ src: src('logs/x.json', false, 2), items: lines('{"ts":1}\n{oops}\r\n') }]);
  assert.equal(rejects.length, 1);
  const r = rejects[0];
  assert.deepEqual({ reason: r.reason, source: r.source, ordinal: r.ordinal, line: r.line, offset: r.offset, raw: r.raw.toString(), rawBytes: r.rawBytes, truncated: r.truncated }, {
    reason: 'invalid-json', source: 'logs/x.json', ordinal: 2, line: 2, offset: 9, raw: '{oops}', rawBytes: 6, truncated: false,
  });
});

test('maxLineBytes counts the record without its \\n and one \\r', () => {
  const rec = '{"ts":1,"page":"Home"}'; // 22 bytes
  const cases: [string, number, string[]][] = [
    ['exactly max', 22, ['ok']],
    ['exactly max, CRLF', 22, ['ok']],
    ['one over', 21, ['line-too-long']],
  ];
  for (const [name, max, want] of cases) {
    const text = name.includes('CRLF') ? `${rec}\r\n` : `${rec}\n`;
    const { batches, rejects } = feedSources(events({ maxLineBytes: max }), [{ src: src('a', false), items: lines(text) }]);
    assert.deepEqual([...allRows(batches).map(() => 'ok'), ...rejects.map((r) => r.reason)], want, name);
  }
  // A second '\r' is part of the record (JSON whitespace), so it counts.
  const { rejects } = feedSources(events({ maxLineBytes: 22 }), [{ src: src('a', false), items: lines(`${rec}\r\r\n`) }]);
  assert.deepEqual(rejects.map((r) => [r.reason, r.rawBytes]), [['line-too-long', 23]]);
});

test('raw text is cut at maxRejectSampleBytes on a UTF-8 boundary', () => {
  const bad = `{"x":"${'é'.repeat(10)}`; // 6 + 20 bytes, invalid (unterminated)
  const { rejects } = feedSources(events({ maxRejectSampleBytes: 9 }), [{ src: src('k', false), items: lines(bad) }]);
  assert.equal(rejects[0].rawBytes, Buffer.byteLength(bad));
  assert.equal(rejects[0].truncated, true);
  assert.equal(rejects[0].raw.toString(), '{"x":"é', 'cut before the é that would straddle byte 9');
  assert.equal(rejects[0].raw.length, 8);
});

test('batches flush at batchRows; push returns completed batches; finish returns the rest', () => {
  const rejects: RejectedRecord[] = [];
  const parser = new EventParser({ onReject: (r) => rejects.push(r), batchRows: 4 });
  parser.beginSource(src('a', false));
  const text = Array.from({ length: 10 }, (_, i) => `{"ts":${i}}`).join('\n');
  const first = parser.push({ type: 'lines', data: Buffer.from(text), offset: 0, firstLine: 1 });
  assert.deepEqual(first.map((b) => b.length), [4, 4]);
  assert.deepEqual(parser.endSource(), []);
  const rest = parser.finish();
  assert.deepEqual(rest.map((b) => b.length), [2]);
  assert.deepEqual(parser.finish(), []);
  assert.deepEqual([...first, ...rest].flatMap((b) => batchRows(b).map((r) => r.ts)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Every batch is self-contained: its own dictionary, arrays exactly as long as the batch.
  for (const b of [...first, ...rest]) for (const { column } of b.columns) {
    if (column.kind === 'str') assert.equal(column.codes.length, b.length);
    else assert.equal(column.data.length, b.length);
  }
});

test('the event batch has the contract columns, in order, with their kinds', () => {
  const { batches } = feedSources(events(), [{ src: src('a', false), items: lines('{"ts":1}') }]);
  assert.deepEqual(
    batches[0].columns.map((c) => `${c.name}:${c.column.kind}`),
    ['ts:ts-ms', 'user_id:i64', 'first_name:str', 'last_name:str', 'gender:str', 'level:str', 'page:str', 'song:str', 'artist:str', 'length:f64', 'session_id:i64', 'item_in_session:i64', 'location:str', 'user_agent:str', 'src:i32', 'offset:i64', 'line:i32'],
  );
  const { batches: s } = feedSources(songs(), [{ src: src('a', false), items: lines('{"song_id":"S"}') }]);
  assert.deepEqual(
    s[0].columns.map((c) => `${c.name}:${c.column.kind}`),
    ['song_id:str', 'title:str', 'artist_id:str', 'artist_name:str', 'artist_location:str', 'duration:f64', 'artist_latitude:f64', 'artist_longitude:f64', 'year:i32', 'src:i32', 'offset:i64', 'line:i32'],
  );
});

test('reader rejects: an oversized line and gzip errors are quarantined and counted', () => {
  const head = Buffer.from('{"ts":1,"song":"' + 'x'.repeat(100));
  const items: ParseInput[] = [
    ...lines('{"ts":1}\n'),
    { type: 'oversized', offset: 9, line: 2, length: 20_000_000, head },
    ...lines('{"ts":2}\n', 3, 20_000_010),
    { type: 'truncated-gzip', offset: 20_000_019, line: 4, tail: Buffer.from('{"ts":3,"so'), length: 11, message: 'unexpected end of file' },
  ];
  const { batches, rejects, parser } = feedSources(events({ maxRejectSampleBytes: 50 }), [
    { src: src('logs/a.json.gz'), items },
    // Not gzip at all: tail is the object's first bytes, length the whole object.
    { src: src('logs/b.json.gz', true, 1), items: [{ type: 'corrupt-gzip', offset: 0, line: 1, tail: Buffer.from('plain text'), length: 5000, message: 'incorrect header check' }] },
  ]);
  assert.deepEqual(allRows(batches).map((r) => r.ts), [1, 2]);
  assert.deepEqual(rejects.map((r) => [r.reason, r.source, r.line, r.offset, r.rawBytes, r.truncated, r.raw.length]), [
    ['line-too-long', 'logs/a.json.gz', 2, 9, 20_000_000, true, 50],
    ['truncated-gzip', 'logs/a.json.gz', 4, 20_000_019, 11, false, 11],
    ['corrupt-gzip', 'logs/b.json.gz', 1, 0, 5000, true, 10],
  ]);
  assert.deepEqual(parser.counts(), { read: 5, accepted: 2, rejected: 3, rejectedByReason: { 'line-too-long': 1, 'truncated-gzip': 1, 'corrupt-gzip': 1 } });
});

test('a truncated gzip with an empty tail is still one record', () => {
  const { rejects, parser } = feedSources(events(), [{ src: src('a.gz'), items: [...lines('{"ts":1}\n'), { type: 'truncated-gzip', offset: 9, line: 2, tail: Buffer.alloc(0) }] }]);
  assert.deepEqual(rejects.map((r) => [r.reason, r.rawBytes]), [['truncated-gzip', 0]]);
  assert.equal(parser.counts().read, 2);
});

// ---- the pretty-printed single-document rule ----

const PRETTY = '{\n  "num_songs": 1,\n  "song_id": "SOGVQGJ12AB017F169",\n  "title": "Ten Tonne",\n  "duration": 337.68444,\n  "year": 2005\n}\n';

test('document rule: a pretty-printed song file is one record at its first non-blank line', () => {
  for (const lead of ['', '\n', ' \r\n\t\n']) {
    const text = lead + PRETTY;
    const { batches, rejects, parser } = feedSources(songs(), [{ src: src('song_data/A/TR1.json'), items: lineBlocks(Buffer.from(text), rng(text.length)) }]);
    assert.deepEqual(rejects, [], JSON.stringify(lead));
    const rows = allRows(batches);
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0].song_id, rows[0].title, rows[0].duration, rows[0].year], ['SOGVQGJ12AB017F169', 'Ten Tonne', 337.68444, 2005]);
    assert.equal(rows[0].offset, Buffer.byteLength(lead));
    assert.equal(rows[0].line, lead.split('\n').length);
    assert.deepEqual(parser.counts(), { read: 1, accepted: 1, rejected: 0, rejectedByReason: {} });
  }
});

test('document rule: a broken pretty-printed document is one invalid-json record holding the whole text', () => {
  const text = PRETTY.replace('"year": 2005', '"year": 2005,');
  const { rejects, parser } = feedSources(songs(), [{ src: src('s.json'), items: lines(text) }]);
  assert.deepEqual(rejects.map((r) => [r.reason, r.line, r.offset, r.raw.toString()]), [['invalid-json', 1, 0, text]]);
  assert.deepEqual(parser.counts().read, 1);
});

test('document rule applies to events too (one pretty-printed event file)', () => {
  const { batches } = feedSources(events(), [{ src: src('e.json'), items: lines('{\n "ts": 5,\n "page": "Home"\n}') }]);
  assert.deepEqual(allRows(batches).map((r) => [r.ts, r.page, r.line]), [[5, 'Home', 1]]);
});

test('document rule does not apply: split source, first line valid, first char not {, file over maxLineBytes', () => {
  const cases: { name: string; source: SourceInfo; text: string; max?: number; want?: string[] }[] = [
    { name: 'a byte-range split', source: src('s', false), text: PRETTY },
    { name: 'the first line is valid on its own', source: src('s'), text: '{"song_id":"A"}\n{\n"song_id":"B"}\n', want: ['accept', 'invalid-json', 'invalid-json'] },
    { name: 'the first non-blank character is not {', source: src('s'), text: '[\n{"song_id":"A"}\n]\n', want: ['invalid-json', 'accept', 'invalid-json'] },
    { name: 'the file is larger than maxLineBytes', source: src('s'), text: '{\n"song_id": "A"\n}\n', max: 16, want: ['invalid-json', 'invalid-json', 'invalid-json'] },
  ];
  for (const c of cases) {
    const { batches, rejects, parser } = feedSources(songs({ maxLineBytes: c.max }), [{ src: c.source, items: lines(c.text) }]);
    const outcome = new Map<number, string>();
    for (const r of rejects) outcome.set(r.line!, r.reason);
    for (const row of allRows(batches)) outcome.set(row.line as number, 'accept');
    const got = [...outcome.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    if (c.name === 'a byte-range split') {
      // Each line of the pretty document is a record of its own; none of them is a whole object.
      assert.equal(rejects.length, PRETTY.trim().split('\n').length, c.name);
      assert.equal(parser.counts().accepted, 0, c.name);
    } else assert.deepEqual(got, c.want, c.name);
    assert.equal(parser.counts().read, parser.counts().accepted + parser.counts().rejected);
  }
});

test('document rule: a source that grows past maxLineBytes while buffered is read as lines after all', () => {
  const first = '{\n';
  const rest = Array.from({ length: 20 }, (_, i) => `{"song_id":"S${i}"}\n`).join('');
  const items: ParseInput[] = [
    { type: 'lines', data: Buffer.from(first), offset: 0, firstLine: 1 },
    { type: 'lines', data: Buffer.from(rest), offset: first.length, firstLine: 2 },
  ];
  const { batches, rejects } = feedSources(songs({ maxLineBytes: 100 }), [{ src: src('s'), items }]);
  assert.deepEqual(rejects.map((r) => [r.reason, r.line, r.offset]), [['invalid-json', 1, 0]]);
  assert.deepEqual(allRows(batches).map((r) => r.line), Array.from({ length: 20 }, (_, i) => i + 2));
  assert.deepEqual(allRows(batches).map((r) => r.offset).slice(0, 2), [2, 2 + '{"song_id":"S0"}\n'.length]);
});

test('document rule: a gzip error while buffering replays the lines, then rejects the tail', () => {
  const items: ParseInput[] = [...lines('{\n"song_id": "A"\n'), { type: 'truncated-gzip', offset: 17, line: 3, tail: Buffer.from('}') }];
  const { rejects, parser } = feedSources(songs(), [{ src: src('s.json.gz'), items }]);
  assert.deepEqual(rejects.map((r) => [r.reason, r.line]), [['invalid-json', 1], ['invalid-json', 2], ['truncated-gzip', 3]]);
  assert.equal(parser.counts().read, 3);
});

test('misuse is a clear error, not silent data loss', () => {
  const p = new EventParser({ onReject: () => undefined });
  assert.throws(() => p.push({ type: 'lines', data: Buffer.from('{}'), offset: 0, firstLine: 1 }), /without an open source: call beginSource first/);
  p.beginSource(src('a'));
  assert.throws(() => p.beginSource(src('b')), /while a is open: call endSource first/);
  assert.throws(() => new EventParser({ onReject: () => undefined, batchRows: 0 }), /batchRows must be a positive integer/);
});
