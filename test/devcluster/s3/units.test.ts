// Table-driven tests of the embedded S3 server's pure parts (ranges, conditions, routes, keys, XML,
// aws-chunked framing, SigV4) and a property test of listing order and paging against a reference
// model of S3's ListObjectsV2, on a real folder.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { decodeAwsChunked } from '../../../devcluster/src/s3/awsChunked.js';
import { crc32c } from '../../../devcluster/src/s3/checksums.js';
import { S3Error } from '../../../devcluster/src/s3/errors.js';
import { routeOf, type Route } from '../../../devcluster/src/s3/fastPath.js';
import { compareKeys, unstorableKeyReason } from '../../../devcluster/src/s3/layout.js';
import { decodeContinuationToken, encodeContinuationToken, listPage } from '../../../devcluster/src/s3/listing.js';
import { ObjectStore } from '../../../devcluster/src/s3/objectStore.js';
import { evaluateConditions, isUsableBucketName, parseRange, parseTarget, storedMetadata, type RangeOutcome } from '../../../devcluster/src/s3/requests.js';
import { SigV4Verifier } from '../../../devcluster/src/s3/sigv4.js';
import { escapeXml, parseDeleteRequest } from '../../../devcluster/src/s3/xml.js';
import { tempDir } from '../../helpers/paths.js';

function s3ErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
  return 'no error';
}

