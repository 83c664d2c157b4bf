// Making a folder and its missing parents, one mkdir(2) at a time, with a bound on the work.
//
// Node 20's mkdirSync(p, { recursive: true }) (and the promise version) loops forever, at 100% CPU
// and deaf to signals, when a parent exists but mkdir of the child answers ENOENT: that is what
// /proc and other virtual file systems do (`--out /proc/lake` hung the CLI). Here every mkdir is
// non-recursive, the walk up stops at the first folder that exists (at worst the file system root),
// and an ENOENT under a parent that exists is an error, not a reason to try again — unless the
// parent vanished meanwhile (a concurrent delete pruning empty folders), which is retried a few
// times only.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Whole walks tried when a concurrent delete removes a parent just made. */
const MAX_WALKS = 5;

/** A folder that could not be made; `code` is the errno code, `blocker` the file in the way (ENOTDIR). */
export class FolderError extends Error {
  constructor(
    readonly folder: string,
    readonly code: string | undefined,
    reason: string,
    readonly blocker?: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot create folder ${folder}: ${reason}`, options);
    this.name = 'FolderError';
  }
}

/** Makes `folder` (absolute) and its missing parents. Existing folders are fine; anything else throws FolderError. */
export function makeFolders(folder: string): void {
  for (let walk = 1; ; walk++) {
    if (tryMakeFolders(folder, walk < MAX_WALKS)) return;
  }
}

/** True when done; false when a parent vanished under us and `retry` allows another walk. */
function tryMakeFolders(folder: string, retry: boolean): boolean {
  // Up: from the folder towards the root, until a mkdir succeeds or finds the folder there.
  const missing: string[] = [];
  for (let p = folder; ; ) {
    const code = mkdirCode(p);
    if (code === undefined) break;
    if (code === 'EEXIST') {
      checkIsFolder(p, folder);
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
    const code = mkdirCode(p);
    if (code === undefined) continue;
    if (code === 'EEXIST') {
      checkIsFolder(p, folder); // made by a concurrent writer: fine if it is a folder
      continue;
    }
    if (code !== 'ENOENT') throw failure(folder, p, code);
    const parent = dirname(p);
    if (!isFolder(parent) && retry) return false; // pruned by a concurrent delete: walk again
    throw new FolderError(
      folder,
      code,
      `${parent} exists but refuses new folders (mkdir ${p} says ENOENT; virtual file systems such as /proc or /sys cannot hold a lake)`,
    );
  }
  return true;
}

/** undefined on success, else the errno code. */
function mkdirCode(p: string): string | undefined {
  try {
    mkdirSync(p);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  }
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function checkIsFolder(p: string, folder: string): void {
  if (!isFolder(p)) throw new FolderError(folder, 'ENOTDIR', `${p} is a file, not a folder`, p);
}

function failure(folder: string, at: string, code: string): FolderError {
  if (code === 'ENOTDIR') {
    const blocker = fileInTheWay(at);
    return new FolderError(folder, code, blocker ? `${blocker} is a file, not a folder` : `a parent of ${at} is not a folder`, blocker);
  }
  const reason: Record<string, string> = {
    EACCES: `permission denied to create ${at} (check the owner and mode of ${dirname(at)})`,
    EPERM: `operation not permitted to create ${at} (check the owner and mode of ${dirname(at)})`,
    EROFS: `${at} is on a read-only file system`,
    ENOSPC: `no space left on the device of ${at}`,
    EDQUOT: `disk quota exceeded creating ${at}`,
    ENAMETOOLONG: `the name ${at} is too long for the file system`,
    ELOOP: `too many symbolic links resolving ${at}`,
  };
  return new FolderError(folder, code, reason[code] ?? `mkdir ${at} failed with ${code}`);
}

/** The nearest ancestor of `p` that exists and is not a folder, if any. */
function fileInTheWay(p: string): string | undefined {
  for (let q = dirname(p); ; q = dirname(q)) {
    let st;
    try {
      st = statSync(q);
    } catch {
      // missing, or itself under a file (ENOTDIR): look further up
    }
    if (st) return st.isDirectory() ? undefined : q;
    if (dirname(q) === q) return undefined;
  }
}
