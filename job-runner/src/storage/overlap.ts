// Whether storage roots nest: an output inside an input (or the reverse) makes the next run read
// the lake back as raw data, and nested song and log roots list the same objects twice. Pure: the
// roots come parsed (parseStorageUri), local ones with symbolic links already resolved by the caller.
//
// Roots are compared on whole segments: s3://raw/logs/ holds s3://raw/logs/2018/ but not
// s3://raw/logs-old/; a bucket holds every prefix in it; S3 and local roots never overlap.
import type { StorageLocation } from './uri.js';

/** A root and the name a person knows it by (`--out`, `spec.source.logs`). */
export interface NamedRoot {
  name: string;
  uri: string;
  location: StorageLocation;
  /** The root written to (the lake); the others are read. */
  output?: boolean;
}

export function rootsOverlap(a: StorageLocation, b: StorageLocation): boolean {
  if (a.kind === 's3' && b.kind === 's3') return a.bucket === b.bucket && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));
  if (a.kind === 'local' && b.kind === 'local') return a.dir.startsWith(b.dir) || b.dir.startsWith(a.dir);
  return false;
}

/** The first pair of roots (in the order given) where one contains the other, or null. */
export function findOverlap(roots: readonly NamedRoot[]): [NamedRoot, NamedRoot] | null {
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      if (rootsOverlap(roots[i]!.location, roots[j]!.location)) return [roots[i]!, roots[j]!];
    }
  }
  return null;
}

/** The message for an overlap found by findOverlap, naming both roots as the person wrote them. */
export function overlapMessage([a, b]: [NamedRoot, NamedRoot]): string {
  const same = a.location.root === b.location.root;
  const how = same ? 'are the same place' : a.location.root.length < b.location.root.length ? `overlap (${a.name} contains ${b.name})` : `overlap (${b.name} contains ${a.name})`;
  const why = a.output || b.output
    ? 'the lake would be written into its input, and the next run would read it back as raw data'
    : 'the same objects would be read as both songs and logs';
  return `${a.name} ${a.uri} and ${b.name} ${b.uri} ${how}: ${why}; point them at separate folders or prefixes`;
}
