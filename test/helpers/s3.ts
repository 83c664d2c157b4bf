// A real S3 server for tests: s3rver 3.7.1 in a child process (see devcluster/src/s3/embeddedS3.ts),
// reached through @aws-sdk/client-s3 exactly as the product reaches AWS.
//
// By default this is the `s3rver` variant — plain s3rver with only its listing order fixed — so the
// engine is checked against an S3 implementation we did not write. The dev cluster's own embedded S3
// (the `fast` variant: our handler in front of s3rver) is tested by test/devcluster/s3/ and used by
// the operator, chart and demo tests. SLAKE_TEST_S3_VARIANT=fast runs these tests against it too.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3 } from '../../devcluster/src/s3/embeddedS3.js';
import { tempDir } from './paths.js';

export interface TestS3 extends EmbeddedS3 {
  client: S3Client;
  createBucket(name: string): Promise<void>;
}

export async function startTestS3(opts: { variant?: 'fast' | 's3rver' } = {}): Promise<TestS3> {
  const variant = opts.variant ?? (process.env.SLAKE_TEST_S3_VARIANT === 'fast' ? 'fast' : 's3rver');
  const s3 = await startEmbeddedS3({ directory: tempDir('slake-s3-'), variant });
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY },
    // s3rver stores streamed uploads with their chunk framing unless checksums are only sent when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    ...s3,
    client,
    async createBucket(name: string) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      await s3.stop();
    },
  };
}

/**
 * Copies every object under `prefix` of `bucket` into `dir` (keys relative to the prefix become
 * paths), so a lake in S3 can be read by DuckDB from a folder. Returns the number of objects.
 */
export async function downloadPrefix(s3: S3Client | { client: S3Client }, bucket: string, prefix: string, dir: string): Promise<number> {
  const client = 'client' in s3 ? s3.client : s3;
  const { ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  let token: string | undefined;
  let count = 0;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const obj of page.Contents ?? []) {
      const rel = obj.Key!.slice(prefix.length).replace(/^\/+/, '');
      if (rel === '' || rel.endsWith('/')) continue;
      if (rel.split('/').some((seg) => seg === '..' || seg === '.')) throw new Error(`refusing to download key ${obj.Key} outside ${dir}`);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: obj.Key }));
      const path = join(dir, ...rel.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await got.Body!.transformToByteArray());
      count++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}
