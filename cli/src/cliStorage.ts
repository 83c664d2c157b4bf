// Storage opened by a command a person typed: access errors name the environment (and the flag the
// URI came from), not the Kubernetes Secret that pods and the operator read credentials from.
import type { Storage } from '../../job-runner/src/index.js';
import { openStorage } from '../../job-runner/src/storage/open.js';
import { CREDENTIALS_FROM_ENV } from '../../job-runner/src/storage/s3Errors.js';

export function openCliStorage(uri: string, flag?: string): Storage {
  return openStorage(uri, { credentialsFrom: CREDENTIALS_FROM_ENV, ...(flag ? { source: flag } : {}) });
}
