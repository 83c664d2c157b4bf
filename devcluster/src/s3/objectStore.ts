// The object store behind the embedded S3 server: s3rver's folder layout (layout.ts), written so that
// S3's guarantees hold for clients of one server process:
//
// - A write is atomic: the bytes go to a temporary file that is renamed over the object, so a reader
//   (or a killed server) sees the old object or the new one, never a mix or a prefix.
// - Concurrent writes of one key end with exactly one complete object, and a reader never pairs the
//   bytes of one write with the ETag or metadata of another.
// - Read-after-write: a write returns only after the rename, so the next GET, HEAD or listing sees it.
//
// How, cheaply. Small objects (the common case: a song partition is ~2 KB) are handled in one
// synchronous step each (write: temp file, rename, side files; read: open, fstat, metadata): no
// other request can run in between, so they need no lock, and they avoid the thread-pool round
// trips that cost more than the system calls themselves on a loaded 2-core machine. Large and
// streamed bodies use asynchronous I/O; the few steps that swap their files run under a per-key
// lock, and a synchronous step that finds the key locked takes the asynchronous way instead.
//
// Files per object: creating a file costs ~0.2-0.6 ms of kernel time on the dev machines, so a small
// object is the bytes plus, when it has stored headers (content-type, x-amz-meta-*), s3rver's
// `metadata.json`. Its MD5 (the ETag) lives in an in-memory cache keyed by the file's identity
// (inode, size, mtime) and is recomputed from the bytes when missing, which is what s3rver itself
// does when its `.md5` file is absent. Objects of 1 MiB or more also get the `.md5` file.
import {
  close,
  closeSync,
  existsSync,
  fstat,
  fstatSync,
  open,
  openSync,
  read,
  readFileSync,
  readSync,
  rename,
  renameSync,
  rmdirSync,
  statSync,
  unlink,
  unlinkSync,
  write,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { makeFolders, makeFoldersAsync } from '../folders.js';
import { BodyHasher, md5Hex, type BodyDigests, type DigestRequest } from './checksums.js';
import { noSuchBucket, noSuchKey, preconditionFailed, S3Error } from './errors.js';
import { objectPaths, tempPath, unstorableKeyReason, type ObjectPaths } from './layout.js';

const openP = promisify(open);
const closeP = promisify(close);
const fstatP = promisify(fstat);
const renameP = promisify(rename);
const unlinkP = promisify(unlink);
const writeP = (fd: number, buf: Uint8Array, offset: number, length: number) =>
  new Promise<number>((resolve, reject) => write(fd, buf, offset, length, null, (err, n) => (err ? reject(err) : resolve(n))));
const readP = (fd: number, buf: Uint8Array, offset: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) => read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));

/** Stored headers: content-type, content-encoding, cache-control, ..., x-amz-meta-*. */
export type StoredMetadata = Record<string, string>;

export interface ObjectVersion {
  size: number;
  /** hex, without quotes */
  md5: string;
  lastModified: Date;
  metadata: StoredMetadata;
}

export interface OpenedObject {
  /** An open file descriptor on this version's bytes; the caller closes it (closeFd). */
  fd: number;
  version: ObjectVersion;
  /** The whole object when it was read already (to compute its MD5). */
  content?: Buffer;
}

export interface WriteCondition {
  /** If-None-Match: * — fail when the key exists. */
  ifNoneMatchAny?: boolean;
  /** If-Match: fail unless the current ETag (hex MD5) is this one. */
  ifMatch?: string;
}

export interface PutRequest {
  body: Buffer | AsyncIterable<Uint8Array>;
  metadata: StoredMetadata;
  digests?: DigestRequest;
  /** Throws (an S3Error) to refuse a received body; nothing is committed then. */
  verify?: (digests: BodyDigests) => void;
  condition?: WriteCondition;
}

