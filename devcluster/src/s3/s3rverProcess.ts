// Child-process entry for the embedded S3 server (s3rver 3.7.1).
// It runs in its own process because s3rver's ListObjectsV2 paging fails with a 500 under OpenSSL 3
// unless node runs with --openssl-legacy-provider, and that flag must not leak into the caller.
// Protocol: argv = [directory, port, address]; prints one JSON line {"ready":true,"port":N} on stdout
// once listening, exits on SIGTERM/SIGINT or when the parent's stdin closes.
import { createRequire } from 'node:module';

interface S3rverInstance { run(): Promise<{ port: number; address: string }>; close(): Promise<void> }
type S3rverClass = new (opts: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverClass;

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
