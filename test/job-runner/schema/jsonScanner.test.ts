// The scanner alone: numbers convert to exactly JSON.parse's double, and any JSON text (not only
// objects) is classified as JSON.parse would, in line and in document framing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INVALID, JsonScanner, NOT_OBJECT, NUMBER, OK } from '../../../job-runner/src/schema/jsonScanner.js';
import { KeyTable } from '../../../job-runner/src/schema/keyTable.js';
import { mutate, rng, value } from './lineGen.js';

test('numbers: 30,000 random literals convert to exactly the double JSON.parse gives', () => {
  const r = rng(2718);
  const sc = new JsonScanner(new KeyTable(['n']), 'line');
  const digits = (n: number, lead = false) => {
    let s = lead ? String(1 + Math.floor(r() * 9)) : '';
    while (s.length < n) s += String(Math.floor(r() * 10));
    return s;
  };
  for (let k = 0; k < 30000; k++) {
    // Integer parts of 1..25 digits (across the 8-digit chunks and 2^53), fractions, exponents.
    let lit = r() < 0.1 ? '0' : digits(1 + Math.floor(r() * 25), true);
    if (r() < 0.5) lit += '.' + (r() < 0.2 ? '0'.repeat(Math.floor(r() * 10)) : '') + digits(1 + Math.floor(r() * 20));
    if (r() < 0.3) lit += (r() < 0.5 ? 'e' : 'E') + ['', '+', '-'][Math.floor(r() * 3)] + String(Math.floor(r() * (r() < 0.8 ? 30 : 400)));
    if (r() < 0.5) lit = '-' + lit;
    const line = Buffer.from(`{"n":${lit}}`);
    assert.equal(sc.scan(line, 0, line.length), OK, lit);
    assert.equal(sc.typeOf(0), NUMBER);
    assert.ok(Object.is(sc.num[0], JSON.parse(lit)), `${lit}: got ${sc.num[0]}, JSON.parse gives ${JSON.parse(lit)}`);
  }
});

test('any JSON text is classified as JSON.parse classifies it, in both framings', () => {
  const r = rng(161803);
  const line = new JsonScanner(new KeyTable(['ts']), 'line');
  const doc = new JsonScanner(new KeyTable(['ts']), 'document');
  let seen = { ok: 0, notObject: 0, invalid: 0 };
  for (let k = 0; k < 20000; k++) {
    let text: Buffer = Buffer.from(value(r, 'string'));
    if (r() < 0.5) text = Buffer.from(`{"ts":${text},"x":${value(r, 'int')}}`);
    if (r() < 0.4) text = mutate(r, text);
    let want: number;
    try {
      const v = JSON.parse(new TextDecoder('utf-8', { ignoreBOM: true }).decode(text));
      want = v !== null && typeof v === 'object' && !Array.isArray(v) ? OK : NOT_OBJECT;
    } catch {
      want = INVALID;
    }
    seen = { ok: seen.ok + +(want === OK), notObject: seen.notObject + +(want === NOT_OBJECT), invalid: seen.invalid + +(want === INVALID) };
    const show = JSON.stringify(text.toString('latin1'));
    assert.equal(line.scan(text, 0, text.length), want, `line framing: ${show}`);
    if (want !== INVALID) assert.equal(line.pos, text.length);
    // In a document, newlines are whitespace: spread the text over lines between its tokens' spaces.
    const spread = Buffer.from(text.toString('latin1').replace(/^(\s*)/, '\n$1'), 'latin1');
    assert.equal(doc.scan(spread, 0, spread.length), want, `document framing: ${show}`);
  }
  assert.ok(seen.ok > 2000 && seen.notObject > 2000 && seen.invalid > 2000, JSON.stringify(seen));
});

test('line framing stops at the newline and never reads the next line', () => {
  const sc = new JsonScanner(new KeyTable(['ts']), 'line');
  const text = Buffer.from('{"ts":1} \n{"ts":2}');
  assert.equal(sc.scan(text, 0, text.length), OK);
  assert.equal(sc.pos, 9);
  assert.equal(sc.scan(text, 10, text.length), OK);
  assert.equal(sc.num[0], 2);
  const broken = Buffer.from('{"ts":"a\n"}');
  assert.equal(sc.scan(broken, 0, broken.length), INVALID, 'a raw newline cannot continue a string');
  const doc = new JsonScanner(new KeyTable(['ts']), 'document');
  const spread = Buffer.from('{\n"ts"\n:\n7\n}\n');
  assert.equal(doc.scan(spread, 0, spread.length), OK);
  assert.equal(doc.num[0], 7);
});
