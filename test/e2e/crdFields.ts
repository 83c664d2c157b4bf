// The field paths of the SparkifyLakeJob CRD schema, flattened the way the README's resource
// reference and examples/lakejob-full.yaml name them: `spec.sharding.maxShards`,
// `spec.runner.tolerations[].key`, `status.conditions[].reason`. Maps (additionalProperties) and
// pass-through objects (x-kubernetes-preserve-unknown-fields) are one field each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/paths.js';

export interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  required?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

export interface CrdField {
  path: string;
  node: SchemaNode;
  required: boolean;
}

export function loadCrdSchema(file = join(repoRoot, 'crds', 'lake.sparkify.io_sparkifylakejobs.yaml')): SchemaNode {
  const crd = parse(readFileSync(file, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: SchemaNode } }[] } };
  return crd.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema;
}

/** Every field under `spec` and `status`, parents before children. */
export function crdFields(root: SchemaNode = loadCrdSchema()): CrdField[] {
  const out: CrdField[] = [];
  const walk = (node: SchemaNode, path: string, required: boolean) => {
    out.push({ path, node, required });
    if (node['x-kubernetes-preserve-unknown-fields'] || node.additionalProperties) return;
    for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${k}`, (node.required ?? []).includes(k));
    if (node.items?.properties) for (const [k, child] of Object.entries(node.items.properties)) walk(child, `${path}[].${k}`, (node.items.required ?? []).includes(k));
  };
  for (const top of ['spec', 'status']) walk(root.properties![top]!, top, (root.required ?? []).includes(top));
  return out;
}

/** The paths an object actually sets, named like crdFields (arrays as `[]`). */
export function objectPaths(value: unknown, path: string, out = new Set<string>()): Set<string> {
  out.add(path);
  if (Array.isArray(value)) for (const item of value) objectPaths(item, `${path}[]`, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) objectPaths(v, `${path}.${k}`, out);
  return out;
}
