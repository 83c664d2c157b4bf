// Reject plumbing: samples, the quarantine line, conservation, merging counts and drift.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyDrift, mergeDrift } from '../../../job-runner/src/schema/drift.js';
import { RecordCounter, mergeCounts, rawSample, rejectJsonLine } from '../../../job-runner/src/schema/rejects.js';

test('rawSample keeps short records whole and cuts long ones on a character boundary', () => {
  const text = Buffer.from('ab€🎵cd'); // 2 + 3 + 4 + 2 bytes
  const cases: [number, string, boolean][] = [
    [100, 'ab€🎵cd', false],
    [11, 'ab€🎵cd', false],
    [10, 'ab€🎵c', true],
    [8, 'ab€', true],
    [5, 'ab€', true],
    [4, 'ab', true],
    [0, '', true],
  ];
  for (const [max, want, truncated] of cases) {
    const s = rawSample(text, 0, text.length, max);
    assert.deepEqual([s.raw.toString(), s.truncated], [want, truncated], `max ${max}`);
    assert.ok(s.raw.length <= max || !s.truncated);
  }
  const copy = rawSample(text, 0, 2, 10).raw;
  text[0] = 0x7a;
  assert.equal(copy.toString(), 'ab', 'the sample is a copy');
});

test('rejectJsonLine writes the documented quarantine record', () => {
  const line = rejectJsonLine({ reason: 'invalid-json', source: 'logs/a.json', ordinal: 3, line: 7, offset: 120, raw: Buffer.from('{"x":"é'), rawBytes: 900, truncated: true });
  assert.ok(line.endsWith('\n'));
  assert.deepEqual(Object.keys(JSON.parse(line)), ['source', 'line', 'offset', 'reason', 'raw', 'rawBytes', 'truncated']);
  assert.deepEqual(JSON.parse(line), { source: 'logs/a.json', line: 7, offset: 120, reason: 'invalid-json', raw: '{"x":"é', rawBytes: 900, truncated: true });
});

test('counts: read = accepted + rejected, by construction and after merging', () => {
  const a = new RecordCounter();
  a.accept();
  a.reject('missing-ts');
  a.reject('invalid-json');
  a.reject('missing-ts');
  const b = new RecordCounter();
  b.accept();
  b.reject('corrupt-gzip');
  assert.deepEqual(a.counts(), { read: 4, accepted: 1, rejected: 3, rejectedByReason: { 'invalid-json': 1, 'missing-ts': 2 } });
  const m = mergeCounts(a.counts(), b.counts());
  assert.deepEqual(m, { read: 6, accepted: 2, rejected: 4, rejectedByReason: { 'invalid-json': 1, 'missing-ts': 2, 'corrupt-gzip': 1 } });
  assert.equal(m.read, m.accepted + m.rejected);
});

test('mergeDrift adds counts key by key and serializes in a stable order', () => {
  const x = { unknownFields: { b: 1, a: 2 }, coercions: { 'userId:string->int64': 5 } };
  // A computed key: a plain '__proto__': in a literal would set the prototype instead.
  const y = { unknownFields: { a: 1, ['__proto__']: 4 }, coercions: { 'ts:string->int64': 1, 'userId:string->int64': 1 } };
  const m = mergeDrift(mergeDrift(emptyDrift(), x), y);
  assert.equal(JSON.stringify(m), '{"unknownFields":{"__proto__":4,"a":3,"b":1},"coercions":{"ts:string->int64":1,"userId:string->int64":6}}');
});
