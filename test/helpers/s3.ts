// A real S3 server for tests: s3rver in a child process (see devcluster/src/s3/embeddedS3.ts),
// reached through @aws-sdk/client-s3 exactly as the product reaches AWS.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3 } from '../../devcluster/src/s3/embeddedS3.js';
import { tempDir } from './paths.js';

export interface TestS3 extends EmbeddedS3 {
  client: S3Client;
  createBucket(name: string): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const s3 = await startEmbeddedS3({ directory: tempDir('slake-s3-') });
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
