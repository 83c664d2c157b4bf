// Child-process entry for the embedded S3 server (s3rver 3.7.1).
// It runs in its own process because s3rver's ListObjectsV2 paging fails with a 500 under OpenSSL 3
// unless node runs with --openssl-legacy-provider, and that flag must not leak into the caller.
// Protocol: argv = [directory, port, address]; prints one JSON line {"ready":true,"port":N} on stdout
// once listening, exits on SIGTERM/SIGINT or when the parent's stdin closes.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface S3rverInstance { run(): Promise<{ port: number; address: string }>; close(): Promise<void> }
type S3rverClass = new (opts: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverClass;
sortListingsByKey();

const [directory, portArg, address = '127.0.0.1'] = process.argv.slice(2);
if (!directory) {
  console.error('usage: s3rverProcess <directory> [port] [address]');
  process.exit(2);
}

const server = new S3rver({ directory, port: Number(portArg ?? 0), address, silent: true, vhostBuckets: false });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ ready: true, port }) + '\n');

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
// The parent holds our stdin open; when it dies without signalling, stdin ends and we follow it.
process.stdin.on('end', () => void shutdown());
process.stdin.resume();

/**
 * s3rver 3.7.1 walks the bucket folder depth-first in readdir order, so a listing is not in S3's
 * key order when one key is a prefix of another (`a b` vs `a/1`), and paging with startAfter then
 * drops keys. Replace its listObjects with one that sorts keys in UTF-8 byte order (as S3 does)
 * before applying startAfter, the delimiter and maxKeys.
 */
function sortListingsByKey(): void {
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
