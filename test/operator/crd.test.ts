// One source of truth: the CRD YAML in crds/ and in the chart is the rendering of the schema
// literals, the TypeScript types are derived from them, and what the operator writes into status
// is exactly what the schema declares.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { CRD_FILE, defaultedSpec, lakeJobCrd, renderCrdYaml } from '../../operator/src/crd/crd.js';
import type { Schema } from '../../operator/src/crd/openapi.js';
import { printerColumns, specSchema, statusSchema } from '../../operator/src/crd/schema.js';
import type { LakeJobSpec, LakeJobStatus } from '../../operator/src/crd/types.js';
import { decide } from '../../operator/src/run/decide.js';
import { cliBin, repoRoot } from '../helpers/paths.js';
import { buildPlan, buildReceipts, CONFIG, jobView, lakeJob, observed, range, run, runOf, scanPlan, scanReceipts, statusAt, withStatus } from './fixtures.js';

/** Structural check of a value against our schema subset; returns the problems found. */
function conform(schema: Schema, value: unknown, path: string, problems: string[] = []): string[] {
  if (value === undefined || value === null) return problems;
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'number' && typeof value !== 'string') problems.push(`${path}: want int or string`);
    else if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: ${value} does not match ${schema.pattern}`);
    return problems;
  }
  if (schema.enum && !schema.enum.includes(value as string)) problems.push(`${path}: ${JSON.stringify(value)} not in ${schema.enum.join(',')}`);
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') problems.push(`${path}: want string`);
      else if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: ${value} does not match ${schema.pattern}`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${path}: want integer, got ${JSON.stringify(value)}`);
      break;
    case 'number':
      if (typeof value !== 'number') problems.push(`${path}: want number`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: want boolean`);
      break;
    case 'array':
      if (!Array.isArray(value)) problems.push(`${path}: want array`);
      else value.forEach((v, i) => conform(schema.items!, v, `${path}[${i}]`, problems));
      break;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: want object`);
        break;
      }
      const o = value as Record<string, unknown>;
      for (const r of schema.required ?? []) if (o[r] === undefined) problems.push(`${path}.${r}: required`);
      for (const [k, v] of Object.entries(o)) {
        const sub = schema.properties?.[k] ?? schema.additionalProperties;
        if (!sub) {
          if (!schema['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}.${k}: not in the schema (the API server would prune it)`);
          continue;
        }
        conform(sub, v, `${path}.${k}`, problems);
      }
    }
  }
  return problems;
}

test('crds/ holds exactly the rendering of the schema', () => {
  const committed = readFileSync(join(repoRoot, 'crds', CRD_FILE), 'utf8');
  assert.equal(committed, renderCrdYaml(), `crds/${CRD_FILE} is stale: run \`sparkify-lake operator crd > crds/${CRD_FILE}\``);
  assert.deepEqual(parse(committed), lakeJobCrd());
});

test("the chart's CRD is a copy of crds/", () => {
  const chart = readFileSync(join(repoRoot, 'helm', 'sparkify-lake', 'crds', CRD_FILE), 'utf8');
  assert.equal(chart, readFileSync(join(repoRoot, 'crds', CRD_FILE), 'utf8'), `copy crds/${CRD_FILE} to helm/sparkify-lake/crds/`);
});

test('a fully written spec type-checks and every schema field appears in it (types ↔ schema, field by field)', () => {
  // Typed as LakeJobSpec: the compiler checks each field against the derived type.
  const full: LakeJobSpec = {
    source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' },
    output: 's3://lake/sparkify/',
    storage: { endpoint: 'https://s3.example.com', region: 'eu-west-1', forcePathStyle: true, credentialsSecret: 'lake-s3' },
    sharding: { targetShardBytes: '1Gi', maxShards: 500, parallelism: 50 },
    runner: {
      image: 'registry.example.com/runner:1',
      imagePullPolicy: 'Always',
      resources: { limits: { memory: '2Gi', cpu: 2 }, requests: { memory: '1Gi', cpu: '500m' } },
      nodeSelector: { pool: 'batch' },
      tolerations: [{ key: 'batch', operator: 'Equal', value: 'true', effect: 'NoSchedule', tolerationSeconds: 60 }],
      affinity: { nodeAffinity: {} },
      ttlSecondsAfterFinished: 600,
    },
    retry: { backoffLimitPerIndex: 3 },
    quality: { maxRejectRatio: 0.05 },
    rerunToken: '2026-11-24',
    suspend: false,
  };
  assert.deepEqual(conform(specSchema, full, 'spec'), []);
  const missing: string[] = [];
  const walk = (schema: Schema, value: unknown, path: string) => {
    for (const [k, sub] of Object.entries(schema.properties ?? {})) {
      const v = (value as Record<string, unknown>)?.[k];
      if (v === undefined) missing.push(`${path}.${k}`);
      else if (sub.type === 'object' && sub.properties) walk(sub, v, `${path}.${k}`);
    }
  };
  walk(specSchema, full, 'spec');
  assert.deepEqual(missing, [], 'schema fields the sample (and so the type) does not cover');
});

