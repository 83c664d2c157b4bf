// The full-size Sparkify shape end to end through S3: 14,896 song files (≈10k song partitions) and a
// month of logs like the Udacity sample, generated into the embedded S3 server, then `sparkify-lake
// run` from s3://raw/… to s3://lake/…. Reported: seconds of the run and the objects it wrote per
// second. Spark on a 3-node EMR cluster is reported to take over an hour for this write.
// Two servers: plain s3rver (the yardstick; what the tests use) and the dev cluster's embedded
// S3 (s3rver behind a fast path for object reads and writes, docs/devcluster.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3Options } from '../devcluster/src/s3/embeddedS3.js';
import { openStorage } from '../job-runner/src/index.js';
import { generate, type GenerateOptions } from '../generator/src/index.js';
import { runOurs, type ContenderResult } from './contenders.js';

export const FULL_SIZE: GenerateOptions = { songs: 14_896, artists: 4000, events: 8056, users: 97, startDate: '2018-11-01', days: 30, seed: 1 };

export type S3Variant = NonNullable<EmbeddedS3Options['variant']>;

export interface FullSizeResult {
  variant: S3Variant;
  songFiles: number;
  logFiles: number;
  uploadSeconds: number;
  /** s3rver's own pace on this machine: GETs of every raw object, 16 at a time (a floor for any reader). */
  getAllSeconds: number;
  run: ContenderResult;
  objectsWritten: number;
  objectsPerSecond: number;
  songPartitions: number | null;
}

async function countObjects(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    n += page.KeyCount ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return n;
}

export async function fullSize(opts: { variant: S3Variant; parallel?: number; log: (line: string) => void }): Promise<FullSizeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'slake-bench-s3-'));
  const s3 = await startEmbeddedS3({ directory: dir, variant: opts.variant });
  const credentials = { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY };
  const client = new S3Client({ endpoint: s3.endpoint, region: s3.env.AWS_REGION, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    for (const bucket of ['raw', 'lake']) await client.send(new CreateBucketCommand({ Bucket: bucket }));
    opts.log(`full size (${opts.variant}): generating ${FULL_SIZE.songs.toLocaleString('en-US')} song files and ${FULL_SIZE.events.toLocaleString('en-US')} events into ${s3.endpoint}/raw/sparkify/ …`);
    const raw = openStorage('s3://raw/sparkify/', { endpoint: s3.endpoint, region: s3.env.AWS_REGION, forcePathStyle: true, credentials });
    const t0 = performance.now();
    const summary = await generate(raw, FULL_SIZE);
    const uploadSeconds = (performance.now() - t0) / 1000;
    const keys: string[] = [];
    for await (const o of raw.list()) keys.push(o.key);
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < keys.length) await raw.get(keys[next++]!);
    }));
    const getAllSeconds = (performance.now() - t1) / 1000;
    opts.log(`full size (${opts.variant}): raw data in S3 after ${uploadSeconds.toFixed(1)} s; GET of all ${keys.length} objects ${getAllSeconds.toFixed(1)} s; running sparkify-lake run …`);
    const before = await countObjects(client, 'lake', 'sparkify/');
    const run = await runOurs({
      songs: 's3://raw/sparkify/song_data/',
      logs: 's3://raw/sparkify/log_data/',
      out: 's3://lake/sparkify/',
      parallel: opts.parallel,
      env: { ...process.env, ...s3.env, SPARKIFY_S3_FORCE_PATH_STYLE: 'true' },
    });
    // Objects the run left in the lake (tables, _SUCCESS markers, manifest, plans, receipts); staged
    // data it wrote and deleted again is not counted, so the rate is a lower bound.
    const objectsWritten = (await countObjects(client, 'lake', 'sparkify/')) - before;
    const details = run.details as { tables?: { songs?: { partitions?: number } } } | undefined;
    return {
      variant: opts.variant,
      songFiles: summary.songs.files,
      logFiles: summary.logs.files,
      uploadSeconds,
      getAllSeconds,
      run,
      objectsWritten,
      objectsPerSecond: run.ok ? objectsWritten / run.seconds : 0,
      songPartitions: details?.tables?.songs?.partitions ?? null,
    };
  } finally {
    client.destroy();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