describe('byte ranges (S3 semantics)', () => {
  const cases: [string, string | undefined, number, RangeOutcome][] = [
    ['no header', undefined, 10, { kind: 'whole' }],
    ['first byte (s3rver answered the whole object)', 'bytes=0-0', 10, { kind: 'range', start: 0, end: 0 }],
    ['inner range', 'bytes=2-5', 10, { kind: 'range', start: 2, end: 5 }],
    ['end past the object is clamped', 'bytes=5-100', 10, { kind: 'range', start: 5, end: 9 }],
    ['open end', 'bytes=7-', 10, { kind: 'range', start: 7, end: 9 }],
    ['suffix', 'bytes=-3', 10, { kind: 'range', start: 7, end: 9 }],
    ['suffix longer than the object', 'bytes=-30', 10, { kind: 'range', start: 0, end: 9 }],
    ['start at the end', 'bytes=10-20', 10, { kind: 'unsatisfiable' }],
    ['zero-length suffix', 'bytes=-0', 10, { kind: 'unsatisfiable' }],
    ['any range of an empty object', 'bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['reversed range is ignored', 'bytes=5-2', 10, { kind: 'whole' }],
    ['several ranges are ignored', 'bytes=0-1,3-4', 10, { kind: 'whole' }],
    ['other units are ignored', 'items=0-1', 10, { kind: 'whole' }],
    ['garbage is ignored', 'bytes=x-y', 10, { kind: 'whole' }],
  ];
  for (const [name, header, size, want] of cases) test(name, () => assert.deepEqual(parseRange(header, size), want));
});

describe('conditional requests (RFC 9110 order, seconds precision)', () => {
  const md5 = '0123456789abcdef0123456789abcdef';
  const modified = new Date('2024-05-01T10:00:00.700Z');
  const before = 'Wed, 01 May 2024 09:59:59 GMT';
  const same = 'Wed, 01 May 2024 10:00:00 GMT';
  const cases: [string, Parameters<typeof evaluateConditions>[0], ReturnType<typeof evaluateConditions>][] = [
    ['none', {}, 'proceed'],
    ['If-Match hit (quoted)', { ifMatch: `"${md5}"` }, 'proceed'],
    ['If-Match in a list', { ifMatch: `"x", "${md5}"` }, 'proceed'],
    ['If-Match *', { ifMatch: '*' }, 'proceed'],
    ['If-Match miss', { ifMatch: '"other"' }, 'precondition-failed'],
    ['If-None-Match hit', { ifNoneMatch: `"${md5}"` }, 'not-modified'],
    ['If-None-Match weak hit', { ifNoneMatch: `W/"${md5}"` }, 'not-modified'],
    ['If-None-Match miss', { ifNoneMatch: '"other"' }, 'proceed'],
    ['If-Modified-Since same second', { ifModifiedSince: same }, 'not-modified'],
    ['If-Modified-Since earlier', { ifModifiedSince: before }, 'proceed'],
    ['If-Unmodified-Since earlier', { ifUnmodifiedSince: before }, 'precondition-failed'],
    ['If-Unmodified-Since same second', { ifUnmodifiedSince: same }, 'proceed'],
    ['If-Match true wins over If-Unmodified-Since false', { ifMatch: `"${md5}"`, ifUnmodifiedSince: before }, 'proceed'],
    ['If-None-Match miss wins over If-Modified-Since', { ifNoneMatch: '"other"', ifModifiedSince: same }, 'proceed'],
    ['unparseable date is ignored', { ifModifiedSince: 'yesterday' }, 'proceed'],
  ];
  for (const [name, headers, want] of cases) test(name, () => assert.equal(evaluateConditions(headers, md5, modified), want));
});

describe('routes: what the fast path answers itself', () => {
  const none = new Map<string, string>();
  const cases: [string, string, string, string[], Map<string, string>, Record<string, string>, Route | null][] = [
    ['PutObject', 'PUT', 'k', [], none, {}, 'putObject'],
    ['CopyObject goes to s3rver', 'PUT', 'k', [], none, { 'x-amz-copy-source': '/b/x' }, null],
    ['UploadPart goes to s3rver', 'PUT', 'k', ['partNumber', 'uploadId'], none, {}, null],
    ['GetObject', 'GET', 'k', [], none, {}, 'getObject'],
    ['HeadObject', 'HEAD', 'k', [], none, {}, 'getObject'],
    ['response-* overrides go to s3rver', 'GET', 'k', ['response-content-type'], none, {}, null],
    ['GetObjectTagging goes to s3rver', 'GET', 'k', ['tagging'], none, {}, null],
    ['DeleteObject', 'DELETE', 'k', [], none, {}, 'deleteObject'],
    ['AbortMultipartUpload', 'DELETE', 'k', ['uploadId'], none, {}, 'abortMultipartUpload'],
    ['CompleteMultipartUpload goes to s3rver', 'POST', 'k', ['uploadId'], none, {}, null],
    ['ListObjectsV2', 'GET', '', ['list-type', 'prefix', 'max-keys'], new Map([['list-type', '2']]), {}, 'listObjectsV2'],
    ['ListObjects v1 goes to s3rver', 'GET', '', ['prefix'], none, {}, null],
    ['GetBucketLocation goes to s3rver', 'GET', '', ['location'], none, {}, null],
    ['DeleteObjects', 'POST', '', ['delete'], none, {}, 'deleteObjects'],
    ['HeadBucket', 'HEAD', '', [], none, {}, 'headBucket'],
    ['CreateBucket goes to s3rver', 'PUT', '', [], none, {}, null],
  ];
  for (const [name, method, key, names, query, headers, want] of cases) test(name, () => assert.equal(routeOf(method, key, names, query, headers), want));
});

describe('keys and paths', () => {
  const storable: [string, boolean][] = [
    ['a/b/c.json', true],
    ['a/', true],
    ['x/..', true], // the last segment is a file name, not a folder
    ['a//b', false],
    ['/a', false],
    ['a/../b', false],
    ['./a', false],
    ['', false],
    ['a\0b', false],
  ];
  for (const [key, ok] of storable) test(`storable ${JSON.stringify(key)}: ${ok}`, () => assert.equal(unstorableKeyReason(key) === null, ok));

  const buckets: [string, boolean][] = [
    ['lake', true],
    ['my-lake.2024', true],
    ['..', false],
    ['a..b', false],
    ['.hidden', false],
    ['a/b', false],
    ['', false],
  ];
  for (const [name, ok] of buckets) test(`bucket name ${JSON.stringify(name)} usable: ${ok}`, () => assert.equal(isUsableBucketName(name), ok));

  test('path-style targets are percent-decoded once; + stays +', () => {
    assert.deepEqual(parseTarget('/bkt/a%20b/c%2Bd+e'), { bucket: 'bkt', key: 'a b/c+d+e' });
    assert.deepEqual(parseTarget('/bkt/'), { bucket: 'bkt', key: '' });
    assert.deepEqual(parseTarget('/bkt'), { bucket: 'bkt', key: '' });
    assert.deepEqual(parseTarget('/'), { bucket: '', key: '' });
    assert.equal(s3ErrorCode(() => parseTarget('/bkt/%E0%A4')), 'InvalidURI');
  });

  test('key order is UTF-8 byte order, surrogate pairs included', () => {
    const keys = ['a', 'a b', 'a-b', 'a/', 'a/b', 'a0', 'Z', 'é', 'ｱ', '😀', '\u{FFFF}', '\u{10000}', 'k b', 'k'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...keys].sort(compareKeys), byBytes);
  });

  test('stored metadata: the headers s3rver keeps, aws-chunked removed, bad storage class refused', () => {
    assert.deepEqual(
      storedMetadata({ 'content-type': 'text/csv', 'content-encoding': 'aws-chunked,gzip', 'x-amz-meta-a': '1', 'content-length': '5', authorization: 'x', 'cache-control': 'no-cache' }),
      { 'content-type': 'text/csv', 'content-encoding': 'gzip', 'x-amz-meta-a': '1', 'cache-control': 'no-cache' },
    );
    assert.deepEqual(storedMetadata({ 'content-encoding': 'aws-chunked' }), {});
    assert.equal(s3ErrorCode(() => storedMetadata({ 'x-amz-storage-class': 'CHEAP' })), 'InvalidStorageClass');
  });

  test('continuation tokens are bound to their bucket', () => {
    const t = encodeContinuationToken('bkt', 'a/é\nb');
    assert.equal(decodeContinuationToken('bkt', t), 'a/é\nb');
    assert.equal(decodeContinuationToken('other', t), null);
    assert.equal(decodeContinuationToken('bkt', 'garbage'), null);
  });
});