test('defaults fill a minimal spec the way the API server does', () => {
  const spec = defaultedSpec({ source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' }, output: 's3://lake/x/', storage: { credentialsSecret: 's' } });
  assert.deepEqual(spec, {
    source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' },
    output: 's3://lake/x/',
    // No CRD defaults under storage: a default there would hide the operator's s3 defaults (the
    // API server would write region: us-east-1 into every spec, and the spec wins).
    storage: { credentialsSecret: 's' },
    sharding: { targetShardBytes: '256Mi', maxShards: 200, parallelism: 20 },
    runner: { imagePullPolicy: 'IfNotPresent', ttlSecondsAfterFinished: 86400 },
    retry: { backoffLimitPerIndex: 2 },
    quality: { maxRejectRatio: 0.01 },
    suspend: false,
  });
});

test('spec.storage is optional in the schema and carries no defaults', () => {
  assert.deepEqual(specSchema.required, ['source', 'output']);
  const storage = specSchema.properties.storage as Schema;
  assert.equal(storage.required, undefined);
  for (const [k, f] of Object.entries(storage.properties ?? {})) assert.equal(f.default, undefined, `spec.storage.${k} has no CRD default`);
  assert.equal(defaultedSpec({ source: { songs: 's3://raw/a/', logs: 's3://raw/b/' }, output: 's3://lake/x/' }).storage, undefined);
});

test('schema patterns accept the documented forms and refuse bad ones', () => {
  const cases: [string, unknown, boolean][] = [
    ['output', 's3://lake/sparkify/', true],
    ['output', 's3://lake', true],
    ['output', 's3://Lake/x', false],
    ['output', 'https://lake/x', false],
    ['output', '/tmp/lake', false],
    ['sharding', { targetShardBytes: '256Mi' }, true],
    ['sharding', { targetShardBytes: 268435456 }, true],
    ['sharding', { targetShardBytes: '1.5Gi' }, true],
    ['sharding', { targetShardBytes: '256MB' }, false],
    ['sharding', { targetShardBytes: 'lots' }, false],
    ['storage', { credentialsSecret: 'lake-s3', endpoint: 'http://minio:9000' }, true],
    ['storage', { credentialsSecret: 'Lake_S3' }, false],
    ['storage', { credentialsSecret: 'x', endpoint: 'minio:9000' }, false],
    ['runner', { imagePullPolicy: 'Sometimes' }, false],
  ];
  for (const [field, value, ok] of cases) {
    const problems = conform(specSchema.properties[field as keyof typeof specSchema.properties] as Schema, value, field);
    assert.equal(problems.length === 0, ok, `${field} ${JSON.stringify(value)}: ${problems.join('; ')}`);
  }
});

test('every status the operator writes is declared by the schema (nothing would be pruned)', () => {
  const j = lakeJob();
  const R = runOf(j);
  const statuses: LakeJobStatus[] = [];
  const collect = (job: typeof j, obs: ReturnType<typeof observed>) => {
    const d = decide(job, obs, CONFIG);
    if (d.status) statuses.push(d.status);
    for (const a of d.actions) if ((a.type === 'commit' || a.type === 'discard') && a.then) statuses.push(a.then.status);
  };
  collect(j, observed());
  collect(j, observed({ secret: { state: 'missing' } }));
  collect(withStatus(j, statusAt(j, 'Scanning')), observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0, 1]) }) }));
  collect(withStatus(j, statusAt(j, 'Building')), observed({ jobs: [jobView(R, 'build', { complete: true })], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts(range(4)) }) }));
  collect(withStatus(j, statusAt(j, 'Scanning')), observed({ jobs: [jobView(R, 'scan', { failedIndexes: [1], failure: { reason: 'FailedIndexes', message: 'x' } })], run: run(R, { scanPlan }) }));
  assert.ok(statuses.length >= 5);
  for (const s of statuses) assert.deepEqual(conform(statusSchema, s, 'status'), [], JSON.stringify(s));
});

test('printer columns point at fields the schema declares', () => {
  const root: Schema = { type: 'object', properties: { status: statusSchema, metadata: { type: 'object', properties: { creationTimestamp: { type: 'string' } } } } };
  for (const col of printerColumns) {
    const path = col.jsonPath.replace(/\[\?\(.*?\)\]/g, '').split('.').filter(Boolean);
    let s: Schema | undefined = root;
    for (const p of path) s = s?.type === 'array' ? s.items?.properties?.[p] : s?.properties?.[p];
    assert.ok(s, `${col.name}: ${col.jsonPath} is not in the schema`);
  }
});

test('the example lake job and the chart render valid against the schema / as YAML', () => {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'examples', 'argocd', 'lakejob.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; spec: unknown });
  const lj = docs.find((d) => d.kind === 'SparkifyLakeJob')!;
  assert.deepEqual(conform(specSchema, lj.spec, 'spec'), []);
});

test('`sparkify-lake operator crd` prints the CRD; bad flags are a usage error', () => {
  const crd = spawnSync(process.execPath, [cliBin, 'operator', 'crd'], { encoding: 'utf8' });
  assert.equal(crd.status, 0, crd.stderr);
  assert.equal(crd.stdout, readFileSync(join(repoRoot, 'crds', CRD_FILE), 'utf8'));
  const help = spawnSync(process.execPath, [cliBin, 'operator', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--leader-elect/);
  const bad = spawnSync(process.execPath, [cliBin, 'operator', '--poll', 'soon'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--poll wants a number/);
  const nocluster = spawnSync(process.execPath, [cliBin, 'operator', '--metrics-port', '0'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' } });
  assert.equal(nocluster.status, 1);
  assert.match(nocluster.stderr, /no cluster to talk to: pass --kubeconfig FILE, set KUBECONFIG, or run the operator in a pod/);
});
