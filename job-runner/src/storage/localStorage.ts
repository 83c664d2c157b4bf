// Storage on a local folder, with S3's semantics where the engine relies on them:
// - listing is recursive and sorted by key in UTF-8 byte order (S3's order), streamed by walking
//   the tree depth-first with each folder's entries ordered as their keys would be (a folder `a`
//   sorts as `a/`, so `a-b` comes before `a/x` exactly as in S3);
// - writes are atomic: bytes go to a hidden temp file in the target folder, then rename(2) puts it
//   under the real key, so a killed writer never leaves a half object (readers see old or new);
//   the temp file is created before the body is read, so a body is consumed exactly once, and a
//   killed writer's temp file is invisible to listings and removed by removeStaleWrites;
// - a missing folder lists as empty; missing keys on delete are not an error;
// - folders emptied by a delete are removed, as S3 has no folders to leave behind.
import { closeSync, createReadStream, fstatSync, openSync, readdirSync, readSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync, type Dirent } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { FolderError, makeFolders } from './folders.js';
import { checkKey, checkRange, compareKeys } from './keys.js';
import { StorageError, type ByteRange, type ObjectInfo, type Storage } from './storage.js';

const TEMP_PREFIX = '.slake-tmp-';
const READ_CHUNK = 1 << 20;
/**
 * Reads and writes up to this size use synchronous system calls: a songs lake is ~10k-85k objects
 * of under 1 KiB, and each async fs call is a thread-pool round trip plus a promise, about twice the
 * CPU of the call itself (measured 140 vs 70 µs per small put). Blocking the event loop for a few
 * tens of microseconds is harmless; larger objects keep the asynchronous path.
 */
const SYNC_IO_BYTES = 1 << 20;
/** Temp names: unique per process (pid + random, once) and per write (a counter), no RNG call each time. */
const TEMP_STEM = `${TEMP_PREFIX}${process.pid.toString(36)}-${randomBytes(4).toString('hex')}-`;
let tempCounter = 0;

/** Folders remembered as existing per instance (a songs lake has ~10k-85k); past this the set restarts. */
const MAX_KNOWN_FOLDERS = 200_000;
/** Listings whose temp files are remembered for removeStaleWrites (a commit lists the five tables). */
const MAX_LISTED_PREFIXES = 16;

