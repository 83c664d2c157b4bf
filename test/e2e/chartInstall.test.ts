// The chart for real: `helm install` into the dev cluster, where the operator runs from the chart's
// own Deployment (the kubelet maps the operator image to this checkout's entry point) as the chart's
// ServiceAccount under the chart's RBAC, which the dev cluster enforces. A lake job applied with
// kubectl completes and equals DuckDB's reference; `helm upgrade` rolls the operator without
// rerunning the unchanged lake job; `helm uninstall` removes the operator and leaves the CRD, the
// lake job and every byte of the lake in S3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { devclusterImages } from '../../cli/src/devclusterImages.js';
import { startDevCluster, type DevCluster } from '../../devcluster/src/index.js';
import { openStorage } from '../../job-runner/src/index.js';
import type { SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { assertLakesEqual } from '../helpers/compareLakes.js';
import { helm, kubectl, type ToolResult } from '../helpers/kube.js';
import { kubeToolsBin, repoRoot, tempDir, udacityLogs, udacitySongs } from '../helpers/paths.js';
import { buildReferenceLake, type ReferenceLake } from '../helpers/referenceLake.js';
import { downloadPrefix } from '../helpers/s3.js';

const CHART = join(repoRoot, 'helm', 'sparkify-lake');
const DEV_VALUES = join(CHART, 'ci', 'devcluster-values.yaml');
const NS = 'sparkify-system';
const RELEASE = 'lake';
const SA = `system:serviceaccount:${NS}:${RELEASE}-operator`;

let dir: string;
let cluster: DevCluster;
let s3: S3Client;
let reference: ReferenceLake;

const env = () => ({ KUBECACHEDIR: join(dir, 'kubecache'), HELM_CACHE_HOME: join(dir, 'helm', 'cache'), HELM_CONFIG_HOME: join(dir, 'helm', 'config'), HELM_DATA_HOME: join(dir, 'helm', 'data') });
const k = (args: string[], input?: string, timeoutMs = 60_000): Promise<ToolResult> => kubectl(cluster.kubeconfigPath, args, { input, timeoutMs, env: env() });
const h = (args: string[], timeoutMs = 150_000): Promise<ToolResult> => helm(cluster.kubeconfigPath, args, { timeoutMs, env: env() });
const ok = (r: ToolResult, what: string) => {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
};

async function json<T>(args: string[]): Promise<T> {
  return JSON.parse(ok(await k([...args, '-o', 'json']), args.join(' '))) as T;
}

function files(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
}

async function lakeKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(`${o.Key} ${o.Size} ${o.ETag}`);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  spec: { serviceAccountName: string };
  status: { phase: string };
}

