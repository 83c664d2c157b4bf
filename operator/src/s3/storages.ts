// The lake jobs' S3 storages, one per (root, endpoint, region, style, credentials), reused across
// reconciles so that a storage's state (bucket seen, batch deletes refused) is learned once.
//
// A storage is cheap: the S3 client under it is shared by every storage with the same client
// configuration (job-runner/src/storage/s3Clients.ts), so 200 lake jobs reading with one Secret
// hold one client, not 600. What this cache adds is giving storages back: one not asked for during
// `idleMs` is closed, and so is one pushed out by the size bound; a client is destroyed when its
// last storage is closed. After a Secret is rotated the new credentials key new storages at once
// (the secret is part of the key, hashed), and the old ones, no longer asked for, are closed after
// `idleMs`, which destroys the old client. A closed storage that a reconcile still holds keeps
// working (it takes a client again), so closing is never a correctness risk, only a cold socket.
import { createHash } from 'node:crypto';
import { openStorage, type Storage } from '../../../job-runner/src/index.js';

export interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface StorageCacheOptions {
  /** At most this many storages are kept; the least recently used beyond it are closed. */
  max?: number;
  /** A storage not asked for during this long is closed (default 5 minutes). */
  idleMs?: number;
  /** Milliseconds now (injected in tests). */
  now?: () => number;
}

/** Requests in flight per storage; the shared client allows the sum over all storages. */
export const STORAGE_MAX_CONCURRENCY = 16;

interface Entry {
  storage: Storage;
  usedAt: number;
}

export class StorageCache {
  /** In least-recently-used order (a Map iterates in insertion order; a hit re-inserts). */
  private readonly byKey = new Map<string, Entry>();
  private readonly max: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private sweptAt: number;

  constructor(
    /** Opens a storage (default: the engine's openStorage, shared clients). */
    private readonly open: (uri: string, s: S3Settings) => Storage = (uri, s) => openStorage(uri, { ...s, maxConcurrency: STORAGE_MAX_CONCURRENCY }),
    o: StorageCacheOptions = {},
  ) {
    this.max = o.max ?? 4096;
    this.idleMs = o.idleMs ?? 5 * 60_000;
    this.now = o.now ?? Date.now;
    this.sweptAt = this.now();
  }

  get(uri: string, s: S3Settings): Storage {
    const now = this.now();
    // The secret is part of the key (hashed, never kept in clear here) so a rotated Secret gets a new storage.
    const secret = createHash('sha256').update(s.credentials.secretAccessKey).digest('hex').slice(0, 16);
    const key = [uri, s.endpoint ?? '', s.region, s.forcePathStyle, s.credentials.accessKeyId, secret].join('\n');
    let e = this.byKey.get(key);
    if (e) this.byKey.delete(key);
    else e = { storage: this.open(uri, s), usedAt: now };
    e.usedAt = now;
    this.byKey.set(key, e);
    while (this.byKey.size > this.max) this.drop(this.byKey.keys().next().value!);
    // Walking every entry costs O(n): a few times per idle period is enough.
    if (now - this.sweptAt >= this.idleMs / 4) this.closeIdle(now);
    return e.storage;
  }

  /** Storages held (for tests and metrics). */
  get size(): number {
    return this.byKey.size;
  }

  /** Closes every storage (operator shutdown). The cache stays usable. */
  close(): void {
    for (const key of [...this.byKey.keys()]) this.drop(key);
  }

  private closeIdle(now: number): void {
    this.sweptAt = now;
    // LRU order: the idle ones come first.
    for (const [key, e] of this.byKey) {
      if (now - e.usedAt < this.idleMs) break;
      this.drop(key);
    }
  }

  private drop(key: string): void {
    const e = this.byKey.get(key);
    this.byKey.delete(key);
    e?.storage.close?.();
  }
}
