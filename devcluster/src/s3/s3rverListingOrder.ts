// The one patch the `s3rver` variant of the embedded S3 server applies to plain s3rver 3.7.1: listing
// order. Everything else stays s3rver's own, so tests that run against this variant check the
// engine against an S3 implementation we did not write.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

type Require = (id: string) => unknown;

/**
 * s3rver 3.7.1 walks the bucket folder depth-first in readdir order, so a listing is not in S3's
 * key order when one key is a prefix of another (`a b` vs `a/1`), and paging with startAfter then
 * drops keys. Replace its listObjects with one that sorts keys in UTF-8 byte order (as S3 does)
 * before applying startAfter, the delimiter and maxKeys.
 */
export function sortS3rverListingsByKey(require: Require): void {
  interface Store {
    getBucketPath(bucket: string): string;
    getMetadata(bucket: string, key: string): Promise<unknown>;
  }
  type S3ObjectClass = new (bucket: string, key: string, content: null, metadata: unknown) => unknown;
  const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: Store & { listObjects: unknown } };
  const S3Object = require('s3rver/lib/models/object') as S3ObjectClass;
  const suffix = '._S3rver_object';
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

  FilesystemStore.prototype.listObjects = async function (
    this: Store,
    bucket: string,
    options: { delimiter?: string; startAfter?: string; prefix?: string; maxKeys?: number },
  ) {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
    const bucketPath = this.getBucketPath(bucket);
    const keys: string[] = [];
    const walk = (dir: string) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // the prefix folder does not exist: nothing under it
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith(suffix)) keys.push(full.slice(bucketPath.length + 1, -suffix.length));
      }
    };
    const slash = prefix.lastIndexOf('/');
    walk(slash >= 0 ? join(bucketPath, prefix.slice(0, slash)) : bucketPath);
    const candidates = keys.filter((k) => k.startsWith(prefix) && byteOrder(k, startAfter) > 0).sort(byteOrder);

    const commonPrefixes = new Set<string>();
    const page: string[] = [];
    let isTruncated = false;
    for (const key of candidates) {
      if (delimiter) {
        const idx = key.indexOf(delimiter, prefix.length);
        if (idx !== -1) {
          commonPrefixes.add(key.slice(0, idx + delimiter.length));
          continue;
        }
      }
      if (page.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      page.push(key);
    }
    const metadata = await Promise.all(
      page.map((key) =>
        this.getMetadata(bucket, key).catch((err: { code?: string }) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        }),
      ),
    );
    return {
      objects: page.flatMap((key, i) => (metadata[i] === undefined ? [] : [new S3Object(bucket, key, null, metadata[i])])),
      commonPrefixes: [...commonPrefixes].sort(byteOrder),
      isTruncated,
    };
  };
}
