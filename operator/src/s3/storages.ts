// S3 clients for the lake jobs' stores, one per (root, endpoint, region, style, credentials), reused
// across reconciles so that connections stay warm. Bounded: the least recently used are dropped.
import { createHash } from 'node:crypto';
import { openStorage, type Storage } from '../../../job-runner/src/index.js';

export interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export class StorageCache {
  private readonly byKey = new Map<string, Storage>();

  constructor(
    private readonly open: (uri: string, s: S3Settings) => Storage = (uri, s) => openStorage(uri, { ...s, maxConcurrency: 16 }),
    private readonly max = 256,
  ) {}

  get(uri: string, s: S3Settings): Storage {
    // The secret is part of the key (hashed, never kept in clear here) so a rotated Secret gets a new client.
    const secret = createHash('sha256').update(s.credentials.secretAccessKey).digest('hex').slice(0, 16);
    const key = [uri, s.endpoint ?? '', s.region, s.forcePathStyle, s.credentials.accessKeyId, secret].join('\n');
    let st = this.byKey.get(key);
    if (st) {
      this.byKey.delete(key);
    } else {
      st = this.open(uri, s);
    }
    this.byKey.set(key, st);
    while (this.byKey.size > this.max) this.byKey.delete(this.byKey.keys().next().value!);
    return st;
  }
}