export interface ObjectStoreOptions {
  /** Objects at least this large also get s3rver's `.md5` file. Default 1 MiB. */
  md5FileThreshold?: number;
  /** Versions remembered (ETag and metadata by file identity). Default 200,000 (~40 MB). */
  cacheEntries?: number;
}

interface CacheEntry {
  ino: number;
  size: number;
  mtimeMs: number;
  md5: string;
  metadata: StoredMetadata;
}

/** Buffers up to this size are written in one synchronous step. */
const SYNC_WRITE_LIMIT = 1024 * 1024;
/** Objects up to this size are read whole to compute a missing MD5. */
const WHOLE_READ_LIMIT = 8 * 1024 * 1024;
const WRITE_BATCH = 1024 * 1024;

export class ObjectStore {
  private readonly locks = new KeyLocks();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly md5FileThreshold: number;
  private readonly cacheEntries: number;

  constructor(
    readonly root: string,
    opts: ObjectStoreOptions = {},
  ) {
    this.md5FileThreshold = opts.md5FileThreshold ?? 1024 * 1024;
    this.cacheEntries = opts.cacheEntries ?? 200_000;
  }

  bucketPath(bucket: string): string {
    return `${this.root}/${bucket}`;
  }

  async bucketExists(bucket: string): Promise<boolean> {
    return this.bucketExistsSync(bucket);
  }

  /** The key's files; an S3Error when the layout cannot store the key. */
  paths(bucket: string, key: string): ObjectPaths {
    const reason = unstorableKeyReason(key);
    if (reason) throw new S3Error('InvalidArgument', `Cannot store key ${JSON.stringify(key)}: ${reason}.`, { ArgumentName: 'key', ArgumentValue: key });
    return objectPaths(this.root, bucket, key);
  }

  async put(bucket: string, key: string, req: PutRequest): Promise<{ version: ObjectVersion; digests: BodyDigests }> {
    const paths = this.paths(bucket, key);
    if (Buffer.isBuffer(req.body) && req.body.length <= SYNC_WRITE_LIMIT && !this.locks.isHeld(paths.object)) {
      const hasher = new BodyHasher(req.digests);
      hasher.update(req.body);
      const digests = hasher.digest();
      req.verify?.(digests);
      const version = this.putSmall(bucket, key, paths, req.body, digests.md5Hex, req);
      if (version) return { version, digests };
    }
    return this.putLarge(bucket, key, paths, req);
  }

  /** One synchronous step: nothing else runs in between. Undefined when the async way is needed. */
  private putSmall(bucket: string, key: string, paths: ObjectPaths, body: Buffer, md5: string, req: PutRequest): ObjectVersion | undefined {
    if (req.condition) {
      const current = this.describeSync(paths);
      if (current === 'async') return undefined;
      checkCondition(key, req.condition, current?.version ?? null);
    }
    // mkdir first: a missing folder found by a failed open would cost an exception (~10 µs in V8);
    // the bucket check keeps mkdir from creating a deleted bucket again.
    if (!this.bucketExistsSync(bucket)) throw noSuchBucket(bucket);
    const tmp = tempPath(paths.dir);
    let fd: number;
    try {
      makeFolders(paths.dir);
      fd = openSync(tmp, 'wx', 0o644);
    } catch (err) {
      throw fsErrorFor(err, key);
    }
    let st: Stats;
    try {
      for (let off = 0; off < body.length; ) off += writeSync(fd, body, off, body.length - off);
      st = fstatSync(fd);
    } catch (err) {
      unlinkQuietSync(tmp);
      throw err;
    } finally {
      closeQuietSync(fd);
    }
    // The old version's MD5 file goes first: a crash between the steps leaves the new bytes with no
    // MD5 file (recomputed on read), never paired with the old one.
    try {
      unlinkQuietSync(paths.md5);
      renameSync(tmp, paths.object);
    } catch (err) {
      unlinkQuietSync(tmp);
      throw err;
    }
    if (st.size >= this.md5FileThreshold) writeFileSync(paths.md5, md5);
    writeMetadataSync(paths.metadata, req.metadata);
    this.remember(paths.object, st, md5, req.metadata);
    return { size: st.size, md5, lastModified: st.mtime, metadata: req.metadata };
  }

