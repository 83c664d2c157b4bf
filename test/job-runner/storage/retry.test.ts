// The pure parts of the S3 path: the backoff schedule, the retry loop under a fake clock, error
// classification, settings resolution, URI parsing and key rules. Table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_POLICY, retryDelay, withRetry, type RetryClock } from '../../../job-runner/src/storage/retry.js';
import { classifyS3Error, CREDENTIALS_FROM_ENV, toStorageError } from '../../../job-runner/src/storage/s3Errors.js';
import { resolveS3Settings } from '../../../job-runner/src/storage/options.js';
import { parseStorageUri } from '../../../job-runner/src/storage/uri.js';
import { compareKeys } from '../../../job-runner/src/storage/keys.js';
import { servedWindow } from '../../../job-runner/src/storage/s3Storage.js';
import { Semaphore } from '../../../job-runner/src/storage/semaphore.js';
import { StorageError } from '../../../job-runner/src/storage/storage.js';

test('retryDelay: full jitter under a capped exponential ceiling', () => {
  const p = DEFAULT_RETRY_POLICY;
  const table: [number, number, number | null][] = [
    [1, 0.999999, 99], [2, 0.5, 100], [3, 1 - 1e-9, 399], [6, 0.5, 1600], [7, 0.5, 2500], [7, 0, 0], [8, 0.5, null], [20, 0.5, null],
  ];
  for (const [retry, r, want] of table) assert.equal(retryDelay(retry, p, r), want, `retry ${retry} random ${r}`);
  // Worst case total wait of the default policy, as documented.
  let worst = 0;
  for (let n = 1; retryDelay(n, p, 0.9999999) !== null; n++) worst += retryDelay(n, p, 0.9999999)!;
  assert.ok(worst > 11_200 && worst <= 11_300, `worst ${worst}`);
});

function fakeClock(random = 0.5): RetryClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  let now = 0;
  return { sleeps, sleep: async (ms) => void (sleeps.push(ms), (now += ms)), random: () => random, now: () => now };
}

test('withRetry: transient errors are retried on schedule, permanent ones are not', async () => {
  const cases: { name: string; failures: ('t' | 'p')[]; want: 'ok' | 'fail'; attempts: number; sleeps: number[] }[] = [
    { name: 'succeeds at once', failures: [], want: 'ok', attempts: 1, sleeps: [] },
    { name: 'two transient failures', failures: ['t', 't'], want: 'ok', attempts: 3, sleeps: [50, 100] },
    { name: 'permanent failure: no retry', failures: ['p'], want: 'fail', attempts: 1, sleeps: [] },
    { name: 'transient then permanent', failures: ['t', 'p'], want: 'fail', attempts: 2, sleeps: [50] },
    { name: 'attempts run out', failures: Array(8).fill('t'), want: 'fail', attempts: 8, sleeps: [50, 100, 200, 400, 800, 1600, 2500] },
  ];
  for (const c of cases) {
    const clock = fakeClock();
    let n = 0;
    let failedWith: { attempts: number; elapsedMs: number } | null = null;
    const result = await withRetry(
      async () => {
        const f = c.failures[n++];
        if (f) throw Object.assign(new Error(f), { transient: f === 't' });
        return 'ok';
      },
      (err) => (err as { transient: boolean }).transient,
      DEFAULT_RETRY_POLICY,
      clock,
      (_err, outcome) => {
        failedWith = outcome;
        return new Error('gave up');
      },
    ).catch(() => 'fail');
    assert.equal(result, c.want, c.name);
    assert.equal(n, c.attempts, c.name);
    assert.deepEqual(clock.sleeps, c.sleeps, c.name);
    if (c.want === 'fail') assert.deepEqual(failedWith, { attempts: c.attempts, elapsedMs: c.sleeps.reduce((a, b) => a + b, 0) }, c.name);
  }
});

