#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
// Arguments filter test files by substring of their path: `npm test -- job-runner/plan`.
// Environment: TEST_CONCURRENCY (default 2: this project targets 2-core CI machines).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'dist', 'test');

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(p);
    else if (entry.name.endsWith('.test.js')) yield p;
  }
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = [...walk(testRoot)]
  .filter((f) => filters.length === 0 || filters.some((s) => relative(testRoot, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || '(all)'} under ${testRoot}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...flags, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