  private async putLarge(bucket: string, key: string, paths: ObjectPaths, req: PutRequest): Promise<{ version: ObjectVersion; digests: BodyDigests }> {
    const hasher = new BodyHasher(req.digests);
    const { tmp, st } = await this.writeTemp(bucket, key, paths.dir, req.body, hasher);
    let committed = false;
    try {
      const digests = hasher.digest();
      req.verify?.(digests);
      const metadata = req.metadata;
      await this.locks.run(paths.object, async () => {
        if (req.condition) checkCondition(key, req.condition, (await this.describeLocked(paths, false))?.version ?? null);
        await unlinkQuiet(paths.md5);
        await renameP(tmp, paths.object);
        committed = true;
        if (st.size >= this.md5FileThreshold) writeFileSync(paths.md5, digests.md5Hex);
        writeMetadataSync(paths.metadata, metadata);
        this.remember(paths.object, st, digests.md5Hex, metadata);
      });
      return { version: { size: st.size, md5: digests.md5Hex, lastModified: st.mtime, metadata }, digests };
    } finally {
      if (!committed) await unlinkQuiet(tmp);
    }
  }

  /** Opens the current version for reading, or null when the key does not exist. */
  async open(bucket: string, key: string): Promise<OpenedObject | null> {
    const paths = this.paths(bucket, key);
    const found = this.describeSync(paths, true);
    if (found !== 'async') return found;
    return this.locks.run(paths.object, () => this.describeLocked(paths, true));
  }

