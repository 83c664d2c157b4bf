// ListObjectsV2, DeleteObjects and HeadBucket, served from the object store and listing.ts.
import { BodyHasher, CHECKSUM_NAMES, type ChecksumName } from './checksums.js';
import { noSuchBucket, S3Error } from './errors.js';
import { decodeContinuationToken, encodeContinuationToken, listPage } from './listing.js';
import { verifyDigests } from './objectHandlers.js';
import type { ObjectStore } from './objectStore.js';
import { header, readBody, sendEmpty, sendXml, type Exchange } from './respond.js';
import { document, elements, escapeXml, parseDeleteRequest } from './xml.js';

/** s3rver's fixed account, so owners look the same whichever implementation answered. */
const OWNER = { ID: '123456789000', DisplayName: 'S3rver' };
const DELETE_CONCURRENCY = 16;

export async function listObjectsV2(x: Exchange, store: ObjectStore): Promise<void> {
  const q = x.query;
  const maxKeysParam = q.get('max-keys');
  let maxKeys = 1000;
  if (maxKeysParam !== undefined) {
    if (!/^-?\d+$/.test(maxKeysParam)) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: maxKeysParam });
    const n = Number(maxKeysParam);
    if (n < 0 || n > 2147483647) throw new S3Error('InvalidArgument', 'Argument maxKeys must be an integer between 0 and 2147483647', { ArgumentName: 'maxKeys', ArgumentValue: maxKeysParam });
    maxKeys = Math.min(1000, n);
  }
  const encodingType = q.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encodingType });
  }
  const token = q.get('continuation-token');
  let startAfter = q.get('start-after') ?? '';
  if (token !== undefined) {
    const decoded = decodeContinuationToken(x.bucket, token);
    if (decoded === null) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    startAfter = decoded;
  }
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const page = await listPage(store, x.bucket, { prefix, delimiter, startAfter, maxKeys });

  const enc = encodingType === 'url' ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;
  const fetchOwner = q.get('fetch-owner') === 'true';
  const contents = page.objects
    .map(
      ({ key, version }) =>
        `<Contents>${elements([
          ['Key', enc(key)],
          ['LastModified', version.lastModified.toISOString()],
          ['ETag', JSON.stringify(version.md5)],
          ['Size', version.size],
          ['StorageClass', version.metadata['x-amz-storage-class'] ?? 'STANDARD'],
        ])}${fetchOwner ? `<Owner>${elements([['ID', OWNER.ID], ['DisplayName', OWNER.DisplayName]])}</Owner>` : ''}</Contents>`,
    )
    .join('');
  const prefixes = page.commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${escapeXml(enc(p))}</Prefix></CommonPrefixes>`).join('');
  const xml = document(
    'ListBucketResult',
    elements([
      ['Name', x.bucket],
      ['Prefix', enc(prefix)],
      ['StartAfter', token === undefined && q.has('start-after') ? enc(startAfter) : undefined],
      ['ContinuationToken', token],
      ['NextContinuationToken', page.isTruncated && page.last !== undefined ? encodeContinuationToken(x.bucket, page.last) : undefined],
      ['KeyCount', page.objects.length + page.commonPrefixes.length],
      ['MaxKeys', maxKeysParam ?? 1000],
      ['Delimiter', delimiter ? enc(delimiter) : undefined],
      ['EncodingType', encodingType],
      ['IsTruncated', page.isTruncated],
    ]) +
      contents +
      prefixes,
  );
  sendXml(x.res, 200, xml);
}

export async function deleteObjects(x: Exchange, store: ObjectStore): Promise<void> {
  const { req } = x;
  const body = await readBody(req, 2 * 1024 * 1024);
  const checksums: Partial<Record<ChecksumName, string>> = {};
  for (const name of CHECKSUM_NAMES) {
    const v = header(req, `x-amz-checksum-${name}`);
    if (v !== undefined) checksums[name] = v;
  }
  const contentMd5 = header(req, 'content-md5');
  // S3 refuses a DeleteObjects whose body is not protected by a digest (it would delete other keys).
  if (contentMd5 === undefined && Object.keys(checksums).length === 0 && header(req, 'x-amz-checksum-crc64nvme') === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const hasher = new BodyHasher({ checksums: Object.keys(checksums) as ChecksumName[] });
  hasher.update(body);
  verifyDigests(hasher.digest(), contentMd5, checksums);
  const request = parseDeleteRequest(body.toString('utf8'));
  if (!(await store.bucketExists(x.bucket))) throw noSuchBucket(x.bucket);

  const results: string[] = new Array(request.keys.length);
  const folders: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(DELETE_CONCURRENCY, request.keys.length) }, async () => {
      while (next < request.keys.length) {
        const i = next++;
        const key = request.keys[i]!;
        try {
          folders.push(store.paths(x.bucket, key).dir);
          await store.delete(x.bucket, key, { keepFolders: true });
          results[i] = request.quiet ? '' : `<Deleted>${elements([['Key', key]])}</Deleted>`;
        } catch (err) {
          const e = err instanceof S3Error ? err : new S3Error('InternalError', 'We encountered an internal error. Please try again.');
          results[i] = `<Error>${elements([['Key', key], ['Code', e.code], ['Message', e.message]])}</Error>`;
        }
      }
    }),
  );
  await store.removeEmptyFolders(x.bucket, folders);
  sendXml(x.res, 200, document('DeleteResult', results.join('')));
}

export async function headBucket(x: Exchange, store: ObjectStore): Promise<void> {
  if (!(await store.bucketExists(x.bucket))) throw noSuchBucket(x.bucket);
  sendEmpty(x.res, 200, { 'x-amz-bucket-region': 'us-east-1' });
}
