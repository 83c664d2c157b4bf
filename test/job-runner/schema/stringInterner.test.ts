// Dictionary codes: one code per distinct decoded string, whatever raw form it arrived in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAD_UTF8, ESCAPED, NON_ASCII } from '../../../job-runner/src/schema/jsonString.js';
import { StringInterner } from '../../../job-runner/src/schema/stringInterner.js';
import { rng } from './lineGen.js';

/** Interns the JSON string literal `literal` (the bytes between its quotes) with the scanner's flags. */
function internLiteral(si: StringInterner, content: Buffer): number {
  let flags = 0;
  if (content.includes(0x5c)) flags |= ESCAPED;
  if (content.some((b) => b >= 0x80)) flags |= NON_ASCII;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    flags |= BAD_UTF8;
  }
  // Embed at an odd offset in a bigger buffer, as in a real block.
  const buf = Buffer.concat([Buffer.from('xx"'), content, Buffer.from('"yy')]);
  return si.intern(buf, 3, 3 + content.length, flags);
}

const cases: { name: string; forms: (string | Buffer)[]; value: string }[] = [
  { name: 'escaped slash and plain slash', forms: ['a\\/b', 'a/b', 'a\\u002fb'], value: 'a/b' },
  { name: 'escaped and raw non-ASCII', forms: ['\\u00e9t\\u00E9', 'été', '\\u00e9té'], value: 'été' },
  { name: 'quote and backslash have no plain form', forms: ['say \\"hi\\"', 'say \\u0022hi\\"'], value: 'say "hi"' },
  { name: 'ill-formed UTF-8 and a literal U+FFFD', forms: [Buffer.from([0x61, 0xff]), 'a\ufffd', 'a\\ufffd', Buffer.from([0x61, 0xc3])], value: 'a\ufffd' },
  { name: 'lone surrogates in either case', forms: ['\\ud800', '\\uD800'], value: '\ud800' },
  { name: 'a surrogate pair escaped and raw', forms: ['\\ud83c\\udfb5', '🎵'], value: '🎵' },
  { name: 'empty string', forms: [''], value: '' },
];

for (const c of cases) {
  test(`interner: ${c.name} get one code`, () => {
    const si = new StringInterner();
    const filler = internLiteral(si, Buffer.from('filler'));
    const codes = c.forms.map((f) => internLiteral(si, typeof f === 'string' ? Buffer.from(f) : f));
    assert.equal(new Set(codes).size, 1, `codes ${codes}`);
    assert.notEqual(codes[0], filler);
    const dict = si.takeDict();
    assert.equal(dict[codes[0]], c.value);
    assert.equal(dict.length, 2);
  });
}

test('interner: a coerced string and the same text as a JSON string share a code', () => {
  const si = new StringInterner();
  const a = si.internString('39');
  const b = internLiteral(si, Buffer.from('39'));
  const c = si.internString('true');
  const d = internLiteral(si, Buffer.from('tr\\u0075e'));
  assert.equal(a, b);
  assert.equal(c, d);
  assert.deepEqual(si.takeDict(), ['39', 'true']);
});

test('interner: 50,000 random values in random raw forms give a duplicate-free, dense, correct dictionary', () => {
  const r = rng(31337);
  const alphabet = ['a', 'b', 'é', '日', '/', ' ', '"', '\\', '\u0001', '🎵'];
  const si = new StringInterner();
  const expected: string[] = [];
  for (let batch = 0; batch < 3; batch++) {
    const seen = new Map<string, number>();
    for (let i = 0; i < 50000 / 3; i++) {
      let value = '';
      const n = Math.floor(r() * 6);
      for (let k = 0; k < n; k++) value += alphabet[Math.floor(r() * (r() < 0.8 ? 3 : alphabet.length))];
      if (r() < 0.3) value = `v${Math.floor(r() * 3000)}`;
      // A random JSON spelling: each character escaped or not (when allowed raw).
      let raw = '';
      for (const ch of value) {
        const mustEscape = ch === '"' || ch === '\\' || ch < ' ';
        // An astral character escapes as two \\u escapes, one per UTF-16 code unit.
        if (mustEscape || r() < 0.1) for (let k = 0; k < ch.length; k++) raw += `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`;
        else raw += ch;
      }
      const code = internLiteral(si, Buffer.from(raw));
      const before = seen.get(value);
      if (before === undefined) {
        assert.equal(code, seen.size, `new value ${JSON.stringify(value)} gets the next code`);
        seen.set(value, code);
      } else assert.equal(code, before, `value ${JSON.stringify(value)} via ${JSON.stringify(raw)}`);
    }
    const dict = si.takeDict();
    assert.equal(dict.length, seen.size);
    for (const [value, code] of seen) assert.equal(dict[code], value);
    expected.push(...dict);
  }
  assert.ok(expected.length > 3000);
});

test('interner: find never adds', () => {
  const si = new StringInterner();
  const a = internLiteral(si, Buffer.from('abc'));
  const buf = Buffer.from('"abc" "ab\\u0063" "zzz"');
  assert.equal(si.find(buf, 1, 4, 0), a);
  assert.equal(si.find(buf, 7, 15, ESCAPED), a);
  assert.equal(si.find(buf, 18, 21, 0), -1);
  assert.equal(si.size, 1);
});

test('interner: a handed-over dictionary is never changed by the next batch', () => {
  const si = new StringInterner();
  internLiteral(si, Buffer.from('one'));
  const first = si.takeDict();
  internLiteral(si, Buffer.from('two'));
  internLiteral(si, Buffer.from('one'));
  assert.deepEqual(first, ['one']);
  assert.deepEqual(si.takeDict(), ['two', 'one']);
});

test('interner: values that defeat the sampled hash switch the batch to full hashing and stay exact', () => {
  const si = new StringInterner();
  // 20,000 distinct values of one length whose first, middle and last words are all equal.
  const make = (i: number) => Buffer.from(`head${String(i).padStart(8, '0')}-MIDDLE-${String(i * 7).padStart(8, '0')}tail`);
  const codes = Array.from({ length: 20000 }, (_, i) => internLiteral(si, make(i)));
  assert.deepEqual(codes, [...codes.keys()], 'each value is new, in order');
  assert.equal((si as unknown as { fullHash: boolean }).fullHash, true, 'switched to hashing every byte');
  for (let i = 0; i < 20000; i += 997) assert.equal(internLiteral(si, make(i)), i, 'found again after the switch');
  const dict = si.takeDict();
  assert.equal(dict[12345], make(12345).toString());
  assert.equal((si as unknown as { fullHash: boolean }).fullHash, false, 'a new batch starts sampled again');
});
