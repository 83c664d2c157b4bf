// makeFolders: the dev cluster's bounded replacement for mkdir({ recursive: true }), which spins
// forever on Node 20 when a parent exists but refuses new folders (/proc). The CLI-level check of
// the same hang is in cli.test.ts.
import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FolderError, makeFolders, makeFoldersAsync } from '../../../devcluster/src/folders.js';
import { tempDir } from '../../helpers/paths.js';

const base = tempDir('slake-folders-');
after(() => rmSync(base, { recursive: true, force: true }));

const mode = (p: string) => statSync(p).mode & 0o7777;

test('makeFolders and makeFoldersAsync: what is made, with which mode, and what is refused', { timeout: 20_000 }, async () => {
  const cases: { name: string; folder: string; mode?: number; want: { modes: [string, number][] } | RegExp }[] = [
    { name: 'nested folders, each made with the mode', folder: 'a/b/c', mode: 0o711, want: { modes: [['a', 0o711], ['a/b', 0o711], ['a/b/c', 0o711]] } },
    { name: 'a mode the umask would narrow is exact', folder: 'wide', mode: 0o777, want: { modes: [['wide', 0o777]] } },
    { name: 'an existing folder is fine and keeps its mode', folder: 'a/b', mode: 0o700, want: { modes: [['a/b', 0o711]] } },
    { name: 'a file in the way', folder: 'file/x', want: /cannot create folder .*\/file\/x: a parent of .*\/file\/x is a file, not a folder/ },
    { name: 'the folder itself is a file', folder: 'file', want: /\/file is a file, not a folder/ },
    { name: 'under /proc: refused at once, with the reason', folder: '/proc/devcluster-x/y', want: /cannot create folder \/proc\/devcluster-x\/y: \/proc exists but refuses new folders \(mkdir \/proc\/devcluster-x says ENOENT\)/ },
  ];
  for (const [driver, make] of [['sync', async (f: string, m?: number) => makeFolders(f, m)], ['async', makeFoldersAsync]] as const) {
    for (const k of cases) {
      const root = join(base, driver);
      const folder = k.folder.startsWith('/') ? k.folder : join(root, k.folder);
      if (k.folder === 'file' || k.folder === 'file/x') writeFileSync(join(root, 'file'), 'x', { flag: 'w' });
      if (k.want instanceof RegExp) {
        await assert.rejects(make(folder, k.mode), (e: unknown) => e instanceof FolderError && (k.want as RegExp).test(e.message), `${driver}: ${k.name}`);
        continue;
      }
      await make(folder, k.mode);
      assert.deepEqual(k.want.modes.map(([p]) => [p, mode(join(root, p))]), k.want.modes, `${driver}: ${k.name}`);
    }
  }
});

test('makeFoldersAsync: many concurrent callers of one deep path all succeed', async () => {
  const deep = join(base, 'race', 'x', 'y', 'z');
  await Promise.all(Array.from({ length: 20 }, () => makeFoldersAsync(deep, 0o700)));
  assert.ok(statSync(deep).isDirectory());
});
