// The README's resource reference is the CRD's schema, field for field: the same paths (no field
// missing, none invented), each default written as the CRD applies it, each enum's values named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { crdFields } from './crdFields.js';

interface Row {
  path: string;
  type: string;
  defaultCell: string;
  meaning: string;
}

function referenceRows(): Row[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Resource reference');
  assert.ok(start >= 0, 'README has a "Resource reference" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `((?:spec|status)[^`]*)` \|([^|]*)\|([^|]*)\|(.*)\|$/gm)].map((m) => ({
    path: m[1]!,
    type: m[2]!.trim(),
    defaultCell: m[3]!.trim(),
    meaning: m[4]!.trim(),
  }));
}

test('the README lists exactly the fields of the CRD schema', () => {
  const rows = referenceRows();
  const documented = rows.map((r) => r.path);
  const schema = crdFields().map((f) => f.path);
  assert.deepEqual(documented.filter((p) => !schema.includes(p)), [], 'documented but not in the CRD');
  assert.deepEqual(schema.filter((p) => !documented.includes(p)), [], 'in the CRD but not documented');
  assert.equal(new Set(documented).size, documented.length, 'each field once');
});

test('defaults and enum values in the README are the CRD\'s', () => {
  const rows = new Map(referenceRows().map((r) => [r.path, r]));
  for (const f of crdFields()) {
    const row = rows.get(f.path)!;
    if (f.node.default !== undefined) {
      const want = typeof f.node.default === 'object' ? JSON.stringify(f.node.default) : String(f.node.default);
      assert.ok(row.defaultCell.includes(`\`${want}\``), `${f.path}: default \`${want}\` in the README, got "${row.defaultCell}"`);
    }
    const values = (f.node as { enum?: unknown[] }).enum;
    for (const v of values ?? []) assert.ok(row.meaning.includes(`\`${String(v)}\``), `${f.path}: enum value ${String(v)} named in the README`);
    if (f.required && f.path.split('.').length > 1 && !f.path.startsWith('status')) assert.match(row.meaning, /\(required\)/, `${f.path} is required`);
  }
});