const sdk = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const net = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test('classifyS3Error: kinds and what is transient', () => {
  const table: [string, unknown, string, boolean][] = [
    ['503 SlowDown', sdk('SlowDown', 503), 'throttled', true],
    ['429', sdk('TooManyRequests', 429), 'throttled', true],
    ['503 without a code', sdk('Unknown', 503), 'throttled', true],
    ['500 InternalError', sdk('InternalError', 500), 'server', true],
    ['502', sdk('Unknown', 502), 'server', true],
    ['400 RequestTimeout', sdk('RequestTimeout', 400), 'server', true],
    ['connection refused', net('ECONNREFUSED'), 'unreachable', true],
    ['connection reset', net('ECONNRESET'), 'unreachable', true],
    ['happy eyeballs AggregateError', Object.assign(new AggregateError([net('ECONNREFUSED')]), {}), 'unreachable', true],
    ['socket hang up', new Error('socket hang up'), 'unreachable', true],
    ['SDK timeout', Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' }), 'unreachable', true],
    ['NoSuchBucket', sdk('NoSuchBucket', 404), 'no-bucket', false],
    ['NoSuchKey', sdk('NoSuchKey', 404), 'not-found', false],
    ['HEAD 404', sdk('NotFound', 404), 'not-found', false],
    ['InvalidAccessKeyId', sdk('InvalidAccessKeyId', 403), 'access-denied', false],
    ['SignatureDoesNotMatch', sdk('SignatureDoesNotMatch', 403), 'access-denied', false],
    ['AccessDenied', sdk('AccessDenied', 403), 'access-denied', false],
    ['400 InvalidArgument', sdk('InvalidArgument', 400), 'invalid', false],
    ['501 NotImplemented', sdk('NotImplemented', 501), 'invalid', false],
  ];
  for (const [name, err, kind, transient] of table) {
    const f = classifyS3Error(err);
    assert.equal(f.kind, kind, name);
    assert.equal(f.transient, transient, name);
  }
});

test('toStorageError: messages a person can act on', () => {
  const ctx = { root: 's3://lake/out/', bucket: 'lake', endpointLabel: 'http://127.0.0.1:4568', source: 'spec.output' };
  const table: [unknown, RegExp][] = [
    [sdk('NoSuchBucket', 404), /^bucket "lake" does not exist at http:\/\/127\.0\.0\.1:4568 \(create it, or fix spec\.output\)$/],
    [sdk('InvalidAccessKeyId', 403), /^S3 rejected the credentials for s3:\/\/lake\/out\/ \(InvalidAccessKeyId; check AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY or the Secret\)$/],
    [net('ECONNREFUSED'), /^cannot reach S3 endpoint http:\/\/127\.0\.0\.1:4568: connection refused \(read s3:\/\/lake\/out\/k after 8 attempts over 5\.0 s\)$/],
    [sdk('SlowDown', 503), /^S3 kept throttling read s3:\/\/lake\/out\/k \(503 SlowDown\) after 8 attempts over 5\.0 s; lower the concurrency or retry later$/],
    [sdk('InternalError', 500), /^S3 at http:\/\/127\.0\.0\.1:4568 failed to read s3:\/\/lake\/out\/k \(500 InternalError\) after 8 attempts/],
    [sdk('NoSuchKey', 404), /^object s3:\/\/lake\/out\/k does not exist$/],
    // The SDK found no credentials and sent nothing: not "S3 rejected" (that branch used to swallow it).
    [sdk('CredentialsProviderError'), /^no S3 credentials for s3:\/\/lake\/out\/ \(no request was sent\): set AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY or the Secret$/],
    [sdk('AccessDenied', 403), /^S3 denied read on s3:\/\/lake\/out\/k \(403 AccessDenied\): check AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY or the Secret, and that they may access bucket "lake"$/],
  ];
  for (const [err, want] of table) {
    const e = toStorageError(err, 'read', 's3://lake/out/k', ctx, { attempts: 8, elapsedMs: 5000 });
    assert.ok(e instanceof StorageError);
    assert.match(e.message, want);
  }
  const kind = toStorageError(sdk('CredentialsProviderError'), 'read', 's3://lake/out/k', ctx);
  assert.deepEqual([kind.kind, kind.transient], ['access-denied', false]);
});

test('toStorageError: credential hints fit the caller (a Secret in a pod, the environment at a shell)', () => {
  const ctx = { root: 's3://lake/out/', bucket: 'lake', endpointLabel: 'AWS S3 (us-east-1)', credentialsFrom: CREDENTIALS_FROM_ENV };
  const table: [unknown, string][] = [
    [sdk('CredentialsProviderError'), 'no S3 credentials for s3://lake/out/ (no request was sent): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or a profile in ~/.aws/credentials'],
    [sdk('InvalidAccessKeyId', 403), 'S3 rejected the credentials for s3://lake/out/ (InvalidAccessKeyId; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or a profile in ~/.aws/credentials)'],
    [sdk('AccessDenied', 403), 'S3 denied list on s3://lake/out/ (403 AccessDenied): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or a profile in ~/.aws/credentials, and that they may access bucket "lake"'],
  ];
  for (const [err, want] of table) {
    const msg = toStorageError(err, 'list', 's3://lake/out/', ctx).message;
    assert.equal(msg, want);
    assert.doesNotMatch(msg, /Secret/);
  }
});

test('resolveS3Settings: options, then environment, then defaults', () => {
  const table: { name: string; opts: Parameters<typeof resolveS3Settings>[0]; env: Record<string, string>; want: Partial<ReturnType<typeof resolveS3Settings>> | RegExp }[] = [
    { name: 'AWS defaults', opts: {}, env: {}, want: { endpoint: undefined, region: 'us-east-1', forcePathStyle: false, credentials: undefined, maxConcurrency: 16 } },
    { name: 'custom endpoint implies path style', opts: {}, env: { AWS_ENDPOINT_URL: 'http://minio:9000', AWS_REGION: 'eu-west-1' }, want: { endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: true } },
    { name: 'path style can be turned off', opts: {}, env: { AWS_ENDPOINT_URL: 'http://minio:9000', SPARKIFY_S3_FORCE_PATH_STYLE: 'false' }, want: { forcePathStyle: false } },
    { name: 'path style on AWS', opts: {}, env: { SPARKIFY_S3_FORCE_PATH_STYLE: 'true' }, want: { forcePathStyle: true } },
    { name: 'options win over env', opts: { endpoint: 'http://a:1', region: 'r1', forcePathStyle: false, credentials: { accessKeyId: 'i', secretAccessKey: 's' } }, env: { AWS_ENDPOINT_URL: 'http://b:2', AWS_REGION: 'r2', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }, want: { endpoint: 'http://a:1', region: 'r1', forcePathStyle: false, credentials: { accessKeyId: 'i', secretAccessKey: 's' } } },
    { name: 'credentials from env', opts: {}, env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_SESSION_TOKEN: 't' }, want: { credentials: { accessKeyId: 'x', secretAccessKey: 'y', sessionToken: 't' } } },
    { name: 'half the credentials', opts: {}, env: { AWS_ACCESS_KEY_ID: 'x' }, want: /only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set/ },
    { name: 'bad path-style value', opts: {}, env: { SPARKIFY_S3_FORCE_PATH_STYLE: 'maybe' }, want: /SPARKIFY_S3_FORCE_PATH_STYLE="maybe": want true or false/ },
    { name: 'bad endpoint', opts: { endpoint: 'minio:9000' }, env: {}, want: /invalid S3 endpoint "minio:9000"/ },
    { name: 'credentials in the endpoint', opts: { endpoint: 'http://k:s@minio:9000' }, env: {}, want: /credentials do not belong in the URL/ },
    { name: 'tiny parts', opts: { partSize: 1024 }, env: {}, want: /partSize must be at least 5242880/ },
  ];
  for (const c of table) {
    if (c.want instanceof RegExp) {
      assert.throws(() => resolveS3Settings(c.opts, c.env), (err: unknown) => err instanceof StorageError && err.kind === 'invalid' && (c.want as RegExp).test(err.message), c.name);
      continue;
    }
    const got = resolveS3Settings(c.opts, c.env);
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof typeof got], v, `${c.name}: ${k}`);
  }
});

