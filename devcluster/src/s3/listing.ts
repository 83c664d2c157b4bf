// Listing in S3 key order straight from the folder layout, one page at a time.
//
// A folder's entries are visited sorted by the keys they stand for: a file `n._S3rver_object` as
// its key `<folder>/n`, a sub-folder `d` as the prefix `<folder>/d/` that all its keys share.
// No key is a prefix of a sibling's sort string unless it sorts first anyway (`a` < `a b` <
// `a/...`), so this depth-first walk yields keys in exactly S3's (UTF-8 byte) order, lazily:
// a page reads only the folders on the way to where it starts (`startAfter`) and those it returns,
// not the whole bucket. With the delimiter `/`, a folder at the prefix's level is a common prefix
// and is not entered at all.
import { readdir, type Dirent } from 'node:fs';
import { promisify } from 'node:util';
import { noSuchBucket } from './errors.js';
import { compareKeys, keyNameOfFile, UPLOADS_DIR } from './layout.js';
import type { ObjectStore, ObjectVersion } from './objectStore.js';

const readdirP = promisify(readdir) as (path: string, opts: { withFileTypes: true }) => Promise<Dirent[]>;

export interface ListRequest {
  prefix: string;
  /** '' for none */
  delimiter: string;
  /** Only keys and common prefixes after this one ('' for the start). */
  startAfter: string;
  maxKeys: number;
}

export interface ListPage {
  objects: { key: string; version: ObjectVersion }[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix of the page: the next page starts after it. */
  last?: string;
}

type WalkItem = { kind: 'key'; key: string } | { kind: 'folder'; prefix: string; path: string };

export async function listPage(store: ObjectStore, bucket: string, req: ListRequest): Promise<ListPage> {
  if (!(await store.bucketExists(bucket))) throw noSuchBucket(bucket);
  const empty: ListPage = { objects: [], commonPrefixes: [], isTruncated: false };
  if (req.maxKeys <= 0) return empty;
  const folder = req.prefix.slice(0, req.prefix.lastIndexOf('/') + 1);
  // A prefix whose folder part the layout cannot hold (`a//`, `../`) matches no stored key; never
  // walk it (`..` would leave the bucket).
  if (folder.split('/').slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) return empty;

  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let isTruncated = false;
  const walker = walkFolder(`${store.bucketPath(bucket)}/${folder}`, folder, {
    prefix: req.prefix,
    startAfter: req.startAfter,
    rollUpFolders: req.delimiter === '/',
    top: true,
  });
  for await (const item of walker) {
    let key: string | undefined;
    let common: string | undefined;
    if (item.kind === 'folder') {
      if (compareKeys(item.prefix, req.startAfter) <= 0 || !(await holdsObjects(item.path))) continue;
      common = item.prefix;
    } else if (req.delimiter) {
      const at = item.key.indexOf(req.delimiter, req.prefix.length);
      if (at < 0) key = item.key;
      else {
        // Keys sharing a common prefix are contiguous in key order: one entry for the run.
        common = item.key.slice(0, at + req.delimiter.length);
        if (common === last || compareKeys(common, req.startAfter) <= 0) continue;
      }
    } else key = item.key;
    if (keys.length + commonPrefixes.length >= req.maxKeys) {
      isTruncated = true;
      break;
    }
    if (common !== undefined) commonPrefixes.push(common);
    else keys.push(key!);
    last = common ?? key;
  }
  await walker.return(undefined);
  const versions = await Promise.all(keys.map((k) => store.head(bucket, k)));
  return {
    // A key deleted between the walk and its description is left out, as if listed a moment later.
    objects: keys.flatMap((key, i) => (versions[i] ? [{ key, version: versions[i]! }] : [])),
    commonPrefixes,
    isTruncated,
    ...(last !== undefined ? { last } : {}),
  };
}

interface WalkOptions {
  prefix: string;
  startAfter: string;
  rollUpFolders: boolean;
  top: boolean;
}

/** Keys (and, when rolling up, top-level folders) under `path`, whose keys start with `rel`, in key order. */
async function* walkFolder(path: string, rel: string, opts: WalkOptions): AsyncGenerator<WalkItem> {
  let entries: Dirent[];
  try {
    entries = await readdirP(path, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  const { startAfter } = opts;
  const items: { key: string; name: string; folder: boolean }[] = [];
  for (const e of entries) {
    if (e.isDirectory()) {
      if (rel === '' && e.name === UPLOADS_DIR) continue; // s3rver's multipart scratch space
      const key = rel + e.name + '/';
      // Every key in the folder starts with `key`: skip it when all of them are <= startAfter.
      if (startAfter && compareKeys(startAfter, key) >= 0 && !startAfter.startsWith(key)) continue;
      items.push({ key, name: e.name, folder: true });
    } else {
      const name = keyNameOfFile(e.name);
      if (name === null) continue;
      const key = rel + name;
      if (startAfter && compareKeys(key, startAfter) <= 0) continue;
      items.push({ key, name: e.name, folder: false });
    }
  }
  const mine = opts.top ? items.filter((i) => i.key.startsWith(opts.prefix)) : items;
  mine.sort((a, b) => compareKeys(a.key, b.key));
  const below = { ...opts, top: false };
  for (const item of mine) {
    if (!item.folder) yield { kind: 'key', key: item.key };
    else if (opts.top && opts.rollUpFolders) yield { kind: 'folder', prefix: item.key, path: `${path}/${item.name}` };
    else yield* walkFolder(`${path}/${item.name}`, item.key, below);
  }
}

/** Whether a folder holds at least one object (empty folders can outlive their keys briefly). */
async function holdsObjects(path: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await readdirP(path, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  if (entries.some((e) => !e.isDirectory() && keyNameOfFile(e.name) !== null)) return true;
  for (const e of entries) if (e.isDirectory() && (await holdsObjects(`${path}/${e.name}`))) return true;
  return false;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Opaque continuation tokens: the bucket and where the next page starts. */
export function encodeContinuationToken(bucket: string, after: string): string {
  return Buffer.from(`v1\n${bucket}\n${after}`, 'utf8').toString('base64');
}

/** The position a token stands for, or null when it is not one of ours for this bucket. */
export function decodeContinuationToken(bucket: string, token: string): string | null {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const head = `v1\n${bucket}\n`;
  return text.startsWith(head) ? text.slice(head.length) : null;
}
