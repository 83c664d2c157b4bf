// s3rver 3.7.1's on-disk layout, which the embedded server keeps so that a data folder written by
// either implementation (ours or plain s3rver) is read back by the other:
//
//   <root>/<bucket>/                              a bucket is a folder
//   <root>/<bucket>/a/b/<name>._S3rver_object     the bytes of key "a/b/<name>"
//   <root>/<bucket>/a/b/<name>._S3rver_object.md5 optional: the hex MD5 (recomputed from the bytes when absent)
//   <root>/<bucket>/a/b/<name>._S3rver_metadata.json optional: stored headers (content-type, x-amz-meta-*, ...)
//   <root>/<bucket>/._S3rver_uploads/<uploadId>/  multipart uploads in progress (s3rver's own code)
//
// Our additions are temporary files named `._S3rver_tmp.<pid>.<n>`: writes land there and are renamed
// over the object, so a reader or a killed server never sees half an object. No reader of the layout
// lists them (they do not end in `._S3rver_object`).
import { join } from 'node:path';

export const OBJECT_SUFFIX = '._S3rver_object';
export const MD5_SUFFIX = '._S3rver_object.md5';
export const METADATA_SUFFIX = '._S3rver_metadata.json';
export const UPLOADS_DIR = '._S3rver_uploads';
const TEMP_PREFIX = '._S3rver_tmp.';

export interface ObjectPaths {
  /** The folder holding the object's files (the bucket folder for keys without '/'). */
  dir: string;
  object: string;
  md5: string;
  metadata: string;
}

/**
 * Why a key cannot be stored in this layout, or null when it can. A key maps to folders by its '/'
 * segments, so a segment before the last one that is empty, `.` or `..` would alias another key
 * (`a//b` and `a/b` are one path) or leave the bucket (`a/../../x`). Real S3 stores such keys; the
 * embedded server refuses them with a clear error instead of silently aliasing them.
 */
export function unstorableKeyReason(key: string): string | null {
  if (key === '') return 'the key is empty';
  if (key.includes('\0')) return 'the key contains a NUL character';
  const segments = key.split('/');
  segments.pop();
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') {
      return `the key has a "${s === '' ? '' : s}" path segment${s === '' ? ' (leading or double "/")' : ''}, which the embedded S3 server's folder layout cannot store`;
    }
  }
  return null;
}

/** The files of `key` in `bucket`. The caller has checked the key with unstorableKeyReason. */
export function objectPaths(root: string, bucket: string, key: string): ObjectPaths {
  const slash = key.lastIndexOf('/');
  const dir = slash < 0 ? join(root, bucket) : join(root, bucket, key.slice(0, slash));
  const name = key.slice(slash + 1);
  return {
    dir,
    object: join(dir, name + OBJECT_SUFFIX),
    md5: join(dir, name + MD5_SUFFIX),
    metadata: join(dir, name + METADATA_SUFFIX),
  };
}

let tempCounter = 0;
/** A fresh temporary file name in `dir`, unique across processes sharing the folder. */
export function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}.${++tempCounter}`);
}

/** The key an object file name stands for, relative to its folder, or null for other files. */
export function keyNameOfFile(fileName: string): string | null {
  return fileName.endsWith(OBJECT_SUFFIX) ? fileName.slice(0, -OBJECT_SUFFIX.length) : null;
}

/**
 * Compares two keys in UTF-8 byte order, the order S3 lists keys in. JavaScript compares UTF-16
 * code units, which differs for characters above U+FFFF (surrogates) against U+E000..U+FFFF:
 * shifting both ranges restores code point order, which is UTF-8 byte order.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