test('parseStorageUri', () => {
  const table: [string, unknown][] = [
    ['s3://lake', { kind: 's3', bucket: 'lake', prefix: '', root: 's3://lake/' }],
    ['s3://lake/', { kind: 's3', bucket: 'lake', prefix: '', root: 's3://lake/' }],
    ['s3://lake/a/b', { kind: 's3', bucket: 'lake', prefix: 'a/b/', root: 's3://lake/a/b/' }],
    ['s3://lake/a/b//', { kind: 's3', bucket: 'lake', prefix: 'a/b/', root: 's3://lake/a/b/' }],
    ['/data/x', { kind: 'local', dir: '/data/x/', root: '/data/x/' }],
    ['rel/dir', { kind: 'local', dir: '/cwd/rel/dir/', root: '/cwd/rel/dir/' }],
    ['file:///data/x/', { kind: 'local', dir: '/data/x/', root: '/data/x/' }],
    ['s3://Bad_Bucket/x', /invalid bucket name "Bad_Bucket"/],
    ['s3://lake/a/../b', /no empty, '\.' or '\.\.' segments/],
    ['s3a://lake/x', /write s3:\/\/bucket\/prefix/],
    ['gs://lake/x', /unsupported storage URI/],
    ['', /empty storage URI/],
  ];
  for (const [uri, want] of table) {
    if (want instanceof RegExp) assert.throws(() => parseStorageUri(uri, '/cwd'), (e: unknown) => e instanceof StorageError && e.kind === 'invalid' && want.test(e.message), uri);
    else assert.deepEqual(parseStorageUri(uri, '/cwd'), want, uri);
  }
});

