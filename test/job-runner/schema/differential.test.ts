// The byte-level parsers against the obvious implementation (reference.ts: decode, JSON.parse, read
// fields) on thousands of seeded hostile lines: every accept/reject decision and reason, every
// extracted value, line numbers, offsets, raw reject text, drift and counts must agree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventParser } from '../../../job-runner/src/schema/eventParser.js';
import { SongParser } from '../../../job-runner/src/schema/songParser.js';
import type { RecordParser } from '../../../job-runner/src/schema/recordParser.js';
import type { RejectedRecord } from '../../../job-runner/src/schema/rejects.js';
import { allRows, type Row } from './batchRows.js';
import { feedSources, lineBlocks } from './feed.js';
import { mutate, oddLine, record, rng, type FieldSpec, type Rng } from './lineGen.js';
import { referenceEvent, referenceSong, type RefResult } from './reference.js';

const EVENT_SPECS: FieldSpec[] = [
  { name: 'artist', kind: 'string' }, { name: 'auth', kind: 'string' }, { name: 'firstName', kind: 'string' },
  { name: 'gender', kind: 'string' }, { name: 'itemInSession', kind: 'int' }, { name: 'lastName', kind: 'string' },
  { name: 'length', kind: 'double' }, { name: 'level', kind: 'string' }, { name: 'location', kind: 'string' },
  { name: 'method', kind: 'string' }, { name: 'page', kind: 'string' }, { name: 'registration', kind: 'int' },
  { name: 'sessionId', kind: 'int' }, { name: 'song', kind: 'string' }, { name: 'status', kind: 'int' },
  { name: 'ts', kind: 'ts' }, { name: 'userAgent', kind: 'string' }, { name: 'userId', kind: 'int' },
];
const SONG_SPECS: FieldSpec[] = [
  { name: 'song_id', kind: 'string' }, { name: 'title', kind: 'string' }, { name: 'duration', kind: 'double' },
  { name: 'year', kind: 'int' }, { name: 'artist_id', kind: 'string' }, { name: 'artist_name', kind: 'string' },
  { name: 'artist_location', kind: 'string' }, { name: 'artist_latitude', kind: 'double' },
  { name: 'artist_longitude', kind: 'double' }, { name: 'num_songs', kind: 'int' },
];

const PAGES = ['"NextSong"', '"NextSong"', '"NextSong"', '"Home"', '"Next\\u0053ong"', '"nextsong"', '"NextSong "', '1', 'null'];

function hostileLines(r: Rng, n: number, specs: FieldSpec[], special: (name: string) => string | null): Buffer[] {
  const lines: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    let line: Buffer;
    if (x < 0.05) line = Buffer.from(oddLine(r));
    else {
      const rec = Buffer.from(record(r, specs, special));
      line = x < 0.35 ? mutate(r, rec) : rec;
    }
    if (r() < 0.03) line = Buffer.concat([line, Buffer.from('\r')]);
    lines.push(line);
  }
  return lines;
}

const show = (b: Buffer): string => `${JSON.stringify(b.toString('latin1'))} (hex ${b.toString('hex').slice(0, 400)})`;

