// Known keys are found from their bytes; near misses are not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_FIELDS } from '../../../job-runner/src/schema/eventParser.js';
import { KeyTable } from '../../../job-runner/src/schema/keyTable.js';
import { SONG_FIELDS } from '../../../job-runner/src/schema/songParser.js';

const lookup = (t: KeyTable, key: string): number => {
  const buf = Buffer.from(`__${key}__`);
  return t.lookup(buf, 2, 2 + Buffer.byteLength(key));
};

for (const fields of [EVENT_FIELDS, SONG_FIELDS]) {
  test(`key table (${fields.length} keys): every key found, every near miss not`, () => {
    const t = new KeyTable(fields);
    fields.forEach((k, f) => {
      assert.equal(lookup(t, k), f, k);
      assert.equal(t.lookupName(k), f, k);
    });
    const misses = fields.flatMap((k) => [k.toUpperCase(), k.slice(1), k.slice(0, -1), `${k}x`, `x${k}`, k[0] + '_'.repeat(k.length - 2) + k[k.length - 1], `${k.slice(0, -1)}\u00e9`]);
    for (const m of misses) if (!fields.includes(m as never)) assert.equal(lookup(t, m), -1, m);
    assert.equal(lookup(t, ''), -1);
    assert.equal(t.lookupName('__proto__'), -1);
  });
}

test('key table: refuses duplicate and empty keys', () => {
  assert.throws(() => new KeyTable(['a', 'a']), /duplicate key "a"/);
  assert.throws(() => new KeyTable(['']), /empty key/);
});