  /** The current version's description, or null when the key does not exist. */
  async head(bucket: string, key: string): Promise<ObjectVersion | null> {
    const paths = this.paths(bucket, key);
    let st: Stats;
    try {
      st = statSync(paths.object);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    const hit = this.cached(paths.object, st);
    if (hit) return versionOf(st, hit);
    const found = this.describeSync(paths);
    if (found !== 'async') return found?.version ?? null;
    return (await this.locks.run(paths.object, () => this.describeLocked(paths, false)))?.version ?? null;
  }

  /**
   * Deletes a key's files; true when it existed. Empty folders left behind are removed, unless the
   * caller batches that (`keepFolders`, then removeEmptyFolders once for many keys).
   */
  async delete(bucket: string, key: string, opts: { keepFolders?: boolean } = {}): Promise<boolean> {
    const paths = this.paths(bucket, key);
    const remove = () => {
      const had = unlinkQuietSync(paths.object);
      unlinkQuietSync(paths.md5);
      unlinkQuietSync(paths.metadata);
      this.cache.delete(paths.object);
      return had;
    };
    const existed = this.locks.isHeld(paths.object) ? await this.locks.run(paths.object, async () => remove()) : remove();
    if (!opts.keepFolders) await this.removeEmptyFolders(bucket, [paths.dir]);
    return existed;
  }

  /**
   * Removes the given folders and then their parents while they are empty, stopping at the bucket.
   * A concurrent write into a folder being removed sees ENOENT on its temporary file and recreates
   * the folder, so this never loses a write.
   */
  async removeEmptyFolders(bucket: string, dirs: Iterable<string>): Promise<void> {
    const bucketPath = this.bucketPath(bucket);
    const depth = (d: string) => d.split('/').length;
    let pending = new Set([...dirs].filter((d) => d.startsWith(bucketPath + '/')));
    // Deepest first, one depth at a time: a parent is tried once all its candidate children were.
    while (pending.size > 0) {
      const deepest = Math.max(...[...pending].map(depth));
      const next = new Set<string>();
      for (const dir of pending) {
        if (depth(dir) < deepest) {
          next.add(dir);
          continue;
        }
        try {
          rmdirSync(dir);
        } catch {
          continue; // not empty (or already gone)
        }
        const parent = dirname(dir);
        if (parent.startsWith(bucketPath + '/')) next.add(parent);
      }
      pending = next;
    }
  }

  private bucketExistsSync(bucket: string): boolean {
    try {
      return statSync(this.bucketPath(bucket)).isDirectory();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  private async writeTemp(bucket: string, key: string, dir: string, body: PutRequest['body'], hasher: BodyHasher): Promise<{ tmp: string; st: Stats }> {
    let fd: number | undefined;
    let tmp = '';
    for (let attempt = 0; fd === undefined; attempt++) {
      tmp = tempPath(dir);
      try {
        fd = await openP(tmp, 'wx', 0o644);
      } catch (err) {
        if (errCode(err) !== 'ENOENT' || attempt >= 3) throw fsErrorFor(err, key);
        // A new folder (or one a concurrent delete just removed): create it, unless the bucket is gone.
        if (!this.bucketExistsSync(bucket)) throw noSuchBucket(bucket);
        await makeFoldersAsync(dir).catch((e: unknown) => {
          throw fsErrorFor(e, key);
        });
      }
    }
    try {
      if (Buffer.isBuffer(body)) {
        hasher.update(body);
        await writeAll(fd, body);
      } else {
        let batch: Uint8Array[] = [];
        let batched = 0;
        for await (const chunk of body) {
          hasher.update(chunk);
          batch.push(chunk);
          batched += chunk.length;
          if (batched >= WRITE_BATCH) {
            await writeAll(fd, Buffer.concat(batch, batched));
            batch = [];
            batched = 0;
          }
        }
        if (batched > 0) await writeAll(fd, Buffer.concat(batch, batched));
      }
      const st = await fstatP(fd);
      await closeP(fd);
      fd = undefined;
      return { tmp, st };
    } catch (err) {
      if (fd !== undefined) await closeFd(fd);
      await unlinkQuiet(tmp);
      throw err;
    }
  }

  /**
   * Opens and describes the current version in one synchronous step, or 'async' when that is not
   * possible: the key is locked by an asynchronous write, or its MD5 is unknown and the object is
   * too large to hash without blocking.
   */
  private describeSync(paths: ObjectPaths, keepOpen = false): OpenedObject | null | 'async' {
    let fd: number;
    try {
      fd = openSync(paths.object, 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const st = fstatSync(fd);
      const hit = this.cached(paths.object, st);
      if (hit) {
        if (!keepOpen) closeQuietSync(fd);
        return { fd, version: versionOf(st, hit) };
      }
      if (this.locks.isHeld(paths.object)) {
        closeQuietSync(fd);
        return 'async';
      }
      let md5 = readMd5Sync(paths.md5);
      let content: Buffer | undefined;
      if (md5 === null) {
        if (st.size > WHOLE_READ_LIMIT) {
          closeQuietSync(fd);
          return 'async';
        }
        content = readAtSync(fd, 0, st.size);
        md5 = md5Hex(content);
      }
      const metadata = readMetadataSync(paths.metadata);
      this.remember(paths.object, st, md5, metadata);
      if (!keepOpen) closeQuietSync(fd);
      return { fd, version: versionOf(st, { md5, metadata }), ...(content ? { content } : {}) };
    } catch (err) {
      closeQuietSync(fd);
      throw err;
    }
  }

  /** describeSync's asynchronous twin for large objects. Call with the key's lock held. */
  private async describeLocked(paths: ObjectPaths, keepOpen: boolean): Promise<OpenedObject | null> {
    let fd: number;
    try {
      fd = await openP(paths.object, 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const st = await fstatP(fd);
      const hit = this.cached(paths.object, st);
      let version: ObjectVersion;
      if (hit) version = versionOf(st, hit);
      else {
        let md5 = readMd5Sync(paths.md5);
        if (md5 === null) {
          md5 = await md5OfFd(fd, st.size);
          if (st.size >= this.md5FileThreshold) writeFileSync(paths.md5, md5);
        }
        const metadata = readMetadataSync(paths.metadata);
        this.remember(paths.object, st, md5, metadata);
        version = versionOf(st, { md5, metadata });
      }
      if (!keepOpen) await closeFd(fd);
      return { fd, version };
    } catch (err) {
      await closeFd(fd);
      throw err;
    }
  }

  private cached(path: string, st: Stats): CacheEntry | undefined {
    const e = this.cache.get(path);
    return e && e.ino === st.ino && e.size === st.size && e.mtimeMs === st.mtimeMs ? e : undefined;
  }

  private remember(path: string, st: Stats, md5: string, metadata: StoredMetadata): void {
    this.cache.delete(path);
    this.cache.set(path, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, md5, metadata });
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** One async critical section at a time per key; waiters run in arrival order. */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  isHeld(key: string): boolean {
    return this.tails.has(key);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (prev) await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function checkCondition(key: string, cond: WriteCondition, current: ObjectVersion | null): void {
  if (cond.ifNoneMatchAny && current) throw preconditionFailed('If-None-Match');
  if (cond.ifMatch !== undefined) {
    if (!current) throw noSuchKey(key);
    if (current.md5 !== cond.ifMatch) throw preconditionFailed('If-Match');
  }
}

function versionOf(st: Stats, e: { md5: string; metadata: StoredMetadata }): ObjectVersion {
  return { size: st.size, md5: e.md5, lastModified: st.mtime, metadata: e.metadata };
}

export async function closeFd(fd: number): Promise<void> {
  await closeP(fd).catch(() => undefined);
}

function closeQuietSync(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file), synchronously: for small reads. */
export function readAtSync(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

async function readAt(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await readP(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

async function md5OfFd(fd: number, size: number): Promise<string> {
  const hasher = new BodyHasher();
  for (let pos = 0; pos < size; pos += WRITE_BATCH) hasher.update(await readAt(fd, pos, Math.min(WRITE_BATCH, size - pos)));
  return hasher.digest().md5Hex;
}

async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await writeP(fd, data, off, data.length - off);
}

/**
 * s3rver's metadata.json, written in place (one small write; readers in this process never see it
 * half-written). A file cut short by a crash reads as no metadata; the bytes are never at risk.
 */
function writeMetadataSync(path: string, metadata: StoredMetadata): void {
  if (Object.keys(metadata).length > 0) writeFileSync(path, JSON.stringify(metadata, null, 2));
  else unlinkQuietSync(path);
}

function readMetadataSync(path: string): StoredMetadata {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const out: StoredMetadata = {};
  if (parsed && typeof parsed === 'object') for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

function readMd5Sync(path: string): string | null {
  try {
    const text = readFileSync(path, 'latin1').trim();
    return /^[0-9a-f]{32}(-\d+)?$/.test(text) ? text : null;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

async function unlinkQuiet(path: string): Promise<boolean> {
  try {
    await unlinkP(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function unlinkQuietSync(path: string): boolean {
  // Mostly called for side files that do not exist: asking first avoids an exception per call.
  if (!existsSync(path)) return false;
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function isMissing(err: unknown): boolean {
  const code = errCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** File-system errors a request can cause, as S3 errors; others stay internal errors. */
function fsErrorFor(err: unknown, key: string): unknown {
  switch (errCode(err)) {
    case 'ENAMETOOLONG':
      return new S3Error('KeyTooLongError', 'Your key is too long (a path segment is longer than the file system allows).', { Key: key });
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR':
      return new S3Error('InvalidArgument', `Cannot store key ${JSON.stringify(key)}: a path segment collides with the embedded S3 server's file names.`, { ArgumentName: 'key' });
    default:
      return err;
  }
}
