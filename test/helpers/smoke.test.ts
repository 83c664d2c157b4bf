// Proves the test harness itself: a real S3 server and the unpacked kubectl/helm binaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestS3 } from './s3.js';
import { helm, kubectl } from './kube.js';

test('s3rver round-trips an object and pages a listing', async () => {
  const s3 = await startTestS3();
  try {
    await s3.createBucket('smoke');
    for (let i = 0; i < 5; i++) await s3.client.send(new PutObjectCommand({ Bucket: 'smoke', Key: `k/${i}`, Body: `v${i}` }));
    const got = await s3.client.send(new GetObjectCommand({ Bucket: 'smoke', Key: 'k/3' }));
    assert.equal(await got.Body!.transformToString(), 'v3');
    const page1 = await s3.client.send(new ListObjectsV2Command({ Bucket: 'smoke', MaxKeys: 2 }));
    assert.equal(page1.KeyCount, 2);
    const page2 = await s3.client.send(new ListObjectsV2Command({ Bucket: 'smoke', MaxKeys: 10, ContinuationToken: page1.NextContinuationToken }));
    assert.deepEqual(page2.Contents?.map((c) => c.Key), ['k/2', 'k/3', 'k/4']);
  } finally {
    await s3.stop();
  }
});

test('s3rver lists in S3 key order and pages without losing keys (patched listObjects)', async () => {
  const s3 = await startTestS3();
  try {
    await s3.createBucket('order');
    const keys = ['a', 'a b', 'a-b', 'a/1', 'a0', 'z/x/y', 'é'];
    for (const k of [...keys].reverse()) await s3.client.send(new PutObjectCommand({ Bucket: 'order', Key: k, Body: 'x' }));
    const got: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: 'order', MaxKeys: 1, ContinuationToken: token }));
      got.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(got, keys);
    const grouped = await s3.client.send(new ListObjectsV2Command({ Bucket: 'order', Delimiter: '/' }));
    assert.deepEqual(grouped.Contents?.map((c) => c.Key), ['a', 'a b', 'a-b', 'a0', 'é']);
    assert.deepEqual(grouped.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'z/']);
  } finally {
    await s3.stop();
  }
});

test('kubectl and helm are the pinned versions', async () => {
  const k = await kubectl('/dev/null', ['version', '--client', '-o', 'json']);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /"gitVersion": "v1\.32\./);
  const h = await helm('/dev/null', ['version', '--short']);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /^v3\.17\./);
});
