// Every example a user may copy is valid against the real API: each lake job (with its Secret and
// Namespace) goes through `kubectl apply --dry-run=server` on the dev cluster with the CRD installed,
// so the CRD's OpenAPI validation judges it; the GitOps kustomization builds with kubectl's own
// kustomize and changes only the rerunToken; the fully commented example sets every spec field.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startDevCluster, type DevCluster } from '../../devcluster/src/index.js';
import { kubectl } from '../helpers/kube.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { crdFields, objectPaths } from './crdFields.js';

const EXAMPLES = join(repoRoot, 'examples');
const CRD = join(repoRoot, 'crds', 'lake.sparkify.io_sparkifylakejobs.yaml');

interface Doc {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/** Manifests of examples/ (recursively), without the Argo CD health-check test data and the kustomize inputs. */
function exampleFiles(dir = EXAMPLES): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'testdata' || e.name === 'gitops' ? [] : exampleFiles(p);
    return /\.ya?ml$/.test(e.name) && e.name !== 'health_test.yaml' ? [p] : [];
  });
}

function docs(text: string, file: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors[0]?.message}`);
    return d.toJS() as Doc;
  }).filter((d) => d !== null);
}

let cluster: DevCluster;
let dir: string;
const k = async (args: string[], input?: string) => {
  const r = await kubectl(cluster.kubeconfigPath, args, { input, env: { KUBECACHEDIR: join(dir, 'kubecache') } });
  return r;
};

before(async () => {
  dir = tempDir('slake-examples-');
  cluster = await startDevCluster({ images: {}, dataDir: join(dir, 'cluster') });
  const applied = await k(['apply', '-f', CRD]);
  assert.equal(applied.code, 0, applied.stderr);
  const est = await k(['wait', '--for=condition=Established', 'crd/sparkifylakejobs.lake.sparkify.io', '--timeout=30s']);
  assert.equal(est.code, 0, est.stderr);
});

after(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every example lake job passes server-side validation (kubectl apply --dry-run=server)', async (t) => {
  const files = exampleFiles();
  const withJobs = files.filter((f) => docs(readFileSync(f, 'utf8'), f).some((d) => d.kind === 'SparkifyLakeJob'));
  assert.ok(withJobs.length >= 5, `expected the minimal, full, AWS, MinIO and Argo CD lake jobs, found ${withJobs.map((f) => relative(EXAMPLES, f))}`);
  for (const file of withJobs) {
    await t.test(relative(EXAMPLES, file), async () => {
      const all = docs(readFileSync(file, 'utf8'), file);
      // A dry run cannot create into a namespace that does not exist: namespaces are created for real.
      for (const ns of new Set(all.map((d) => d.metadata?.namespace).filter((n): n is string => !!n))) {
        await k(['create', 'namespace', ns]);
      }
      const manifests = all.filter((d) => d.kind !== 'Namespace');
      const r = await k(['apply', '--dry-run=server', '-f', '-'], manifests.map((d) => JSON.stringify(d)).join('\n'));
      assert.equal(r.code, 0, `${relative(repoRoot, file)}: ${r.stderr}`);
      for (const d of manifests) assert.match(r.stdout, new RegExp(`${d.metadata!.name} (created|configured|unchanged) \\(server dry run\\)`));
      // Each lake job names a Secret of its own file (or, for the demo's, the one beside it).
      for (const job of manifests.filter((d) => d.kind === 'SparkifyLakeJob')) {
        const secret = (job.spec!.storage as { credentialsSecret?: string } | undefined)?.credentialsSecret;
        assert.ok(secret, `${file}: every example names its credentials Secret (a cluster's S3 defaults cannot be assumed)`);
        if (relative(EXAMPLES, file) !== 'lakejob-full.yaml') assert.ok(all.some((d) => d.kind === 'Secret' && d.metadata?.name === secret), `${file}: Secret ${secret} is not in the file`);
      }
    });
  }
});

test('a schema-invalid edit of an example is refused by the same dry run (the check can fail)', async () => {
  const [job] = docs(readFileSync(join(EXAMPLES, 'lakejob-minio.yaml'), 'utf8'), 'minio').filter((d) => d.kind === 'SparkifyLakeJob');
  (job!.spec!.sharding as unknown) = { parallelism: 0 };
  await k(['create', 'namespace', job!.metadata!.namespace!]);
  const r = await k(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(job));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.sharding\.parallelism: Invalid value: 0: spec\.sharding\.parallelism in body should be greater than or equal to 1/);
});

test('the GitOps kustomization builds with kubectl and changes only the rerunToken', async () => {
  const r = await k(['kustomize', join(EXAMPLES, 'gitops')]);
  assert.equal(r.code, 0, r.stderr);
  const [built] = docs(r.stdout, 'kustomize output');
  const [base] = docs(readFileSync(join(EXAMPLES, 'gitops', 'lakejob.yaml'), 'utf8'), 'gitops/lakejob.yaml');
  const [patch] = docs(readFileSync(join(EXAMPLES, 'gitops', 'rerun.yaml'), 'utf8'), 'gitops/rerun.yaml');
  assert.equal(built!.spec!.rerunToken, patch!.spec!.rerunToken);
  assert.deepEqual({ ...built!.spec, rerunToken: undefined }, { ...base!.spec, rerunToken: undefined });
  await k(['create', 'namespace', built!.metadata!.namespace!]);
  const dry = await k(['apply', '--dry-run=server', '-f', '-'], r.stdout);
  assert.equal(dry.code, 0, dry.stderr);
});

test('lakejob-full.yaml sets every spec field of the CRD', () => {
  const [job] = docs(readFileSync(join(EXAMPLES, 'lakejob-full.yaml'), 'utf8'), 'full').filter((d) => d.kind === 'SparkifyLakeJob');
  const set = objectPaths(job!.spec, 'spec');
  const missing = crdFields().filter((f) => f.path.startsWith('spec') && !set.has(f.path)).map((f) => f.path);
  assert.deepEqual(missing, [], 'fields of the CRD that lakejob-full.yaml does not show');
});

test('the Argo CD Applications point at folders of this repository', () => {
  const apps = docs(readFileSync(join(EXAMPLES, 'argocd', 'application.yaml'), 'utf8'), 'application.yaml');
  assert.equal(apps.length, 2);
  for (const app of apps) {
    assert.equal(app.apiVersion, 'argoproj.io/v1alpha1');
    assert.equal(app.kind, 'Application');
    const source = app.spec!.source as { path: string; helm?: { valuesObject?: Record<string, unknown> } };
    assert.ok(readdirSync(join(repoRoot, source.path)).length > 0, `${source.path} exists`);
  }
});
