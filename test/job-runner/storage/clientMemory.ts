// Memory of an operator-style set of S3 storages: `jobs` lake jobs × 3 roots (songs, logs, out),
// one Secret, each storage making one request (a run document that is not there yet), all held.
// Run as its own process with --expose-gc so the numbers are this and nothing else:
//   node --expose-gc dist/test/job-runner/storage/clientMemory.js <endpoint> shared|per-storage [jobs]
// `per-storage` gives every storage a pool of its own: one S3Client (and agents) per storage, which
// is what S3Storage did before clients were shared. Prints one JSON line.
import { openStorage } from '../../../job-runner/src/storage/open.js';
import { S3ClientPool, sharedS3Clients } from '../../../job-runner/src/storage/s3Clients.js';
import { StorageError, type Storage } from '../../../job-runner/src/storage/storage.js';

export interface ClientMemoryResult {
  mode: 'shared' | 'per-storage';
  storages: number;
  clients: number;
  /** Growth over the baseline (the SDK loaded, as many requests made through one client), MiB. */
  heapMiB: number;
  rssMiB: number;
  /** Growth left after every storage was closed, MiB. */
  heapAfterCloseMiB: number;
  clientsAfterClose: number;
}

const MiB = 1024 * 1024;

async function measure(endpoint: string, mode: 'shared' | 'per-storage', jobs: number): Promise<ClientMemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const opts = { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, maxConcurrency: 16 };
  const missing = async (s: Storage) => {
    try {
      await s.get('_lake/runs/r1/run.json');
    } catch (err) {
      if (!(err instanceof StorageError && err.kind === 'not-found')) throw err;
    }
  };
  // One request each, 16 at a time (the operator's 4 workers do a few each).
  const requestAll = async (list: Storage[]) => {
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < list.length) await missing(list[next++]!);
    }));
  };
  // Baseline: the SDK loaded and the same number of requests made through one client, that client
  // gone; so the heap has already grown to what the requests themselves need, and what is left is
  // the storages and their clients.
  const warm = openStorage('s3://lake/warm/', { ...opts, clients: new S3ClientPool() });
  await requestAll(Array.from({ length: jobs * 3 }, () => warm));
  warm.close?.();
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    return process.memoryUsage();
  };
  const base = await settle();
  const pools: S3ClientPool[] = [];
  const storages: Storage[] = [];
  for (let j = 0; j < jobs; j++) {
    for (const root of ['songs', 'logs', 'out']) {
      const clients = mode === 'per-storage' ? new S3ClientPool() : undefined;
      if (clients) pools.push(clients);
      storages.push(openStorage(`s3://lake/job-${String(j).padStart(4, '0')}/${root}/`, { ...opts, clients }));
    }
  }
  await requestAll(storages);
  const held = await settle();
  const clients = mode === 'shared' ? sharedS3Clients.stats.clients : pools.reduce((n, p) => n + p.stats.clients, 0);
  for (const s of storages) s.close?.();
  const closed = await settle();
  const clientsAfterClose = mode === 'shared' ? sharedS3Clients.stats.clients : pools.reduce((n, p) => n + p.stats.clients, 0);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    mode,
    storages: storages.length,
    clients,
    heapMiB: round((held.heapUsed - base.heapUsed) / MiB),
    rssMiB: round((held.rss - base.rss) / MiB),
    heapAfterCloseMiB: round((closed.heapUsed - base.heapUsed) / MiB),
    clientsAfterClose,
  };
}

const [endpoint, mode, jobs] = process.argv.slice(2);
if (endpoint && (mode === 'shared' || mode === 'per-storage')) {
  const r = await measure(endpoint, mode, Number(jobs ?? 200));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
