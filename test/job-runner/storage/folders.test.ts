// Making folders without mkdir({ recursive: true }), which spins forever at 100% CPU where a parent
// exists but refuses new folders (/proc). The /proc cases run in a child process with a deadline, so
// a regression fails the test instead of hanging the suite.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { FolderError, makeFolders } from '../../../job-runner/src/storage/folders.js';
import { LocalStorage } from '../../../job-runner/src/storage/localStorage.js';
import { StorageError } from '../../../job-runner/src/storage/storage.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

const root = tempDir('slake-folders-');
mkdirSync(join(root, 'exists'));
writeFileSync(join(root, 'file'), 'x');

test('makeFolders: what is made, what is refused and why', () => {
  const cases: { name: string; folder: string; want: RegExp | 'made'; blocker?: string }[] = [
    { name: 'an existing folder', folder: join(root, 'exists'), want: 'made' },
    { name: 'several missing levels', folder: join(root, 'a', 'b', 'c', 'd'), want: 'made' },
    { name: 'the root of the file system', folder: '/', want: 'made' },
    { name: 'a file where the folder should be', folder: join(root, 'file'), want: /^cannot create folder .*\/file: .*\/file is a file, not a folder$/, blocker: join(root, 'file') },
    { name: 'a folder under a file', folder: join(root, 'file', 'x', 'y'), want: /^cannot create folder .*\/file\/x\/y: .*\/file is a file, not a folder$/, blocker: join(root, 'file') },
  ];
  for (const c of cases) {
    if (c.want === 'made') {
      makeFolders(c.folder);
      assert.ok(statSync(c.folder).isDirectory(), c.name);
      continue;
    }
    assert.throws(() => makeFolders(c.folder), (err: unknown) => err instanceof FolderError && (c.want as RegExp).test(err.message) && err.blocker === c.blocker, c.name);
  }
});

/** Runs `script` (an ES module body with `LocalStorage` and `makeFolders` in scope) with a deadline. */
function inChild(script: string): { timedOut: boolean; stdout: string; stderr: string } {
  const url = (p: string) => JSON.stringify(pathToFileURL(join(repoRoot, 'dist', p)).href);
  const body = `import { LocalStorage } from ${url('job-runner/src/storage/localStorage.js')};\nimport { makeFolders } from ${url('job-runner/src/storage/folders.js')};\n${script}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  return { timedOut: r.signal === 'SIGKILL', stdout: r.stdout, stderr: r.stderr };
}

test('makeFolders under /proc fails at once with the reason instead of spinning', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  const r = inChild(`try { makeFolders('/proc/lake/x'); console.log('made'); } catch (e) { console.log(e.name + ': ' + e.message); }`);
  assert.equal(r.timedOut, false, 'mkdir under /proc must not loop');
  assert.equal(r.stdout.trim(), 'FolderError: cannot create folder /proc/lake/x: /proc exists but refuses new folders (mkdir /proc/lake says ENOENT; virtual file systems such as /proc or /sys cannot hold a lake)');
});

test('LocalStorage: a put and a streamed put under /proc fail with the folder named, quickly', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  const r = inChild(`
const s = new LocalStorage('/proc/lake/');
for (const [name, write] of [['put', () => s.put('_lake/runs/r1/run.json', '{}')], ['putStream', () => s.putStream('t/big', (async function* () { yield Buffer.alloc(2 << 20); })())]]) {
  try { await write(); console.log(name, 'wrote'); } catch (e) { console.log(name, e.kind, e.message); }
}`);
  assert.equal(r.timedOut, false, 'a write under /proc must not loop');
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'put io cannot create folder /proc/lake/_lake/runs/r1: /proc exists but refuses new folders (mkdir /proc/lake says ENOENT; virtual file systems such as /proc or /sys cannot hold a lake)',
    'putStream io cannot create folder /proc/lake/t: /proc exists but refuses new folders (mkdir /proc/lake says ENOENT; virtual file systems such as /proc or /sys cannot hold a lake)',
  ]);
});

test('LocalStorage: a root under a file names the file; an object in the way inside the root keeps its key message', async () => {
  const underFile = new LocalStorage(join(root, 'file', 'lake') + '/');
  await assert.rejects(underFile.put('t/x', 'x'), (err: unknown) => err instanceof StorageError && err.kind === 'invalid' && /^cannot create folder .*\/file\/lake\/t: .*\/file is a file, not a folder$/.test(err.message));
  const s = new LocalStorage(join(root, 'lake') + '/');
  await s.put('f', '1');
  for (const write of [() => s.put('f/g', '2'), () => s.putStream('f/h', Readable.from([Buffer.alloc(2 << 20)]))]) {
    await assert.rejects(write(), (err: unknown) => err instanceof StorageError && err.kind === 'invalid' && /a parent of it is an object, not a folder/.test(err.message));
  }
});
