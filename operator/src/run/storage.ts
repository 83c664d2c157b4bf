// How a lake job reaches S3: its own spec.storage, field by field, over the operator's defaults
// (the chart's `s3.*` values, passed as --s3-* flags), over the built-in defaults. The spec wins, so
// a lake job in another store than the cluster's usual one sets only the fields that differ.
//
//   field              spec.storage.<field>   operator default          built in
//   endpoint           wins when set           --s3-endpoint             none (AWS)
//   region             wins when set           --s3-region               us-east-1
//   forcePathStyle     wins when set           --s3-force-path-style     false
//   credentialsSecret  wins when set           --s3-credentials-secret   none: the lake job is Invalid
//
// Operator defaults are not part of the spec hash: changing them (a helm upgrade) never reruns an
// unchanged lake job; runs started afterwards use them, like the runner image default.
import type { LakeJobSpec } from '../crd/types.js';

export interface StorageDefaults {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentialsSecret?: string;
}

export const BUILT_IN_REGION = 'us-east-1';

export interface ResolvedStorage {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  credentialsSecret: string;
  /** Where the Secret's name came from, so a message can say which setting to fix. */
  credentialsFrom: 'spec' | 'operator';
}

/** The storage a lake job uses; null when no credentials Secret is named anywhere. */
export function resolveStorage(spec: LakeJobSpec['storage'], defaults: StorageDefaults): ResolvedStorage | null {
  const s = spec ?? {};
  const credentialsSecret = s.credentialsSecret ?? defaults.credentialsSecret;
  if (!credentialsSecret) return null;
  const endpoint = s.endpoint ?? defaults.endpoint;
  return {
    ...(endpoint ? { endpoint } : {}),
    region: s.region ?? defaults.region ?? BUILT_IN_REGION,
    forcePathStyle: s.forcePathStyle ?? defaults.forcePathStyle ?? false,
    credentialsSecret,
    credentialsFrom: s.credentialsSecret ? 'spec' : 'operator',
  };
}

/** The setting a person edits to change the Secret's name, for messages. */
export function credentialsSetting(r: ResolvedStorage): string {
  return r.credentialsFrom === 'spec' ? 'spec.storage.credentialsSecret' : "the operator's default --s3-credentials-secret, Helm value s3.credentialsSecret";
}