export class LocalStorage implements Storage {
  /** Folders this instance made (or wrote into); a delete that prunes one forgets it. */
  private readonly knownFolders = new Set<string>();
  /** Temp files seen by the last complete list() of a prefix, and when it started (see removeStaleWrites). */
  private readonly listedTemps = new Map<string, { startedAt: number; keys: string[] }>();

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
    const startedAt = Date.now();
    const temps: string[] = [];
    yield* this.walk(prefix.slice(0, cut), prefix.slice(cut), temps);
    // Reached only when the consumer read the whole listing. A long-lived process (the operator
    // polling receipts) lists many prefixes: keep the last few only.
    this.listedTemps.delete(prefix);
    if (this.listedTemps.size >= MAX_LISTED_PREFIXES) this.listedTemps.delete(this.listedTemps.keys().next().value!);
    this.listedTemps.set(prefix, { startedAt, keys: temps });
  }

  /**
   * One folder at a time, with synchronous calls (readdir, then a stat per object): a listing of a
   * songs table or of 100k song files is ~40k folders and ~100k stats, and the async versions cost
   * about twice the CPU (a thread-pool hop, a wake-up and a promise each). The generator yields between
   * objects, so a consumer still interleaves its own work.
   */
  private async *walk(folderKey: string, namePrefix: string, temps: string[]): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.root + folderKey, { withFileTypes: true });
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.fsError(err, 'list', folderKey);
    }
    const named: { name: string; sortKey: string; dir: boolean }[] = [];
    for (const e of entries) {
      if (!e.name.startsWith(namePrefix)) continue;
      if (e.name.startsWith(TEMP_PREFIX)) {
        temps.push(folderKey + e.name);
        continue;
      }
      let dir = e.isDirectory();
      if (e.isSymbolicLink()) dir = statSync(this.root + folderKey + e.name, { throwIfNoEntry: false })?.isDirectory() ?? false;
      else if (!dir && !e.isFile()) continue; // sockets, fifos: not objects
      named.push({ name: e.name, sortKey: dir ? e.name + '/' : e.name, dir });
    }
    named.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const e of named) {
      const key = folderKey + e.name;
      if (e.dir) {
        yield* this.walk(key + '/', '', temps);
        continue;
      }
      const info = this.headSync(key);
      if (info) yield info; // deleted while listing: S3 would not list it either
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    return this.headSync(key);
  }

  private headSync(key: string): ObjectInfo | null {
    const path = this.path(key);
    try {
      const s = statSync(path, { throwIfNoEntry: false });
      if (!s?.isFile()) return null;
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
    const small = this.getSmall(path, key, range);
    if (small !== null) return small;
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw this.fsError(err, 'read', key);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound(this.root + key);
      const { start, end } = clampRange(range, st.size);
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

  /** The object (or range) read synchronously when it is at most SYNC_IO_BYTES, else null. */
  private getSmall(path: string, key: string, range: ByteRange | undefined): Buffer | null {
    if (range && range.end - range.start > SYNC_IO_BYTES) return null;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw this.fsError(err, 'read', key);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw notFound(this.root + key);
      const { start, end } = clampRange(range, st.size);
      if (end - start > SYNC_IO_BYTES) return null;
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let filled = 0;
      while (filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, start + filled);
        if (n === 0) break; // truncated underneath us
        filled += n;
      }
      return filled === buf.length ? buf : buf.subarray(0, filled);
    } catch (err) {
      throw this.fsError(err, 'read', key);
    } finally {
      closeSync(fd);
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
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes.byteLength <= SYNC_IO_BYTES) return this.putSmall(key, bytes);
    await this.writeAtomically(key, (fh) => fh.writeFile(bytes));
  }

  /** put() of a small body with synchronous calls: the same steps and guarantees as writeAtomically. */
  private putSmall(key: string, bytes: Uint8Array): void {
    const path = this.checkWritable(key);
    const folder = dirname(path);
    const tmp = join(folder, TEMP_STEM + (tempCounter++).toString(36));
    let fd = -1;
    // A folder this instance has not made or written to yet is made first: for the songs table every
    // file is in a new folder, and a failing open before the mkdir costs a path walk each time.
    if (!this.knownFolders.has(folder)) this.makeFolder(folder, key);
    for (let attempt = 1; fd < 0; attempt++) {
      try {
        fd = openSync(tmp, 'wx');
      } catch (err) {
        // A concurrent delete pruned the folder: make it again and retry (nothing was read yet).
        if (errCode(err) !== 'ENOENT' || attempt >= 5) throw this.writeError(err, key);
        this.makeFolder(folder, key);
      }
    }
    try {
      try {
        for (let at = 0; at < bytes.byteLength; ) at += writeSync(fd, bytes, at, bytes.byteLength - at);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
      throw this.writeError(err, key);
    }
  }

  private makeFolder(folder: string, key: string): void {
    try {
      // Not mkdirSync({ recursive: true }): it spins forever where a parent exists but refuses
      // new folders (/proc); see folders.ts.
      makeFolders(folder);
    } catch (err) {
      throw this.writeError(err, key);
    }
    if (this.knownFolders.size >= MAX_KNOWN_FOLDERS) this.knownFolders.clear();
    this.knownFolders.add(folder);
  }

  private checkWritable(key: string): string {
    const path = this.path(key);
    if (key.endsWith('/')) throw new StorageError('invalid', `invalid key ${JSON.stringify(key)} under ${this.root}: a local object key cannot end with '/'`, false);
    return path;
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<void> {
    await this.writeAtomically(key, async (fh) => {
      let position = 0;
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        for (let at = 0; at < bytes.byteLength; ) {
          const { bytesWritten } = await fh.write(bytes, at, bytes.byteLength - at, position);
          at += bytesWritten;
          position += bytesWritten;
        }
      }
    });
  }

  /**
   * Temp file first, body second, rename last. Only creating the temp file is retried: a concurrent
   * delete may prune the folder between mkdir and open (ENOENT), and nothing has been read from the
   * body yet. Once the temp file exists its folder is not empty, so no prune can remove it, and the
   * body — possibly a stream that cannot be read twice — is consumed exactly once.
   */
  private async writeAtomically(key: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
    const path = this.checkWritable(key);
    const tmp = join(dirname(path), TEMP_STEM + (tempCounter++).toString(36));
    let fh: FileHandle;
    for (let attempt = 1; ; attempt++) {
      try {
        this.makeFolder(dirname(path), key);
        fh = await open(tmp, 'wx');
        break;
      } catch (err) {
        if (errCode(err) === 'ENOENT' && attempt < 5) continue;
        throw this.writeError(err, key);
      }
    }
    try {
      try {
        await write(fh);
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw this.writeError(err, key);
    }
  }

  private writeError(err: unknown, key: string): StorageError {
    if (err instanceof StorageError) return err;
    if (err instanceof FolderError) return this.folderError(err, key);
    const code = errCode(err);
    // S3 keys `a` and `a/b` can coexist; a file and a folder named `a` cannot.
    if (code === 'EISDIR') return new StorageError('invalid', `cannot write ${this.root}${key}: a folder of that name holds other keys (a local folder cannot hold both "${key}" and "${key}/…")`, false, { cause: err });
    if (code === 'ENOTDIR' || code === 'EEXIST') return new StorageError('invalid', `cannot write ${this.root}${key}: a parent of it is an object, not a folder (a local folder cannot hold both "a" and "a/…")`, false, { cause: err });
    return this.fsError(err, 'write', key);
  }

  private folderError(err: FolderError, key: string): StorageError {
    // A file in the way inside the root is an object whose name is a prefix of this key.
    if (err.code === 'ENOTDIR' && err.blocker?.startsWith(this.root)) return this.writeError(Object.assign(new Error(err.message), { code: 'ENOTDIR' }), key);
    const kind = err.code === 'EACCES' || err.code === 'EPERM' ? 'access-denied' : err.code === 'ENOTDIR' ? 'invalid' : 'io';
    return new StorageError(kind, err.message, false, { cause: err });
  }

  /**
   * Removes temp files of writers that died (SIGKILL, OOM, a lost node) under `prefix` whose last
   * write is older than `olderThan`, and the folders that leaves empty. A live writer keeps touching
   * its temp file, so a grace period of an hour or so never removes one. Returns how many went.
   *
   * A complete list() of the same prefix that started after `olderThan` already saw every temp file
   * old enough to go (a file last written before the listing began existed during it), so its
   * findings are used instead of walking the folders again: the commit lists every table first, and
   * a songs table is tens of thousands of folders.
   */
  async removeStaleWrites(prefix: string, olderThan: Date): Promise<number> {
    checkKey(prefix, this.root, 'prefix');
    const cutoff = olderThan.getTime();
    const listed = this.listedTemps.get(prefix);
    this.listedTemps.delete(prefix);
    const candidates = listed && listed.startedAt >= cutoff ? listed.keys : this.findTemps(prefix);
    const folders = new Set<string>();
    let removed = 0;
    for (const key of candidates) {
      const path = this.root + key;
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st?.isFile() || st.mtimeMs >= cutoff) continue;
      try {
        unlinkSync(path);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw this.fsError(err, 'delete', key);
      }
      removed++;
      const slash = key.lastIndexOf('/');
      if (slash > 0) folders.add(key.slice(0, slash));
    }
    await this.pruneEmptyFolders(folders);
    return removed;
  }

  /** Keys of the temp files under `prefix` (synchronous, like list(): one readdir per folder). */
  private findTemps(prefix: string): string[] {
    const found: string[] = [];
    const visit = (folderKey: string, namePrefix: string): void => {
      let entries: Dirent[];
      try {
        entries = readdirSync(this.root + folderKey, { withFileTypes: true });
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw this.fsError(err, 'list', folderKey);
      }
      for (const e of entries) {
        if (!e.name.startsWith(namePrefix)) continue;
        if (e.isDirectory()) visit(folderKey + e.name + '/', '');
        else if (e.name.startsWith(TEMP_PREFIX) && e.isFile()) found.push(folderKey + e.name);
      }
    };
    const cut = prefix.lastIndexOf('/') + 1;
    visit(prefix.slice(0, cut), prefix.slice(cut));
    return found;
  }

  async delete(keys: readonly string[]): Promise<void> {
    const folders = new Set<string>();
    // Synchronous calls, like list(): a cleanup deletes a whole table of small files at once.
    for (const key of keys) {
      const path = this.path(key);
      try {
        unlinkSync(path);
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        if (code === 'EISDIR' || code === 'EPERM') {
          // unlink on a folder: not an object, so nothing to delete (S3 semantics)
          if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) continue;
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
      this.knownFolders.delete(this.root + f);
      try {
        rmdirSync(this.root + f);
      } catch {
        // not empty (or already gone): it stays
      }
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

/** The bytes [start, end) of a range read from an object of `size` bytes: the whole object without one, cut at its end. */
function clampRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  return { start: Math.min(range?.start ?? 0, size), end: Math.min(range?.end ?? size, size) };
}