test('compareKeys is UTF-8 byte order', () => {
  const keys = ['😀', 'ｱ', 'é', 'b', 'a/b', 'a-b', 'a', '', 'A', '\u{10FFFF}', '\uE000'];
  const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...keys].sort(compareKeys), byBytes);
});

test('servedWindow: trims what a server sent beyond the range asked for', () => {
  const table: [number, number | undefined, string | undefined, { skip: number; limit: number }][] = [
    [0, 1, 'bytes 0-0/6', { skip: 0, limit: 1 }],
    [0, 1, 'bytes 0-5/6', { skip: 0, limit: 1 }], // s3rver's answer to bytes=0-0
    [3, 5, undefined, { skip: 3, limit: 2 }], // Range ignored: 200 with the whole object
    [3, undefined, 'bytes 3-9/10', { skip: 0, limit: Infinity }],
  ];
  for (const [start, end, cr, want] of table) assert.deepEqual(servedWindow(start, end, cr), want);
  assert.throws(() => servedWindow(2, 4, 'bytes 3-3/10'));
});

test('Semaphore: at most `limit` holders, first come first served', async () => {
  const sem = new Semaphore(2);
  const order: string[] = [];
  const r1 = await sem.acquire();
  const r2 = await sem.acquire();
  const p3 = sem.acquire().then((r) => (order.push('3'), r));
  const p4 = sem.acquire().then((r) => (order.push('4'), r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  assert.equal(sem.inUse, 2);
  r1();
  r1(); // idempotent
  const r3 = await p3;
  assert.deepEqual(order, ['3']);
  r2();
  const r4 = await p4;
  assert.deepEqual(order, ['3', '4']);
  r3();
  r4();
  assert.equal(sem.inUse, 0);
});