describe('XML', () => {
  test('escaping keeps control characters as references (CR survives parsing)', () => {
    assert.equal(escapeXml('a&<>"\'\r\n\tb'), 'a&amp;&lt;&gt;&quot;&apos;&#xD;&#xA;&#x9;b');
  });
  const deleteCases: [string, string, { keys: string[]; quiet: boolean } | string][] = [
    ['SDK body', '<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;&lt;&gt;&quot;&apos;</Key></Object><Object><Key>x&#x0D;y</Key></Object><Quiet>true</Quiet></Delete>', { keys: ['a&<>"\'', 'x\ry'], quiet: true }],
    ['CDATA and comments, not quiet', '<Delete><!-- c --><Object><Key><![CDATA[a<b&c]]></Key><VersionId>v</VersionId></Object></Delete>', { keys: ['a<b&c'], quiet: false }],
    ['unicode reference', '<Delete><Object><Key>&#128512;/&#xe9;</Key></Object></Delete>', { keys: ['😀/é'], quiet: false }],
    ['no objects', '<Delete><Quiet>true</Quiet></Delete>', 'MalformedXML'],
    ['object without key', '<Delete><Object></Object></Delete>', 'MalformedXML'],
    ['wrong root', '<Remove><Object><Key>a</Key></Object></Remove>', 'MalformedXML'],
    ['unclosed', '<Delete><Object><Key>a</Key></Object>', 'MalformedXML'],
    ['mismatched tags', '<Delete><Object><Key>a</Object></Key></Delete>', 'MalformedXML'],
    ['DTDs are refused', '<!DOCTYPE d [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key></Object></Delete>', 'MalformedXML'],
    ['trailing garbage', '<Delete><Object><Key>a</Key></Object></Delete>junk', 'MalformedXML'],
    ['too many objects', `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`, 'MalformedXML'],
  ];
  for (const [name, xml, want] of deleteCases) {
    test(`DeleteObjects body: ${name}`, () => {
      if (typeof want === 'string') assert.equal(s3ErrorCode(() => parseDeleteRequest(xml)), want);
      else assert.deepEqual(parseDeleteRequest(xml), want);
    });
  }
});

