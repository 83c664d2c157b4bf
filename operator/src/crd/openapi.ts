// The subset of OpenAPI v3 (structural schemas) the SparkifyLakeJob CRD uses, plus a type-level
// translation of a schema literal into the TypeScript type it describes. The CRD's schema is written
// once, as a literal (schema.ts); the YAML in crds/ is rendered from it and the TypeScript types are
// derived from it, so the two can never drift.

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  additionalProperties?: Schema;
  items?: Schema;
  enum?: readonly (string | number | boolean)[];
  default?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: readonly string[];
}

/**
 * The TypeScript type of a value valid under schema S.
 * Mode 'input' is what a person may write (fields with a default are optional); mode 'stored' is
 * what the API server returns after defaulting (fields with a default are always present).
 */
export type FromSchema<S, Mode extends 'input' | 'stored' = 'stored'> = S extends { 'x-kubernetes-int-or-string': true }
  ? number | string
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { type: 'string' }
      ? string
      : S extends { type: 'integer' | 'number' }
        ? number
        : S extends { type: 'boolean' }
          ? boolean
          : S extends { type: 'array'; items: infer I }
            ? FromSchema<I, Mode>[]
            : S extends { type: 'object'; properties: infer P }
              ? ObjectOf<P, RequiredKeys<S, P, Mode>, Mode>
              : S extends { type: 'object'; additionalProperties: infer A }
                ? Record<string, FromSchema<A, Mode>>
                : S extends { type: 'object' }
                  ? Record<string, unknown>
                  : unknown;

type RequiredKeys<S, P, Mode> =
  | (S extends { required: readonly (infer R)[] } ? R : never)
  | (Mode extends 'stored' ? { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P] : never);

type ObjectOf<P, R, Mode extends 'input' | 'stored'> = Flatten<
  { -readonly [K in keyof P as K extends R ? K : never]: FromSchema<P[K], Mode> } & {
    -readonly [K in keyof P as K extends R ? never : K]?: FromSchema<P[K], Mode>;
  }
>;

type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * Applies the schema's defaults to a value the way the API server does: a missing field with a
 * default gets it, then defaulting recurses into objects and arrays. Pure; returns a new value.
 * The operator applies this on read so that it behaves the same whether or not the API server it
 * talks to defaulted the object (e.g. one created before a newer CRD added a default).
 */
export function applyDefaults(schema: Schema, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (schema.type === 'object' && schema.properties && isPlainObject(value)) {
    const out: Record<string, unknown> = { ...value };
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (out[key] === undefined && sub.default !== undefined) out[key] = structuredClone(sub.default);
      if (out[key] !== undefined) out[key] = applyDefaults(sub, out[key]);
    }
    return out;
  }
  if (schema.type === 'object' && schema.additionalProperties && isPlainObject(value)) {
    const sub = schema.additionalProperties;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, applyDefaults(sub, v)]));
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    const sub = schema.items;
    return value.map((v) => applyDefaults(sub, v));
  }
  return value;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
