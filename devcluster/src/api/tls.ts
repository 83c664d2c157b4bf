// A throwaway CA and serving certificate, made at start-up with node:crypto alone.
//
// Why HTTPS at all: @kubernetes/client-node refuses plain-http servers unless TLS checks are switched
// off, and in-cluster clients (loadFromCluster) always dial https://$KUBERNETES_SERVICE_HOST and verify
// against the CA file next to the pod's token. Node can sign but not build certificates, so the X.509
// structures are encoded here in DER by hand (ECDSA P-256 / SHA-256: accepted by Go's crypto/x509
// (kubectl, helm) and by OpenSSL (Node)).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// ---- DER ----

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, body: Buffer) => tlv(0xa0 + n, body);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const body = b.subarray(i);
  return tlv(0x02, body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [];
    let v = p;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const OID = {
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

const name = (cn: string, org?: string) =>
  seq(...(org ? [set(seq(oid(OID.organization), utf8(org)))] : []), set(seq(oid(OID.commonName), utf8(cn))));

const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write eight 16-bit groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

interface CertSpec {
  subject: Buffer;
  issuer: Buffer;
  publicKeyDer: Buffer;
  signingKey: KeyObject;
  ca: boolean;
  hosts: string[];
  notBefore: Date;
  notAfter: Date;
  subjectKeyId: Buffer;
  authorityKeyId: Buffer;
}

function certificate(spec: CertSpec): string {
  const exts: Buffer[] = [extension(OID.basicConstraints, true, spec.ca ? seq(bool(true)) : seq())];
  // keyUsage bits (RFC 5280): digitalSignature=0, keyEncipherment=2, keyCertSign=5, cRLSign=6.
  exts.push(extension(OID.keyUsage, true, spec.ca ? tlv(0x03, Buffer.from([1, 0x86])) : tlv(0x03, Buffer.from([5, 0xa0]))));
  if (!spec.ca) exts.push(extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))));
  if (spec.hosts.length > 0) {
    const names = spec.hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
    exts.push(extension(OID.subjectAltName, false, seq(...names)));
  }
  exts.push(extension(OID.subjectKeyId, false, octets(spec.subjectKeyId)));
  exts.push(extension(OID.authorityKeyId, false, seq(tlv(0x80, spec.authorityKeyId))));
  const algorithm = seq(oid(OID.ecdsaWithSHA256));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    spec.issuer,
    seq(time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    spec.publicKeyDer,
    explicit(3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, spec.signingKey);
  const der = seq(tbs, algorithm, bits(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

export interface ServingCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A CA valid for ten years and a serving certificate signed by it for `hosts` (DNS names or IPs). */
export function makeServingCertificates(hosts: string[], now = new Date()): ServingCertificates {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leafKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caName = name('devcluster-ca', 'devcluster');
  const caKeyId = randomBytes(20);
  const leafKeyId = randomBytes(20);
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600_000);
  const caPem = certificate({
    subject: caName,
    issuer: caName,
    publicKeyDer: caKeys.publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: caKeys.privateKey,
    ca: true,
    hosts: [],
    notBefore,
    notAfter,
    subjectKeyId: caKeyId,
    authorityKeyId: caKeyId,
  });
  const certPem = certificate({
    subject: name('devcluster-apiserver', 'devcluster'),
    issuer: caName,
    publicKeyDer: leafKeys.publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: caKeys.privateKey,
    ca: false,
    hosts,
    notBefore,
    notAfter,
    subjectKeyId: leafKeyId,
    authorityKeyId: caKeyId,
  });
  // Fail here, loudly, if the hand-made DER is not a certificate OpenSSL accepts.
  const ca = new X509Certificate(caPem);
  if (!new X509Certificate(certPem).verify(ca.publicKey)) throw new Error('devcluster: generated serving certificate does not verify against its CA');
  const keyPem = createPrivateKey(leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { caPem, certPem, keyPem };
}
