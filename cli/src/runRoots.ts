// `run`'s roots must not nest: an output inside an input folder (`--out D` with `--songs D/song_data`)
// would be read back as raw data by the next run. The rule is the engine's pure findOverlap; here
// only the side effect of resolving local paths as the file system sees them (symbolic links).
import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseStorageUri, type StorageLocation } from '../../job-runner/src/storage/uri.js';
import { findOverlap, overlapMessage } from '../../job-runner/src/storage/overlap.js';

/** Throws an Error naming both URIs when two of the roots nest (the caller exits 2). */
export function refuseOverlappingRoots(out: string, songs: string, logs: string): void {
  const named = [
    { name: '--out', uri: out, output: true },
    { name: '--songs', uri: songs },
    { name: '--logs', uri: logs },
  ].map((r) => ({ ...r, location: resolveLinks(parseStorageUri(r.uri)) }));
  const overlap = findOverlap(named);
  if (overlap) throw new Error(overlapMessage(overlap));
}

/** A local root with its deepest existing folder replaced by its real path (the rest may not exist yet). */
function resolveLinks(loc: StorageLocation): StorageLocation {
  if (loc.kind !== 'local') return loc;
  const rest: string[] = [];
  for (let p = loc.dir.replace(/\/+$/, '') || '/'; ; p = dirname(p)) {
    try {
      const real = join(realpathSync(p), ...rest.reverse());
      const dir = real.endsWith('/') ? real : real + '/';
      return { kind: 'local', dir, root: dir };
    } catch {
      if (dirname(p) === p) return loc;
      rest.push(basename(p));
    }
  }
}
