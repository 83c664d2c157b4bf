// The dev cluster's image map for the product's own images: the composition root decides which local
// command stands for each image (the dev cluster itself knows no image). Both run the compiled
// entry points of this checkout with this node, as the non-root user 65532 (like a distroless
// `nonroot` image), so pods with `runAsNonRoot: true` are accepted.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageMap } from '../../devcluster/src/index.js';

/** The repository (or installed package) root: this file is dist/cli/src/devclusterImages.js. */
export const packageRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export const JOB_RUNNER_IMAGE = 'ghcr.io/sparkify/sparkify-lake-job-runner';
export const OPERATOR_IMAGE = 'ghcr.io/sparkify/sparkify-lake-operator';
export const NONROOT_UID = 65532;

export function devclusterImages(root = packageRoot): ImageMap {
  return {
    [JOB_RUNNER_IMAGE]: { command: [process.execPath, join(root, 'dist', 'job-runner', 'src', 'main.js')], cwd: root, user: NONROOT_UID },
    [OPERATOR_IMAGE]: { command: [process.execPath, join(root, 'dist', 'operator', 'src', 'main.js')], cwd: root, user: NONROOT_UID },
  };
}
