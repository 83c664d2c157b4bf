// Storage URIs: `s3://bucket/prefix` or a local folder (a path, relative to cwd, or a file:// URL).
// Parsing is pure so the CLI and the operator can validate a spec before touching any storage.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from './storage.js';

export type StorageLocation =
  | { kind: 's3'; bucket: string; /** '' or ending with '/' */ prefix: string; root: string }
  | { kind: 'local'; /** absolute, ending with '/' */ dir: string; root: string };

// S3's rules for bucket names (the subset that matters for addressing): 3–63 characters of lowercase
// letters, digits, '.', '-', starting and ending with a letter or digit. Underscores are tolerated
// because MinIO and s3rver accept them for path-style buckets.
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

export function parseStorageUri(uri: string, cwd: string = process.cwd()): StorageLocation {
  if (typeof uri !== 'string' || uri.trim() === '') throw new StorageError('invalid', 'empty storage URI (want s3://bucket/prefix or a folder)', false);
  if (/^s3:\/\//i.test(uri)) return parseS3(uri);
  if (/^s3[an]?:/i.test(uri)) throw new StorageError('invalid', `invalid storage URI ${JSON.stringify(uri)}: write s3://bucket/prefix`, false);
  if (/^file:/i.test(uri)) {
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (err) {
      throw new StorageError('invalid', `invalid file URI ${JSON.stringify(uri)}: ${(err as Error).message}`, false, { cause: err });
    }
    return local(path);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new StorageError('invalid', `unsupported storage URI ${JSON.stringify(uri)}: use s3://bucket/prefix or a local folder`, false);
  }
  return local(resolve(cwd, uri));
}

function local(path: string): StorageLocation {
  const dir = path.endsWith('/') ? path : path + '/';
  return { kind: 'local', dir, root: dir };
}

function parseS3(uri: string): StorageLocation {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) {
    throw new StorageError('invalid', `invalid bucket name ${JSON.stringify(bucket)} in ${JSON.stringify(uri)}: 3-63 lowercase letters, digits, '.' or '-'`, false);
  }
  // A root is a folder-like prefix: `s3://b/x` and `s3://b/x/` name the same root. Empty segments
  // ('a//b') would name keys that a local folder cannot hold, so they are refused.
  prefix = prefix.replace(/\/+$/, '');
  if (prefix.split('/').some((s) => s === '..' || s === '.') || /\/\//.test(prefix)) {
    throw new StorageError('invalid', `invalid prefix in ${JSON.stringify(uri)}: no empty, '.' or '..' segments`, false);
  }
  if (prefix !== '') prefix += '/';
  return { kind: 's3', bucket, prefix, root: `s3://${bucket}/${prefix}` };
}