/** Checks one source's parse against the reference, line by line, then drift and counts. */
function compare(lines: Buffer[], reference: (l: Buffer) => RefResult, rows: Row[], rejects: RejectedRecord[], parser: RecordParser, key: string): void {
  const rowByLine = new Map(rows.map((row) => [row.line as number, row]));
  const rejectByLine = new Map(rejects.map((x) => [x.line as number, x]));
  assert.equal(rowByLine.size, rows.length, 'line numbers of rows are unique');
  const coercions = new Map<string, number>();
  const unknown = new Map<string, number>();
  let offset = 0;
  let read = 0;
  const byReason = new Map<string, number>();
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    const want = reference(line);
    const row = rowByLine.get(lineNo);
    const rej = rejectByLine.get(lineNo);
    const where = `line ${lineNo}: ${show(line)}`;
    if (want.kind === 'blank') {
      assert.equal(row, undefined, `blank, no row: ${where}`);
      assert.equal(rej, undefined, `blank, no reject: ${where}`);
    } else if (want.kind === 'reject') {
      read++;
      byReason.set(want.reason, (byReason.get(want.reason) ?? 0) + 1);
      assert.equal(row, undefined, `want reject ${want.reason}, got a row: ${where}`);
      assert.ok(rej, `want reject ${want.reason}, got nothing: ${where}`);
      assert.equal(rej.reason, want.reason, `reason: ${where}`);
      assert.equal(rej.offset, offset, `reject offset: ${where}`);
      assert.equal(rej.source, key);
      const raw = line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
      assert.ok(rej.raw.equals(raw), `raw text is the record verbatim: ${where}`);
      assert.equal(rej.rawBytes, raw.length);
      assert.equal(rej.truncated, false);
    } else {
      read++;
      assert.equal(rej, undefined, `want accept, got reject ${rej?.reason}: ${where}`);
      assert.ok(row, `want accept, got nothing: ${where}`);
      const { src, offset: rowOffset, line: _l, ...values } = row;
      assert.deepStrictEqual(values, want.row, `values: ${where}`);
      assert.equal(rowOffset, offset, `row offset: ${where}`);
      assert.equal(src, 5);
      for (const d of want.drift) coercions.set(d, (coercions.get(d) ?? 0) + 1);
      for (const u of want.unknown) unknown.set(u, (unknown.get(u) ?? 0) + 1);
    }
    offset += line.length + 1;
  });
  const drift = parser.driftReport();
  assert.deepStrictEqual(sorted(drift.coercions), sorted(Object.fromEntries(coercions)), 'drift: coercions');
  assert.deepStrictEqual(sorted(drift.unknownFields), sorted(Object.fromEntries(unknown)), 'drift: unknown fields');
  const counts = parser.counts();
  assert.equal(counts.read, read);
  assert.equal(counts.accepted, rows.length);
  assert.equal(counts.rejected, rejects.length);
  assert.equal(counts.read, counts.accepted + counts.rejected, 'conservation');
  assert.deepStrictEqual(sorted(counts.rejectedByReason), sorted(Object.fromEntries(byReason)));
}

function sorted(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function run(
  lines: Buffer[],
  make: (onReject: (r: RejectedRecord) => void) => RecordParser,
  reference: (l: Buffer) => RefResult,
  r: Rng | null,
): void {
  const key = 'logs/2018/11/2018-11-30-events.json';
  const text = Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 ? [l, Buffer.from('\n')] : [l])));
  const { batches, rejects, parser } = feedSources(make, [{ src: { ordinal: 5, key, whole: false }, items: lineBlocks(text, r) }]);
  compare(lines, reference, allRows(batches), rejects, parser, key);
}

test('events: 20,000 hostile lines agree with JSON.parse (random blocks, small batches)', () => {
  const r = rng(20261129);
  const lines = hostileLines(r, 20000, EVENT_SPECS, (name) => (name === 'page' ? PAGES[Math.floor(r() * PAGES.length)] : null));
  run(lines, (onReject) => new EventParser({ onReject, batchRows: 997 }), referenceEvent, r);
});

test('events: the same lines in one block and one batch give the same results', () => {
  const r = rng(7);
  const lines = hostileLines(r, 3000, EVENT_SPECS, (name) => (name === 'page' ? PAGES[Math.floor(r() * PAGES.length)] : null));
  run(lines, (onReject) => new EventParser({ onReject }), referenceEvent, null);
});

test('songs: 8,000 hostile lines agree with JSON.parse', () => {
  const r = rng(1959);
  const lines = hostileLines(r, 8000, SONG_SPECS, (name) =>
    name === 'song_id' && r() < 0.2
      ? ['""', 'null', '0', 'true', '{}', '"SO\\u0041"', '-1.5e3'][Math.floor(r() * 7)]
      : // artist_ids around the 255-byte folder-name limit, plain, escaped, unsafe and non-ASCII
        name === 'artist_id' && r() < 0.1
        ? `"${['A', '/', '\\u002f', 'é', '\\u00e9', 'AR'][Math.floor(r() * 6)]!.repeat(40 + Math.floor(r() * 210))}"`
        : null,
  );
  run(lines, (onReject) => new SongParser({ onReject, batchRows: 501 }), referenceSong, r);
});

