// What is committed at an output root (for `sparkify-lake inspect` and the operator's status): the
// current pointer and its manifest, plus the runs present under _lake/runs/.
import type { Storage } from '../storage/storage.js';
import { lakeLayout } from '../run/layout.js';
import { readJsonIfExists } from '../run/documents.js';
import type { CurrentPointer, Manifest } from '../run/types.js';

export interface LakeStatus {
  current: CurrentPointer;
  manifest: Manifest;
}

/** The committed lake, or null when nothing was ever committed at this output root. */
export async function readLakeStatus(out: Storage): Promise<LakeStatus | null> {
  const current = await readJsonIfExists<CurrentPointer>(out, lakeLayout.current());
  if (!current) return null;
  const manifest = await readJsonIfExists<Manifest>(out, current.manifest);
  if (!manifest) throw new Error(`${out.root}${lakeLayout.current()} points to ${current.manifest}, which does not exist: the lake's metadata was damaged`);
  return { current, manifest };
}
