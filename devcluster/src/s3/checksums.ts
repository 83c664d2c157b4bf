// Digests of an uploaded body, computed while it is written: MD5 always (the ETag), and whatever
// the request asked S3 to verify: x-amz-content-sha256 (hex), Content-MD5 (base64) and the flexible
// checksums x-amz-checksum-crc32 / crc32c / sha1 / sha256 (base64). CRC64NVME is accepted but not
// verified (no implementation here).
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type ChecksumName = 'crc32' | 'crc32c' | 'sha1' | 'sha256';
export const CHECKSUM_NAMES: readonly ChecksumName[] = ['crc32', 'crc32c', 'sha1', 'sha256'];

/** What to compute besides MD5. */
export interface DigestRequest {
  sha256Hex?: boolean;
  checksums?: readonly ChecksumName[];
}

export interface BodyDigests {
  size: number;
  md5Hex: string;
  md5Base64: string;
  sha256Hex?: string;
  /** base64 of the big-endian value (CRCs) or of the digest, as the x-amz-checksum-* headers carry it */
  checksums: Partial<Record<ChecksumName, string>>;
}

const CRC32C_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32C (Castagnoli), continuing from `crc` (0 to start), as an unsigned 32-bit value. */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function crcBase64(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}

/** Feeds chunks to every requested digest. */
export class BodyHasher {
  private readonly md5 = createHash('md5');
  private readonly sha256?: Hash;
  private readonly hashes = new Map<'sha1' | 'sha256', Hash>();
  private crc32Value?: number;
  private crc32cValue?: number;
  private size = 0;

  constructor(private readonly request: DigestRequest = {}) {
    const checksums = request.checksums ?? [];
    if (request.sha256Hex || checksums.includes('sha256')) this.sha256 = createHash('sha256');
    if (checksums.includes('sha1')) this.hashes.set('sha1', createHash('sha1'));
    if (checksums.includes('crc32')) this.crc32Value = 0;
    if (checksums.includes('crc32c')) this.crc32cValue = 0;
  }

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    for (const h of this.hashes.values()) h.update(chunk);
    if (this.crc32Value !== undefined) this.crc32Value = crc32(chunk, this.crc32Value);
    if (this.crc32cValue !== undefined) this.crc32cValue = crc32c(chunk, this.crc32cValue);
  }

  digest(): BodyDigests {
    const md5 = this.md5.digest();
    const sha256 = this.sha256?.digest();
    const checksums: BodyDigests['checksums'] = {};
    const wanted = this.request.checksums ?? [];
    if (sha256 && wanted.includes('sha256')) checksums.sha256 = sha256.toString('base64');
    const sha1 = this.hashes.get('sha1');
    if (sha1) checksums.sha1 = sha1.digest('base64');
    if (this.crc32Value !== undefined) checksums.crc32 = crcBase64(this.crc32Value);
    if (this.crc32cValue !== undefined) checksums.crc32c = crcBase64(this.crc32cValue);
    return {
      size: this.size,
      md5Hex: md5.toString('hex'),
      md5Base64: md5.toString('base64'),
      ...(sha256 && this.request.sha256Hex ? { sha256Hex: sha256.toString('hex') } : {}),
      checksums,
    };
  }
}

/** MD5 of a whole buffer, hex. */
export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
