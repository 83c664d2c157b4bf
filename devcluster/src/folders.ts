// Making a folder and its missing parents, one mkdir(2) at a time, with a bound on the work.
//
// Node 20's mkdir(p, { recursive: true }) (sync and async) loops forever, at 100 % CPU and deaf to
// signals, when a parent exists but mkdir of the child answers ENOENT: /proc and other virtual file
// systems do that, so `devcluster up --kubeconfig /proc/x/kc` hung instead of failing. Here each
// mkdir is non-recursive, the walk up stops at the first folder that exists, and an ENOENT under a
// parent that exists is an error — unless the parent vanished meanwhile (a concurrent delete
// pruning a pod's folder), which is retried a bounded number of times.
//
// One walk, two drivers: the walk is a generator that yields file-system questions; makeFolders
// answers them synchronously, makeFoldersAsync on libuv's thread pool (the kubelet shares its event
// loop with the API server). The dev cluster may not import the engine's twin of this
// (job-runner/src/storage/folders.ts): see docs/architecture.md.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Whole walks tried when a concurrent delete removes a parent just made. */
const MAX_WALKS = 5;

/** A folder that could not be made; `code` is the errno code. */
export class FolderError extends Error {
  constructor(
    readonly folder: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`cannot create folder ${folder}: ${reason}`);
    this.name = 'FolderError';
  }
}

/** A question the walk asks: make this one folder (answer: errno code or undefined), or is this a folder? */
type Step = { op: 'mkdir'; path: string } | { op: 'isFolder'; path: string };
type Answer = string | undefined | boolean;
type Walk = Generator<Step, 'done' | 'again', Answer>;

/**
 * Makes `folder` and its missing parents; the folders it creates get `mode` exactly (chmod after
 * mkdir, so the umask cannot narrow it), existing ones are left as they are. Throws FolderError.
 */
export function makeFolders(folder: string, mode?: number): void {
  const target = resolve(folder);
  if (isFolderSync(target)) return; // the common case, without an exception
  for (let n = 1; ; n++) {
    const walk = walkFolders(target, n < MAX_WALKS);
    let answer: Answer;
    for (let step = walk.next(); ; step = walk.next(answer)) {
      if (step.done) {
        if (step.value === 'done') return;
        break;
      }
      answer = step.value.op === 'mkdir' ? mkdirSyncCode(step.value.path, mode) : isFolderSync(step.value.path);
    }
  }
}

/** makeFolders on the thread pool. */
export async function makeFoldersAsync(folder: string, mode?: number): Promise<void> {
  const target = resolve(folder);
  if (await isFolderAsync(target)) return;
  for (let n = 1; ; n++) {
    const walk = walkFolders(target, n < MAX_WALKS);
    let answer: Answer;
    for (let step = walk.next(); ; step = walk.next(answer)) {
      if (step.done) {
        if (step.value === 'done') return;
        break;
      }
      answer = step.value.op === 'mkdir' ? await mkdirAsyncCode(step.value.path, mode) : await isFolderAsync(step.value.path);
    }
  }
}

/** 'done', or 'again' when a parent vanished under us and `retry` allows another walk. */
function* walkFolders(folder: string, retry: boolean): Walk {
  // Up: from the folder towards the root, until a mkdir succeeds or finds a folder there.
  const missing: string[] = [];
  for (let p = folder; ; ) {
    const code = (yield { op: 'mkdir', path: p }) as string | undefined;
    if (code === undefined) break;
    if (code === 'EEXIST') {
      yield* mustBeFolder(folder, p);
      break;
    }
    if (code !== 'ENOENT') throw failure(folder, p, code);
    const parent = dirname(p);
    if (parent === p) throw new FolderError(folder, code, `the file system root ${p} does not exist`);
    missing.push(p);
    p = parent;
  }
  // Down: each missing folder under a parent that now exists.
  for (let i = missing.length - 1; i >= 0; i--) {
    const p = missing[i]!;
    const code = (yield { op: 'mkdir', path: p }) as string | undefined;
    if (code === undefined) continue;
    if (code === 'EEXIST') {
      yield* mustBeFolder(folder, p); // made by a concurrent caller: fine if it is a folder
      continue;
    }
    if (code !== 'ENOENT') throw failure(folder, p, code);
    const parent = dirname(p);
    if (!(yield { op: 'isFolder', path: parent })) {
      if (retry) return 'again'; // removed by a concurrent delete: walk again
      throw new FolderError(folder, code, `${parent} kept disappearing while its subfolders were made (${MAX_WALKS} attempts)`);
    }
    throw new FolderError(folder, code, `${parent} exists but refuses new folders (mkdir ${p} says ENOENT): a virtual file system such as /proc or /sys cannot hold files; choose a path on a real disk`);
  }
  return 'done';
}

/** Something exists at `p`, where `folder` needs a folder: go on only if it is one. */
function* mustBeFolder(folder: string, p: string): Generator<Step, void, Answer> {
  if (!(yield { op: 'isFolder', path: p })) throw new FolderError(folder, 'ENOTDIR', `${p} is a file, not a folder`);
}

function mkdirSyncCode(p: string, mode: number | undefined): string | undefined {
  try {
    mkdirSync(p, mode);
    if (mode !== undefined) chmodSync(p, mode);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  }
}

async function mkdirAsyncCode(p: string, mode: number | undefined): Promise<string | undefined> {
  try {
    await mkdir(p, mode);
    if (mode !== undefined) await chmod(p, mode);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  }
}

function isFolderSync(p: string): boolean {
  try {
    // throwIfNoEntry spares the exception of a missing path (ENOENT); ENOTDIR still throws.
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

async function isFolderAsync(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function failure(folder: string, at: string, code: string): FolderError {
  const reason: Record<string, string> = {
    EACCES: `permission denied to create ${at} (check the owner and mode of ${dirname(at)})`,
    EPERM: `operation not permitted to create ${at} (check the owner and mode of ${dirname(at)})`,
    ENOTDIR: `a parent of ${at} is a file, not a folder`,
    EROFS: `${at} is on a read-only file system`,
    ENOSPC: `no space left on the device of ${at}`,
    ENAMETOOLONG: `the name ${at} is too long for the file system`,
    ELOOP: `too many symbolic links resolving ${at}`,
  };
  return new FolderError(folder, code, reason[code] ?? `mkdir ${at} failed with ${code}`);
}
