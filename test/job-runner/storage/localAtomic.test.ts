// A writer killed mid-write never leaves a half object under the real key: the old version stays
// (or the key stays absent), and the temp file is invisible to listings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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

// A write whose folder is pruned by a concurrent delete used to be retried from the start, reading
// a streamed body a second time: the object stored was what was left of the stream (empty). Now
// the temp file is created before the body is read, so the folder cannot be pruned under it.
test('local: putStream reads its body only once its temp file exists, and stores it whole', async () => {
  const root = tempDir('slake-once-') + '/';
  const s = new LocalStorage(root);
  const chunks = [Buffer.from('first chunk|'), Buffer.from('second chunk|'), Buffer.from('third chunk')];
  let pulls = 0;
  let tempSeenAtFirstPull: boolean | null = null;
  async function* body() {
    for (const c of chunks) {
      if (pulls++ === 0) {
        // What a concurrent delete of the folder's last object does: prune the folder if it is empty.
        const names = readdirSync(join(root, 'f'));
        tempSeenAtFirstPull = names.some((n) => n.startsWith('.slake-tmp-'));
        try {
          rmdirSync(join(root, 'f'));
        } catch {
          // ENOTEMPTY: the temp file protects the folder
        }
      }
      yield c;
    }
  }
  await s.putStream('f/obj', body());
  assert.equal((await s.get('f/obj')).toString(), 'first chunk|second chunk|third chunk');
  assert.equal(pulls, chunks.length, 'every chunk read exactly once');
  assert.equal(tempSeenAtFirstPull, true, 'the temp file exists before the first chunk is read');
});

test('local: streamed writes racing deletes that prune their folder all land whole', async () => {
  const root = tempDir('slake-race-') + '/';
  const s = new LocalStorage(root);
  const payload = (i: number) => Array.from({ length: 8 }, (_, k) => Buffer.from(`${i}:${k};`));
  async function* body(i: number) {
    for (const c of payload(i)) {
      await new Promise((r) => setImmediate(r));
      yield c;
    }
  }
  for (let i = 0; i < 60; i++) {
    await s.put(`r${i}/sibling`, 'x');
    // The delete empties the folder and prunes it while the put is between mkdir and open, or not.
    await Promise.all([s.putStream(`r${i}/obj`, body(i)), s.delete([`r${i}/sibling`])]);
    assert.equal((await s.get(`r${i}/obj`)).toString(), Buffer.concat(payload(i)).toString(), `write ${i}`);
  }
});

test('local: removeStaleWrites removes dead writers\' temp files older than the cut, keeps the rest', async () => {
  const root = tempDir('slake-sweep-') + '/';
  const s = new LocalStorage(root);
  await s.put('t/a/kept.json', 'object');
  const old = new Date(Date.UTC(2026, 0, 1));
  const recent = new Date(Date.UTC(2026, 0, 1, 2));
  const temp = (rel: string, mtime: Date) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), 'half a write');
    utimesSync(join(root, rel), mtime, mtime);
  };
  temp('t/a/.slake-tmp-000001', old);
  temp('t/b/c/.slake-tmp-000002', old); // alone in its folders: they go too
  temp('t/a/.slake-tmp-000003', recent); // a live writer's
  temp('u/.slake-tmp-000004', old); // outside the prefix
  const listed = async () => {
    const out: string[] = [];
    for await (const o of s.list()) out.push(o.key);
    return out;
  };
  assert.deepEqual(await listed(), ['t/a/kept.json'], 'temp files are never listed');
  assert.equal(await s.removeStaleWrites('t/', new Date(Date.UTC(2026, 0, 1, 1))), 2);
  assert.deepEqual(readdirSync(join(root, 't', 'a')).sort(), ['.slake-tmp-000003', 'kept.json']);
  assert.ok(!existsSync(join(root, 't', 'b')), 'folders left empty are pruned');
  assert.ok(existsSync(join(root, 'u', '.slake-tmp-000004')));
  assert.deepEqual(await listed(), ['t/a/kept.json']);
  assert.equal(await s.removeStaleWrites('missing/', new Date()), 0);
});