async function operatorPods(): Promise<Pod[]> {
  return (await json<{ items: Pod[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=operator'])).items;
}

async function leaseHolder(): Promise<string | undefined> {
  const r = await k(['get', 'lease', `${RELEASE}-operator`, '-n', NS, '-o', 'jsonpath={.spec.holderIdentity}']);
  return r.code === 0 && r.stdout ? r.stdout : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  dir = tempDir('slake-chart-e2e-');
  // Pods run as the images' non-root user (65532): they must be able to reach their folders in here.
  chmodSync(dir, 0o755);
  let refPromise: Promise<ReferenceLake> | undefined;
  refPromise = buildReferenceLake({ songs: udacitySongs, logs: udacityLogs });
  cluster = await startDevCluster({ images: devclusterImages(repoRoot), dataDir: join(dir, 'cluster'), s3Dir: join(dir, 's3'), jobPodBackoff: { baseMs: 200, maxMs: 2000 } });
  const creds = { accessKeyId: cluster.s3!.env.AWS_ACCESS_KEY_ID, secretAccessKey: cluster.s3!.env.AWS_SECRET_ACCESS_KEY };
  s3 = new S3Client({ endpoint: cluster.s3!.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  for (const b of ['raw', 'lake']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  const raw = openStorage('s3://raw/', { endpoint: cluster.s3!.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });
  for (const [prefix, folder] of [['song_data/', udacitySongs], ['log_data/', udacityLogs]] as const) {
    await Promise.all(files(folder).map((f) => raw.put(`${prefix}${relative(folder, f).split('\\').join('/')}`, readFileSync(f))));
  }
  reference = await refPromise;
  refPromise = undefined;
});

after(async () => {
  reference?.close();
  s3?.destroy();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a bad value fails helm install with the schema message, and installs nothing', async () => {
  const r = await h(['install', RELEASE, CHART, '-n', NS, '--create-namespace', '-f', DEV_VALUES, '--set', 'operator.logLevel=verbose', '--wait', '--timeout', '30s']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /values don't meet the specifications of the schema\(s\)[\s\S]*operator\.logLevel: operator\.logLevel must be one of the following: "error", "warn", "info", "debug"/);
  assert.equal(ok(await h(['list', '-A', '-q']), 'helm list').trim(), '');
  assert.equal((await k(['get', 'deployments', '-A', '-o', 'name'])).stdout.trim(), '');
});

test('helm install, a lake job applied with kubectl, helm upgrade, helm uninstall', async (t) => {
  await t.test('helm install: CRD, RBAC, two operator replicas from the chart, one leader', async () => {
    const install = await h(['install', RELEASE, CHART, '-n', NS, '--create-namespace', '-f', DEV_VALUES, '--wait', '--timeout', '90s']);
    if (install.code !== 0) {
      const pods = await k(['describe', 'pods', '-n', NS]);
      const logs = await k(['logs', '-n', NS, '-l', 'app.kubernetes.io/component=operator', '--tail=20']);
      assert.fail(`helm install: ${install.stderr}\n${pods.stdout}\n${logs.stdout}${logs.stderr}`);
    }
    ok(await k(['wait', '--for=condition=Established', 'crd/sparkifylakejobs.lake.sparkify.io', '--timeout=10s']), 'CRD established');
    const deploy = await json<{ status: { readyReplicas: number } }>(['get', 'deployment', `${RELEASE}-operator`, '-n', NS]);
    assert.equal(deploy.status.readyReplicas, 2);
    const pods = await operatorPods();
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.spec.serviceAccountName, `${RELEASE}-operator`);
    const holder = await waitFor('a leader', leaseHolder);
    assert.ok(pods.some((p) => p.metadata.name === holder), `lease holder ${holder} is one of the operator pods`);
  });

  await t.test('the operator identity has the chart RBAC and nothing more (the dev cluster enforces it)', async () => {
    const can = async (verb: string, resource: string, ns = 'analytics', extra: string[] = []) => (await k(['auth', 'can-i', verb, resource, '-n', ns, '--as', SA, ...extra])).stdout.trim();
    assert.equal(await can('watch', 'sparkifylakejobs.lake.sparkify.io'), 'yes');
    assert.equal(await can('create', 'jobs.batch'), 'yes');
    assert.equal(await can('get', 'secrets'), 'yes');
    assert.equal(await can('list', 'secrets'), 'no');
    assert.equal(await can('update', 'sparkifylakejobs.lake.sparkify.io'), 'no');
    assert.equal(await can('create', 'deployments.apps'), 'no');
    assert.equal(await can('update', 'leases.coordination.k8s.io', NS), 'yes');
    // Verbs the operator never sends are not granted (the informers list and watch; the status is PUT).
    assert.equal(await can('get', 'sparkifylakejobs.lake.sparkify.io'), 'no');
    assert.equal(await can('update', 'sparkifylakejobs.lake.sparkify.io', 'analytics', ['--subresource=status']), 'yes');
    assert.equal(await can('patch', 'sparkifylakejobs.lake.sparkify.io', 'analytics', ['--subresource=status']), 'no');
    assert.equal(await can('get', 'jobs.batch'), 'no');
    assert.equal(await can('get', 'pods'), 'no');
    assert.equal(await can('list', 'pods'), 'yes');
    assert.equal(await can('patch', 'events'), 'yes');
  });

  let committed: { runId: string; keys: string[]; jobs: string[] };
  await t.test('a lake job applied with kubectl completes; the lake equals the DuckDB reference', async () => {
    const manifest = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'analytics' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lake-s3', namespace: 'analytics' }, type: 'Opaque', stringData: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } },
      {
        apiVersion: 'lake.sparkify.io/v1alpha1',
        kind: 'SparkifyLakeJob',
        metadata: { name: 'udacity', namespace: 'analytics' },
        spec: {
          source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' },
          output: 's3://lake/udacity/',
          storage: { endpoint: cluster.s3!.endpoint, forcePathStyle: true, credentialsSecret: 'lake-s3' },
          sharding: { targetShardBytes: '96Ki', maxShards: 4, parallelism: 2 },
        },
      },
    ];
    ok(await k(['apply', '-f', '-'], manifest.map((m) => JSON.stringify(m)).join('\n')), 'kubectl apply');
    const wait = await k(['wait', '--for=condition=Succeeded', 'slj/udacity', '-n', 'analytics', '--timeout=240s'], undefined, 250_000);
    const lj = await json<SparkifyLakeJob>(['get', 'slj', 'udacity', '-n', 'analytics']);
    assert.equal(wait.code, 0, `kubectl wait: ${wait.stderr}\nstatus: ${JSON.stringify(lj.status, null, 1)}`);
    assert.equal(lj.status?.phase, 'Succeeded');
    const lake = join(dir, 'lake-copy');
    await downloadPrefix(s3, 'lake', 'udacity/', lake);
    await assertLakesEqual(lake, reference);
    const jobs = (await json<{ items: { metadata: { name: string } }[] }>(['get', 'jobs', '-n', 'analytics'])).items.map((j) => j.metadata.name).sort();
    assert.equal(jobs.length, 2, `one scan and one build Job: ${jobs}`);
    committed = { runId: lj.status!.runId!, keys: await lakeKeys('udacity/'), jobs };
  });

  await t.test('the CRD upgrade path of the chart README works on the installed CRD', async () => {
    const r = ok(await k(['apply', '--server-side', '--force-conflicts', '-f', join(CHART, 'crds', 'lake.sparkify.io_sparkifylakejobs.yaml')]), 'kubectl apply --server-side');
    assert.match(r, /sparkifylakejobs\.lake\.sparkify\.io serverside-applied/);
  });

  await t.test('helm upgrade (to watched namespaces and S3 defaults) rolls the operator; the unchanged lake job does not rerun', async () => {
    const before = new Set((await operatorPods()).map((p) => p.metadata.name));
    // The namespace that stays unwatched exists before the upgrade (kubectl auth can-i below asks about it).
    ok(await k(['create', 'namespace', 'elsewhere']), 'create namespace');
    const upgrade = ['upgrade', RELEASE, CHART, '-n', NS, '-f', DEV_VALUES, '--set', 'operator.workers=2', '--set-json', 'watchNamespaces=["analytics"]'];
    const s3Defaults = ['--set', `s3.endpoint=${cluster.s3!.endpoint},s3.forcePathStyle=true,s3.credentialsSecret=lake-s3`];
    ok(await h([...upgrade, ...s3Defaults, '--wait', '--timeout', '120s']), 'helm upgrade');
    // The old pods terminate after the new ones are ready; then a new pod must lead.
    const pods = await waitFor('the old operator pods to go', async () => {
      const now = await operatorPods();
      return now.length === 2 && now.every((p) => !before.has(p.metadata.name)) ? now : undefined;
    });
    const holder = await waitFor('a new leader', async () => {
      const hld = await leaseHolder();
      return hld && pods.some((p) => p.metadata.name === hld) ? hld : undefined;
    }, 60_000);
    assert.ok(holder);
    // The new leader has reconciled at least a few poll periods (0.5 s each) by now.
    await new Promise((r) => setTimeout(r, 3000));
    const lj = await json<SparkifyLakeJob>(['get', 'slj', 'udacity', '-n', 'analytics']);
    assert.equal(lj.status?.phase, 'Succeeded');
    assert.equal(lj.status?.runId, committed.runId, 'same run after the upgrade');
    const jobs = (await json<{ items: { metadata: { name: string } }[] }>(['get', 'jobs', '-n', 'analytics'])).items.map((j) => j.metadata.name).sort();
    assert.deepEqual(jobs, committed.jobs, 'no new Job');
    assert.deepEqual(await lakeKeys('udacity/'), committed.keys, 'the lake is untouched');
  });

  await t.test('watched namespaces: Roles in the listed namespace only, no cluster-wide rights (the dev cluster enforces RBAC)', async () => {
    const can = async (verb: string, resource: string, where: string[]) => (await k(['auth', 'can-i', verb, resource, ...where, '--as', SA])).stdout.trim();
    const table: [string, string, string[], string][] = [
      ['watch', 'sparkifylakejobs.lake.sparkify.io', ['-n', 'analytics'], 'yes'],
      ['update', 'sparkifylakejobs.lake.sparkify.io', ['-n', 'analytics', '--subresource=status'], 'yes'],
      ['update', 'sparkifylakejobs.lake.sparkify.io', ['-n', 'analytics'], 'no'],
      ['create', 'jobs.batch', ['-n', 'analytics'], 'yes'],
      ['get', 'secrets', ['-n', 'analytics'], 'yes'],
      ['list', 'secrets', ['-n', 'analytics'], 'no'],
      ['watch', 'sparkifylakejobs.lake.sparkify.io', ['-n', 'elsewhere'], 'no'],
      ['create', 'jobs.batch', ['-n', 'elsewhere'], 'no'],
      ['get', 'secrets', ['-n', 'elsewhere'], 'no'],
      ['create', 'events', ['-n', 'elsewhere'], 'no'],
      ['update', 'sparkifylakejobs.lake.sparkify.io', ['-n', 'elsewhere', '--subresource=status'], 'no'],
      ['list', 'sparkifylakejobs.lake.sparkify.io', ['--all-namespaces'], 'no'],
      ['update', 'leases.coordination.k8s.io', ['-n', NS], 'yes'],
      ['update', 'leases.coordination.k8s.io', ['-n', 'analytics'], 'no'],
    ];
    for (const [verb, resource, where, want] of table) assert.equal(await can(verb, resource, where), want, `can-i ${verb} ${resource} ${where.join(' ')}`);
    assert.notEqual((await k(['get', 'clusterrole', `${RELEASE}-operator`])).code, 0, 'the ClusterRole is gone');
  });

  await t.test('in the watched namespace a lake job without spec.storage runs on the chart\'s S3 defaults; one elsewhere is left alone', async () => {
    const lakeJob = (ns: string, name: string, output: string) => ({
      apiVersion: 'lake.sparkify.io/v1alpha1',
      kind: 'SparkifyLakeJob',
      metadata: { name, namespace: ns },
      spec: { source: { songs: 's3://raw/song_data/', logs: 's3://raw/log_data/' }, output, sharding: { targetShardBytes: '96Ki', maxShards: 4, parallelism: 2 } },
    });
    const docs = [lakeJob('elsewhere', 'ignored', 's3://lake/elsewhere/'), lakeJob('analytics', 'defaults', 's3://lake/defaults/')];
    ok(await k(['apply', '-f', '-'], docs.map((d) => JSON.stringify(d)).join('\n')), 'kubectl apply');
    const wait = await k(['wait', '--for=condition=Succeeded', 'slj/defaults', '-n', 'analytics', '--timeout=240s'], undefined, 250_000);
    const lj = await json<SparkifyLakeJob>(['get', 'slj', 'defaults', '-n', 'analytics']);
    assert.equal(wait.code, 0, `kubectl wait: ${wait.stderr}\nstatus: ${JSON.stringify(lj.status, null, 1)}`);
    assert.equal(lj.spec.storage, undefined, 'the spec as written: no storage');
    assert.equal(lj.status?.rows, (await json<SparkifyLakeJob>(['get', 'slj', 'udacity', '-n', 'analytics'])).status?.rows, 'the same lake as the explicit run');
    // The runner pods got the defaults as env (the Job keeps its pod template).
    const job = await json<{ spec: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[] }[] } } } }>(['get', 'job', `defaults-${lj.status!.runId}-scan`, '-n', 'analytics']);
    const env = Object.fromEntries(job.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef?.name]));
    assert.deepEqual(env, { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: cluster.s3!.endpoint, SPARKIFY_S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'lake-s3', AWS_SECRET_ACCESS_KEY: 'lake-s3' });
    const ignored = await json<SparkifyLakeJob>(['get', 'slj', 'ignored', '-n', 'elsewhere']);
    assert.equal(ignored.status, undefined, 'an unwatched namespace gets no status');
    assert.equal(ignored.metadata.finalizers, undefined, 'nor a finalizer');
  });

  await t.test("NOTES.txt's command for the leader's logs works as printed", async () => {
    const notes = ok(await h(['get', 'notes', RELEASE, '-n', NS]), 'helm get notes');
    const line = notes.split('\n').find((l) => l.includes('holderIdentity'));
    assert.ok(line, `a leader-logs command in:\n${notes}`);
    const command = line.replace(/#.*$/, '').trim();
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile('sh', ['-c', command], { env: { PATH: `${kubeToolsBin}:${process.env.PATH ?? ''}`, KUBECONFIG: cluster.kubeconfigPath, ...env(), HOME: dir } }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }));
    });
    assert.equal(r.code, 0, `${command}: ${r.out}`);
    assert.match(r.out, /"message":"became the leader"/, 'the log of the replica that leads');
  });

  await t.test('helm uninstall removes the operator and keeps the CRD, the lake job and the lake', async () => {
    ok(await h(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '60s']), 'helm uninstall');
    await waitFor('the operator pods to go', async () => (await operatorPods()).length === 0);
    assert.equal((await k(['get', 'deployments,services,poddisruptionbudgets,roles,rolebindings', '-n', NS, '-o', 'name'])).stdout.trim(), '');
    assert.equal((await k(['get', 'roles,rolebindings', '-n', 'analytics', '-o', 'name'])).stdout.trim(), '', 'the watched namespace\'s Role is gone too');
    ok(await k(['get', 'crd', 'sparkifylakejobs.lake.sparkify.io']), 'CRD kept');
    const lj = await json<SparkifyLakeJob>(['get', 'slj', 'udacity', '-n', 'analytics']);
    assert.equal(lj.status?.phase, 'Succeeded');
    assert.deepEqual(await lakeKeys('udacity/'), committed.keys, 'every object of the lake is still there, unchanged');
  });
});
