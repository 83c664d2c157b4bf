// The Udacity sample through S3 (s3rver started by the test, reached with @aws-sdk/client-s3 exactly
// as AWS would be): `sparkify-lake run` reads s3://raw/…, writes s3://lake/…; the tables equal the
// DuckDB reference; behind a proxy answering 10% of requests with 503 SlowDown the files are
// byte-identical; a missing bucket, rejected credentials and an empty input root fail with a message
// a person can act on.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { buildReferenceLake, type ReferenceLake } from '../../helpers/referenceLake.js';
import { assertLakesEqual } from '../../helpers/compareLakes.js';
import { startFlakyS3Proxy, type FlakyS3Proxy } from '../../helpers/flakyS3Proxy.js';
import { downloadPrefix, startTestS3, type TestS3 } from '../../helpers/s3.js';
import { tempDir, udacityDir, udacityLogs, udacitySongs } from '../../helpers/paths.js';
import { assertExactlyCommitted, assertSameFiles, cli, lastJson } from './lakeFiles.js';

let s3: TestS3;
let reference: ReferenceLake;
let proxy: FlakyS3Proxy | undefined;
let firstLake = '';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

before(async () => {
  s3 = await startTestS3();
  await s3.createBucket('raw');
  await s3.createBucket('lake');
  for (const path of files(udacityDir)) {
    const key = relative(udacityDir, path).split('\\').join('/');
    await s3.client.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: readFileSync(path), ContentLength: statSync(path).size }));
  }
  reference = await buildReferenceLake({ songs: udacitySongs, logs: udacityLogs });
});

after(async () => {
  reference?.close();
  await proxy?.close();
  await s3?.stop();
});

async function runInto(prefix: string, endpoint = s3.endpoint) {
  const r = await cli(['run', '--songs', 's3://raw/song_data/', '--logs', 's3://raw/log_data', '--out', `s3://lake/${prefix}`, '--json', '--parallel', '2'], { ...s3.env, AWS_ENDPOINT_URL: endpoint });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(tempDir('slake-s3lake-'), prefix);
  await downloadPrefix(s3, 'lake', `${prefix}/`, dir);
  return { summary: lastJson<{ runId: string; tables: Record<string, { rows: number }> }>(r.stdout), dir };
}

test('s3: the Udacity lake built through S3 equals the DuckDB reference', async () => {
  const { summary, dir } = await runInto('sparkify');
  assert.equal(summary.tables.songplays!.rows, 6820);
  await assertLakesEqual(dir, reference);
  assertExactlyCommitted(dir);
  firstLake = dir;
});

test('s3: with 10% of requests answered 503 SlowDown the files are byte-identical', async () => {
  assert.ok(firstLake, 'needs the first run');
  proxy = await startFlakyS3Proxy(s3.endpoint, { failRate: 0.1, seed: 7, mode: 'slowdown' });
  const { dir } = await runInto('flaky', proxy.endpoint);
  assert.ok(proxy.stats.failed > 10, `only ${proxy.stats.failed} requests failed`);
  assertSameFiles(dir, firstLake);
  assertExactlyCommitted(dir);
});

const errorCases: { name: string; args: string[]; env?: Record<string, string>; want: RegExp }[] = [
  { name: 'a missing output bucket', args: ['--out', 's3://no-such-bucket/lake'], want: /no-such-bucket.*(does not exist|create it)/i },
  { name: 'an empty input root', args: ['--songs', 's3://raw/nothing-here/'], want: /no song input found under s3:\/\/raw\/nothing-here\// },
  { name: 'rejected credentials', args: [], env: { AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY0000' }, want: /credentials/i },
];
for (const c of errorCases) {
  test(`s3: ${c.name} fails with an actionable message`, async () => {
    const args = ['run', '--songs', 's3://raw/song_data/', '--logs', 's3://raw/log_data/', '--out', 's3://lake/errors', ...c.args];
    const r = await cli(args, { ...s3.env, ...c.env });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, c.want);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a user error');
  });
}
