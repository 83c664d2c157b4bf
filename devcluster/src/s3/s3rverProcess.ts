// Child-process entry for the embedded S3 server.
// It runs in its own process because s3rver's ListObjectsV2 paging fails with a 500 under OpenSSL 3
// unless node runs with --openssl-legacy-provider, and that flag must not leak into the caller.
// Protocol: argv = [directory, port, address, variant]; prints one JSON line {"ready":true,"port":N}
// on stdout once listening, exits on SIGTERM/SIGINT or when the parent's stdin closes.
//
// variant `fast` (the default): our request handler (fastPath.ts) in front of s3rver 3.7.1, both on
// one object store (objectStore.ts) in s3rver's folder layout. variant `s3rver`: plain s3rver
// with only its listing order fixed (s3rverListingOrder.ts): an S3 implementation we did not write,
// which the engine's tests run against (test/helpers/s3.ts), also kept to measure the fast path
// against and to prove the folder layout is still s3rver's.
import { createServer, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import { createRequestHandler } from './fastPath.js';
import { ObjectStore } from './objectStore.js';
import { patchS3rverStore } from './s3rverStore.js';
import { sortS3rverListingsByKey } from './s3rverListingOrder.js';
import { SigV4Verifier } from './sigv4.js';

interface S3rverApp {
  callback(): RequestListener;
}
type S3rverClass = new (opts: Record<string, unknown>) => S3rverApp;

const require = createRequire(import.meta.url);
const [directory, portArg = '0', address = '127.0.0.1', variant = 'fast'] = process.argv.slice(2);
if (!directory || (variant !== 'fast' && variant !== 's3rver')) {
  console.error('usage: s3rverProcess <directory> [port] [address] [fast|s3rver]');
  process.exit(2);
}

const S3rver = require('s3rver') as S3rverClass;
let handler: RequestListener;
if (variant === 'fast') {
  const store = new ObjectStore(directory);
  patchS3rverStore(require, store);
  const app = new S3rver({ directory, silent: true, vhostBuckets: false });
  handler = createRequestHandler({
    store,
    verifier: new SigV4Verifier(new Map([['S3RVER', 'S3RVER']])),
    fallback: app.callback(),
    log: (line) => process.stderr.write(line + '\n'),
  });
} else {
  sortS3rverListingsByKey(require);
  handler = new S3rver({ directory, silent: true, vhostBuckets: false }).callback();
}

const server = createServer(handler);
// SDK clients keep connections alive; closing them sooner than the client expects turns the next
// request on that socket into a reset (which clients retry, at a cost).
server.keepAliveTimeout = 30_000;
const port = await new Promise<number>((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(portArg), address, () => {
    const a = server.address();
    resolve(typeof a === 'object' && a ? a.port : Number(portArg));
  });
});
process.stdout.write(JSON.stringify({ ready: true, port }) + '\n');

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // Requests still running after a grace period are cut: the parent asked us to go.
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The parent holds our stdin open; when it dies without signalling, stdin ends and we follow it.
process.stdin.on('end', shutdown);
process.stdin.resume();
