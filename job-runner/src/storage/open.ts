// openStorage: a URI to a Storage. `s3://bucket/prefix` → S3Storage; anything else is a local folder.
// S3 storages with the same client configuration share one S3Client (s3Clients.ts): opening one is
// cheap, and close() gives the client back (it is destroyed when no storage holds it).
import { LocalStorage } from './localStorage.js';
import { resolveS3Settings, type OpenStorageOptions } from './options.js';
import { S3Storage } from './s3Storage.js';
import type { Storage } from './storage.js';
import { parseStorageUri } from './uri.js';

export type { OpenStorageOptions } from './options.js';

export function openStorage(uri: string, opts: OpenStorageOptions = {}): Storage {
  const loc = parseStorageUri(uri);
  if (loc.kind === 'local') return new LocalStorage(loc.dir);
  const settings = resolveS3Settings(opts, opts.env ?? process.env);
  return new S3Storage(loc.bucket, loc.prefix, settings, { clock: opts.clock, source: opts.source, credentialsFrom: opts.credentialsFrom, clients: opts.clients });
}
