// Well-known paths for tests. Compiled tests live in dist/test/helpers/, three levels below the repo.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
/**
 * The real Udacity sample, read-only, never copied into the repo: `../shared/data/udacity` next to
 * the checkout, or wherever SPARKIFY_UDACITY_DATA points (a checkout elsewhere, e.g. a copy in /tmp).
 */
export const udacityDir = resolve(process.env.SPARKIFY_UDACITY_DATA ?? resolve(repoRoot, '..', 'shared', 'data', 'udacity'));
export const udacitySongs = join(udacityDir, 'song_data');
export const udacityLogs = join(udacityDir, 'log_data');
export const cliBin = join(repoRoot, 'bin', 'sparkify-lake.js');
export const kubeToolsBin = join(repoRoot, '.cache', 'kube-tools', 'bin');

/** A fresh temporary folder for one test. */
export function tempDir(prefix = 'slake-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