describe('aws-chunked bodies', () => {
  async function decode(body: string, chunkSize: number): Promise<{ data: string; trailers: Record<string, string> } | string> {
    const bytes = Buffer.from(body, 'latin1');
    async function* source() {
      for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
    }
    const trailers = new Map<string, string>();
    const parts: Buffer[] = [];
    try {
      for await (const p of decodeAwsChunked(source(), trailers)) parts.push(p);
    } catch (err) {
      if (err instanceof S3Error) return err.code;
      throw err;
    }
    return { data: Buffer.concat(parts).toString('latin1'), trailers: Object.fromEntries(trailers) };
  }
  const cases: [string, string, { data: string; trailers: Record<string, string> } | string][] = [
    ['unsigned with a checksum trailer', '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n', { data: 'hello world', trailers: { 'x-amz-checksum-crc32': 'DUoRhQ==' } }],
    ['signed chunks', `5;chunk-signature=${'a'.repeat(64)}\r\nhello\r\n0;chunk-signature=${'b'.repeat(64)}\r\n\r\n`, { data: 'hello', trailers: {} }],
    ['empty body', '0\r\n\r\n', { data: '', trailers: {} }],
    ['ends after the last chunk', '3\r\nabc\r\n0\r\n', { data: 'abc', trailers: {} }],
    ['binary data with CRLF inside', '4\r\n\r\n\r\n\r\n0\r\n\r\n', { data: '\r\n\r\n', trailers: {} }],
    ['cut short', '5\r\nhel', 'IncompleteBody'],
    ['chunk longer than declared', '2\r\nabc\r\n0\r\n\r\n', 'InvalidRequest'],
    ['bad size', 'zz\r\nab\r\n0\r\n\r\n', 'InvalidRequest'],
    ['data after the end', '0\r\n\r\nextra', 'InvalidRequest'],
  ];
  for (const [name, body, want] of cases) {
    test(name, async () => {
      // Every way of cutting the body into network chunks gives the same result.
      for (const size of [1, 2, 3, 7, 1000]) assert.deepEqual(await decode(body, size), want, `chunk size ${size}`);
    });
  }
  test('CRC-32C matches the RFC 3720 check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.from('56789'), crc32c(Buffer.from('1234'))), 0xe3069283);
  });
});