test('a line longer than maxLineBytes is rejected before anything else, by bytes excluding \\n and one \\r', () => {
  const r = rng(99);
  const lines = hostileLines(r, 2000, EVENT_SPECS, () => null);
  const max = 120;
  run(lines, (onReject) => new EventParser({ onReject, maxLineBytes: max, maxRejectSampleBytes: 1 << 20 }), (l) => referenceEvent(l, max), r);
});

test('pretty-printed song documents (one per file) agree with JSON.parse of the whole file', () => {
  const r = rng(4242);
  const docs: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    const compact = record(r, SONG_SPECS);
    // Spread it over lines: a newline after every '{' and ',' outside strings is still the same JSON.
    let text = '';
    let inString = false;
    for (let k = 0; k < compact.length; k++) {
      const c = compact[k];
      text += c;
      if (c === '"' && compact[k - 1] !== '\\') inString = !inString;
      if (!inString && (c === '{' || c === ',')) text += r() < 0.5 ? '\n  ' : '\r\n\t';
    }
    let doc: Buffer = Buffer.from(`${r() < 0.2 ? '\n \n' : ''}${text}${r() < 0.5 ? '\n' : ''}`);
    if (r() < 0.3) doc = mutate(r, doc);
    docs.push(doc);
  }
  const rejects: RejectedRecord[] = [];
  const parser = new SongParser({ onReject: (x) => rejects.push(x), batchRows: 64 });
  const batches = [];
  docs.forEach((doc, i) => {
    parser.beginSource({ ordinal: i, key: `song_data/${i}.json`, whole: true });
    for (const item of lineBlocks(doc, r)) batches.push(...parser.push(item));
    batches.push(...parser.endSource());
  });
  batches.push(...parser.finish());
  const rows = allRows(batches);
  const bySrc = new Map(rows.map((row) => [row.src as number, row]));
  const rejBySrc = new Map(rejects.map((x) => [x.ordinal, x]));
  docs.forEach((doc, i) => {
    // Expected: the document rule when the first non-blank line starts with '{' and is invalid alone.
    const lines = doc.toString('latin1').split('\n');
    const first = lines.findIndex((l) => !/^[ \t\r]*$/.test(l));
    if (first < 0) return;
    const firstLine = Buffer.from(lines[first], 'latin1');
    const firstAlone = referenceSong(firstLine);
    const startsWithBrace = /^[ \t\r]*\{/.test(lines[first]);
    const where = `source ${i}: ${show(doc)}`;
    if (!(startsWithBrace && firstAlone.kind === 'reject' && firstAlone.reason === 'invalid-json')) {
      // Plain JSON lines: checked by the line tests; here just make sure the first record is consistent.
      if (firstAlone.kind === 'accept') assert.ok(rows.some((row) => row.src === i && row.line === first + 1), where);
      return;
    }
    const start = lines.slice(0, first).reduce((a, l) => a + l.length + 1, 0);
    const whole = doc.subarray(start);
    const want = referenceSong(whole);
    if (want.kind === 'accept') {
      const row = bySrc.get(i);
      assert.ok(row, `want one row: ${where}`);
      const { src: _s, offset, line, ...values } = row;
      assert.deepStrictEqual(values, want.row, where);
      assert.equal(offset, start);
      assert.equal(line, first + 1);
    } else {
      const rej = rejBySrc.get(i);
      assert.ok(rej, `want a reject: ${where}`);
      assert.equal(rej.reason, want.kind === 'reject' ? want.reason : '', where);
      assert.ok(rej.raw.equals(whole), `raw is the whole document: ${where}`);
      assert.equal(rejects.filter((x) => x.ordinal === i).length + rows.filter((row) => row.src === i).length, 1, `one record per document: ${where}`);
    }
  });
  const counts = parser.counts();
  assert.equal(counts.read, counts.accepted + counts.rejected);
});
