// Storage on a local folder, with S3's semantics where the engine relies on them:
// - listing is recursive and sorted by key in UTF-8 byte order (S3's order), streamed by walking
//   the tree depth-first with each folder's entries ordered as their keys would be (a folder `a`
//   sorts as `a/`, so `a-b` comes before `a/x` exactly as in S3);
// - writes are atomic: bytes go to a hidden temp file in the target folder, then rename(2) puts it
//   under the real key, so a killed writer never leaves a half object (readers see old or new);
// - a missing folder lists as empty; missing keys on delete are not an error;
// - folders emptied by a delete are removed, as S3 has no folders to leave behind.
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkKey, checkRange, compareKeys } from './keys.js';
import { StorageError, type ByteRange, type ObjectInfo, type Storage } from './storage.js';

const TEMP_PREFIX = '.slake-tmp-';
const READ_CHUNK = 1 << 20;

export class LocalStorage implements Storage {
  /** `dir` is absolute and ends with '/'. */
  constructor(readonly root: string) {
    if (!root.startsWith('/') || !root.endsWith('/')) throw new StorageError('invalid', `local storage root must be an absolute folder ending in '/': ${root}`, false);
  }

  private path(key: string): string {
    return this.root + checkKey(key, this.root);
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    checkKey(prefix, this.root, 'prefix');
    // Walk from the deepest folder the prefix names; the rest of the prefix filters its entries.
    const cut = prefix.lastIndexOf('/') + 1;
    yield* this.walk(prefix.slice(0, cut), prefix.slice(cut));
  }

  private async *walk(folderKey: string, namePrefix: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.root + folderKey, { withFileTypes: true });
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.fsError(err, 'list', folderKey);
    }
    const named: { name: string; sortKey: string; dir: boolean }[] = [];
    for (const e of entries) {
      if (!e.name.startsWith(namePrefix) || e.name.startsWith(TEMP_PREFIX)) continue;
      let dir = e.isDirectory();
      if (e.isSymbolicLink()) dir = await stat(this.root + folderKey + e.name).then((s) => s.isDirectory(), () => false);
      else if (!dir && !e.isFile()) continue; // sockets, fifos: not objects
      named.push({ name: e.name, sortKey: dir ? e.name + '/' : e.name, dir });
    }
    named.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const e of named) {
      const key = folderKey + e.name;
      if (e.dir) {
        yield* this.walk(key + '/', '');
        continue;
      }
      const info = await this.head(key).catch((err: unknown) => {
        if (err instanceof StorageError && err.kind === 'not-found') return null;
        throw err;
      });
      if (info) yield info; // deleted while listing: S3 would not list it either
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const path = this.path(key);
    try {
      const s = await stat(path);
      if (!s.isFile()) return null;
      return { key, size: s.size, lastModified: s.mtime };
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw this.fsError(err, 'stat', key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const path = this.path(key);
    checkRange(range, this.root + key);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw this.fsError(err, 'read', key);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound(this.root + key);
      const size = st.size;
      const start = Math.min(range?.start ?? 0, size);
      const end = Math.min(range?.end ?? size, size);
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let filled = 0;
      while (filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, start + filled);
        if (bytesRead === 0) break; // truncated underneath us
        filled += bytesRead;
      }
      return filled === buf.length ? buf : buf.subarray(0, filled);
    } catch (err) {
      throw this.fsError(err, 'read', key);
    } finally {
      await fh.close();
    }
  }

  async stream(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(key);
    checkRange(range, this.root + key);
    // Open first so that a missing object fails here, not on the first read.
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw this.fsError(err, 'read', key);
    }
    const isFile = await fh.stat().then((s) => s.isFile(), () => false);
    if (!isFile) {
      await fh.close();
      throw notFound(this.root + key);
    }
    if (range && range.end <= range.start) {
      await fh.close();
      return Readable.from([]);
    }
    // createReadStream's `end` is inclusive.
    return createReadStream('', { fd: fh, start: range?.start ?? 0, end: range ? range.end - 1 : Infinity, highWaterMark: READ_CHUNK });
  }

  async put(key: string, body: Buffer | Uint8Array | string): Promise<void> {
    await this.writeAtomically(key, async (tmp) => {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(body);
      } finally {
        await fh.close();
      }
    });
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<void> {
    await this.writeAtomically(key, async (tmp) => {
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }));
    });
  }

  private async writeAtomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const path = this.path(key);
    if (key.endsWith('/')) throw new StorageError('invalid', `invalid key ${JSON.stringify(key)} under ${this.root}: a local object key cannot end with '/'`, false);
    const tmp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    // A concurrent delete may prune the folder between mkdir and open: try again a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(path), { recursive: true });
        await write(tmp);
        await rename(tmp, path);
        return;
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        const code = errCode(err);
        if (code === 'ENOENT' && attempt < 3) continue;
        // S3 keys `a` and `a/b` can coexist; a file and a folder named `a` cannot.
        if (code === 'EISDIR') throw new StorageError('invalid', `cannot write ${this.root}${key}: a folder of that name holds other keys (a local folder cannot hold both "${key}" and "${key}/…")`, false, { cause: err });
        if (code === 'ENOTDIR' || code === 'EEXIST') throw new StorageError('invalid', `cannot write ${this.root}${key}: a parent of it is an object, not a folder (a local folder cannot hold both "a" and "a/…")`, false, { cause: err });
        throw this.fsError(err, 'write', key);
      }
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.path(key);
      try {
        await unlink(path);
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        if (code === 'EISDIR' || code === 'EPERM') {
          // unlink on a folder: not an object, so nothing to delete (S3 semantics)
          const s = await stat(path).catch(() => null);
          if (s?.isDirectory()) continue;
        }
        throw this.fsError(err, 'delete', key);
      }
      const slash = key.lastIndexOf('/');
      if (slash > 0) folders.add(key.slice(0, slash));
    }
    await this.pruneEmptyFolders(folders);
  }

  /** Removes folders left empty by deletes, deepest first, never the root itself. */
  private async pruneEmptyFolders(folders: Set<string>): Promise<void> {
    const all = new Set<string>();
    for (const f of folders) {
      for (let p = f; p !== ''; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') all.add(p);
    }
    const deepestFirst = [...all].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const f of deepestFirst) {
      // rmdir only removes empty folders; a folder that gained a file meanwhile stays.
      await rmdir(this.root + f).catch(() => undefined);
    }
  }

  private fsError(err: unknown, op: string, key: string): StorageError {
    if (err instanceof StorageError) return err;
    const code = errCode(err);
    const where = this.root + key;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return notFound(where);
    if (code === 'EACCES' || code === 'EPERM') return new StorageError('access-denied', `permission denied to ${op} ${where} (check the folder's owner and mode)`, false, { cause: err });
    if (code === 'ENOSPC') return new StorageError('io', `no space left on device to ${op} ${where}`, false, { cause: err });
    if (code === 'EROFS') return new StorageError('io', `cannot ${op} ${where}: read-only file system`, false, { cause: err });
    return new StorageError('io', `cannot ${op} ${where}: ${(err as Error).message}`, false, { cause: err });
  }
}

function notFound(where: string): StorageError {
  return new StorageError('not-found', `object ${where} does not exist`, false);
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
