// Table-driven tests of the completion-index arithmetic, with the cases of Kubernetes'
// indexed_job_utils_test.go in mind (compressed form, merging, pending indexes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstPendingIndexes, formatIndexes, hasIndex, mergeIntervals, parseIndexes, totalIndexes, withIndexes } from '../../../devcluster/src/controllers/jobIndexes.js';

test('parseIndexes / formatIndexes', () => {
  const cases: { name: string; text: string; completions: number; want: string; total: number }[] = [
    { name: 'empty', text: '', completions: 5, want: '', total: 0 },
    { name: 'single', text: '3', completions: 5, want: '3', total: 1 },
    { name: 'pair stays a pair', text: '1,2', completions: 5, want: '1,2', total: 2 },
    { name: 'triple becomes a range', text: '1,2,3', completions: 5, want: '1-3', total: 3 },
    { name: 'adjacent ranges merge', text: '0-2,3-5', completions: 10, want: '0-5', total: 6 },
    { name: 'mixed', text: '1,3-5,7', completions: 10, want: '1,3-5,7', total: 5 },
    { name: 'out of range dropped', text: '1,3-8,9', completions: 6, want: '1,3-5', total: 4 },
    { name: 'first beyond completions stops', text: '1,7,2', completions: 5, want: '1', total: 1 },
    { name: 'corrupt pieces skipped', text: 'a,1,x-3,4', completions: 10, want: '1,4', total: 2 },
  ];
  for (const c of cases) {
    const got = parseIndexes(c.text, c.completions);
    assert.equal(formatIndexes(got), c.want, c.name);
    assert.equal(totalIndexes(got), c.total, c.name);
  }
});

test('merge, membership and pending indexes', () => {
  const a = parseIndexes('0,2-4,9', 20);
  assert.equal(formatIndexes(withIndexes(a, [1, 5, 12])), '0-5,9,12');
  assert.equal(formatIndexes(mergeIntervals(a, parseIndexes('5-8', 20))), '0,2-9');
  const membership: [number, boolean][] = [[0, true], [1, false], [3, true], [4, true], [5, false], [9, true], [10, false]];
  for (const [ix, want] of membership) assert.equal(hasIndex(a, ix), want, `has ${ix}`);

  const pending: { name: string; covered: string; count: number; completions: number; want: number[] }[] = [
    { name: 'nothing covered', covered: '', count: 3, completions: 5, want: [0, 1, 2] },
    { name: 'gaps first', covered: '0,2-4', count: 3, completions: 8, want: [1, 5, 6] },
    { name: 'bounded by completions', covered: '0-3', count: 5, completions: 5, want: [4] },
    { name: 'all covered', covered: '0-4', count: 2, completions: 5, want: [] },
    { name: 'zero count', covered: '', count: 0, completions: 5, want: [] },
  ];
  for (const c of pending) assert.deepEqual(firstPendingIndexes(parseIndexes(c.covered, c.completions), c.count, c.completions), c.want, c.name);
});
