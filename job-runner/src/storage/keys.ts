// Keys and their order, shared by both storage implementations so they cannot disagree.
// A key is relative to the storage root and '/'-separated. Both implementations refuse keys that
// could leave the root on a file system ('..' segments, absolute paths), even on S3 where such a key
// is harmless, so that a program that works on one storage works on the other.
import { StorageError, type ByteRange } from './storage.js';

/** Throws `invalid` unless `key` is a safe object key (or, with `prefix`, a safe listing prefix). */
export function checkKey(key: string, root: string, what: 'key' | 'prefix' = 'key'): string {
  const problem = keyProblem(key, what);
  if (problem) throw new StorageError('invalid', `invalid ${what} ${JSON.stringify(key)} under ${root}: ${problem}`, false);
  return key;
}

function keyProblem(key: string, what: 'key' | 'prefix'): string | null {
  if (typeof key !== 'string') return 'not a string';
  if (what === 'key' && key.length === 0) return 'empty';
  if (key.startsWith('/')) return 'absolute paths are not keys (keys are relative to the storage root)';
  if (key.includes('\0')) return 'contains a NUL character';
  const segments = key.split('/');
  if (segments.some((s) => s === '..')) return "contains a '..' segment";
  return null;
}

/**
 * S3 lists keys in UTF-8 byte order, which is code point order. JS `<` compares UTF-16 code units and
 * disagrees for characters above U+FFFF versus U+E000–U+FFFF, so compare code points explicitly.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only when both are in the surrogate range or both outside does UTF-16 order match code points.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    return xs ? 1 : -1; // a surrogate starts a code point above U+FFFF: after every BMP character
  }
  return a.length - b.length;
}

/** Ranges are [start, end) in bytes; both implementations clamp them to the object's size. */
export function checkRange(range: ByteRange | undefined, where: string): void {
  if (!range) return;
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new StorageError('invalid', `invalid byte range [${range.start}, ${range.end}) for ${where}`, false);
  }
}
