// TypeScript types of the SparkifyLakeJob resource, derived from the schema literals in schema.ts.
import type { FromSchema } from './openapi.js';
import type { CONDITION_TYPES, PHASES, specSchema, statusSchema } from './schema.js';

/** The spec as stored by the API server (every field with a default is present). */
export type LakeJobSpec = FromSchema<typeof specSchema, 'stored'>;
/** The spec as a person writes it (fields with defaults may be omitted). */
export type LakeJobSpecInput = FromSchema<typeof specSchema, 'input'>;
export type LakeJobStatus = FromSchema<typeof statusSchema, 'stored'>;

export type Phase = (typeof PHASES)[number];
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type Condition = NonNullable<LakeJobStatus['conditions']>[number];
export type StageStatus = NonNullable<LakeJobStatus['stages']>[number];
export type TableStatus = NonNullable<LakeJobStatus['tables']>[number];
export type PlanStatus = NonNullable<LakeJobStatus['plan']>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SparkifyLakeJob {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: LakeJobSpec;
  status?: LakeJobStatus;
}

/** `namespace/name`: the work-queue key of a lake job. */
export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
