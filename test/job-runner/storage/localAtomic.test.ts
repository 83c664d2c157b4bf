// A writer killed mid-write never leaves a half object under the real key: the old version stays
// (or the key stays absent), and the temp file is invisible to listings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalStorage } from '../../../job-runner/src/storage/localStorage.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

const writer = `
import { LocalStorage } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/job-runner/src/storage/localStorage.js')).href)};
const s = new LocalStorage(process.argv[1]);
async function* endless() { for (;;) { yield Buffer.alloc(256 * 1024, 0x78); await new Promise((r) => setTimeout(r, 5)); } }
await s.putStream(process.argv[2], endless());
`;

test('local: SIGKILL during putStream leaves the previous object intact and no visible temp file', async () => {
  const root = tempDir('slake-atomic-') + '/';
  const s = new LocalStorage(root);
  await s.put('t/old.json', 'old version\n');
  for (const key of ['t/old.json', 't/new.json']) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', writer, root, key], { stdio: 'inherit' });
    // Wait until the writer has put a few MiB into its temp file, then kill it without warning.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const temps = readdirSync(join(root, 't')).filter((n) => n.startsWith('.slake-tmp-'));
      if (temps.some((n) => statSync(join(root, 't', n)).size > 2 * 1024 * 1024)) break;
      assert.ok(Date.now() < deadline, 'the writer never started writing');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  assert.equal((await s.get('t/old.json')).toString(), 'old version\n');
  assert.equal(await s.head('t/new.json'), null);
  const listed: string[] = [];
  for await (const o of s.list()) listed.push(o.key);
  assert.deepEqual(listed, ['t/old.json']);
});
