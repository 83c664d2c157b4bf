// `devcluster up --s3 DIR --bucket NAME`: buckets made at start, through the S3 API like any client
// would, so a person can `generate --out s3://raw/…` right away without an SDK script of their own.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { parseStorageUri } from '../../job-runner/src/storage/uri.js';

/** Throws with S3's naming rule when `name` is not a bucket name. */
export function checkBucketName(name: string): void {
  if (name.includes('/')) throw new Error(`${JSON.stringify(name)}: a bucket name, not a path (3-63 lowercase letters, digits, '.' or '-')`);
  parseStorageUri(`s3://${name}/`);
}

/** Creates each bucket; one that already exists (a DIR reused from an earlier start) is fine. */
export async function createBuckets(env: { AWS_ENDPOINT_URL: string; AWS_REGION: string; AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string }, buckets: readonly string[]): Promise<void> {
  if (buckets.length === 0) return;
  const client = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    for (const bucket of buckets) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (e) {
        const name = (e as Error).name;
        if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') continue;
        throw new Error(`cannot create bucket ${bucket} at ${env.AWS_ENDPOINT_URL}: ${(e as Error).message}`, { cause: e });
      }
    }
  } finally {
    client.destroy();
  }
}