describe('SigV4 verification', () => {
  // AWS's published example (S3 API reference, "Signature Calculations for the Authorization Header").
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const example = {
    method: 'GET',
    rawPath: '/test.txt',
    rawQuery: '',
    rawHeaders: [
      'Host', 'examplebucket.s3.amazonaws.com',
      'Range', 'bytes=0-9',
      'x-amz-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'x-amz-date', '20130524T000000Z',
      'Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    ],
  };
  const at = (iso: string) => () => Date.parse(iso);
  const verifier = (now = at('2013-05-24T00:05:00Z'), creds: [string, string][] = [['AKIAIOSFODNN7EXAMPLE', secret]]) => new SigV4Verifier(new Map(creds), now);
  const withHeader = (name: string, value: string) => ({ ...example, rawHeaders: example.rawHeaders.map((v, i, all) => (i % 2 === 1 && all[i - 1] === name ? value : v)) });

  const cases: [string, () => unknown, string][] = [
    ['the published example verifies', () => verifier().verify(example), 'v4'],
    ['a changed signed header', () => verifier().verify(withHeader('Range', 'bytes=0-10')), 'SignatureDoesNotMatch'],
    ['a changed path', () => verifier().verify({ ...example, rawPath: '/test.txt2' }), 'SignatureDoesNotMatch'],
    ['an added query parameter', () => verifier().verify({ ...example, rawQuery: 'acl' }), 'SignatureDoesNotMatch'],
    ['another secret', () => verifier(undefined, [['AKIAIOSFODNN7EXAMPLE', 'nope']]).verify(example), 'SignatureDoesNotMatch'],
    ['an unknown access key', () => verifier(undefined, [['OTHER', secret]]).verify(example), 'InvalidAccessKeyId'],
    ['16 minutes of clock skew', () => verifier(at('2013-05-24T00:16:01Z')).verify(example), 'RequestTimeTooSkewed'],
    ['no payload hash', () => verifier().verify({ ...example, rawHeaders: example.rawHeaders.filter((_, i, all) => all[i - (i % 2)] !== 'x-amz-content-sha256') }), 'InvalidRequest'],
    ['malformed header', () => verifier().verify(withHeader('Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request')), 'AuthorizationHeaderMalformed'],
    ['scope date differs from x-amz-date', () => verifier(at('2013-05-25T00:00:30Z')).verify(withHeader('x-amz-date', '20130525T000000Z')), 'AuthorizationHeaderMalformed'],
    ['anonymous', () => verifier().verify({ ...example, rawHeaders: ['Host', 'x'] }), 'anonymous'],
    ['V2 signatures are not V4 (fastPath refuses them)', () => verifier().verify(withHeader('Authorization', 'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=')), 'other'],
  ];
  for (const [name, run, want] of cases) {
    test(name, () => {
      let got: string;
      try {
        got = (run() as { kind: string }).kind;
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        got = err.code;
      }
      assert.equal(got, want);
    });
  }
  test('the error shows the string to sign and never the secret', () => {
    try {
      verifier().verify(withHeader('Range', 'bytes=0-10'));
      assert.fail('verified a tampered request');
    } catch (err) {
      assert.ok(err instanceof S3Error);
      assert.match(String(err.detail.StringToSign), /^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
      assert.ok(!JSON.stringify(err.detail).includes(secret));
    }
  });
});

describe('listing: order and paging against a model of S3', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

  /** ListObjectsV2 over a sorted key list, as S3 documents it. */
  function model(keys: string[], prefix: string, delimiter: string, startAfter: string, maxKeys: number) {
    const items: { key?: string; prefix?: string }[] = [];
    let lastPrefix: string | undefined;
    for (const k of keys) {
      if (!k.startsWith(prefix) || utf8(k, startAfter) <= 0) continue;
      const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const p = k.slice(0, at + delimiter.length);
        if (p === lastPrefix || utf8(p, startAfter) <= 0) continue;
        lastPrefix = p;
        items.push({ prefix: p });
      } else items.push({ key: k });
    }
    return { items: items.slice(0, maxKeys), isTruncated: items.length > maxKeys };
  }

  // A tiny deterministic generator (no Math.random: a failure must reproduce).
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['a', 'b', ' ', '-', '0', 'é', 'ｱ', '😀', '.', '/'];
  const randomKey = () => {
    for (;;) {
      const k = Array.from({ length: 1 + rand(6) }, () => alphabet[rand(alphabet.length)]).join('');
      if (unstorableKeyReason(k) === null) return k;
    }
  };

  test('40 random key sets, every prefix/delimiter/page size, paged to the end', async () => {
    for (let trial = 0; trial < 40; trial++) {
      const dir = tempDir('slake-s3-list-');
      dirs.push(dir);
      const store = new ObjectStore(dir);
      const { mkdirSync } = await import('node:fs');
      mkdirSync(`${dir}/bkt`);
      const keys = [...new Set(Array.from({ length: 5 + rand(40) }, randomKey))].sort(utf8);
      for (const k of keys) await store.put('bkt', k, { body: Buffer.from(k), metadata: {} });
      for (const [prefix, delimiter] of [['', ''], ['', '/'], ['a', ''], ['a', '/'], ['a/', '/'], ['', 'b'], [keys[0]!.slice(0, 2), '/']] as [string, string][]) {
        const maxKeys = 1 + rand(5);
        let startAfter = '';
        const got: string[] = [];
        for (let pages = 0; ; pages++) {
          assert.ok(pages < 200, 'paging does not end');
          const page = await listPage(store, 'bkt', { prefix, delimiter, startAfter, maxKeys });
          const want = model(keys, prefix, delimiter, startAfter, maxKeys);
          const items: { key?: string; prefix?: string }[] = [...page.objects.map((o) => ({ key: o.key })), ...page.commonPrefixes.map((p) => ({ prefix: p }))];
          items.sort((x, y) => utf8(x.key ?? x.prefix!, y.key ?? y.prefix!));
          assert.deepEqual(items, want.items, `trial ${trial} keys ${JSON.stringify(keys)} prefix ${JSON.stringify(prefix)} delimiter ${JSON.stringify(delimiter)} after ${JSON.stringify(startAfter)}`);
          assert.equal(page.isTruncated, want.isTruncated);
          for (const o of page.objects) assert.equal(o.version.size, Buffer.byteLength(o.key));
          got.push(...items.map((i) => i.key ?? i.prefix!));
          if (!page.isTruncated) break;
          startAfter = page.last!;
        }
        assert.deepEqual(got, model(keys, prefix, delimiter, '', Infinity).items.map((i) => i.key ?? i.prefix!));
      }
    }
  });
});
