// End to end on the dev cluster, driven by the real kubectl: the Udacity sample in (embedded) S3
// becomes a lake equal to DuckDB's reference; status shows partitions landing while the build runs;
// printer columns and events are readable; schema-invalid resources are refused by kubectl with the
// API's message; an unchanged spec never reruns, not even after an operator restart; the operator
// runs as a ServiceAccount holding exactly the chart's RBAC.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { assertLakesEqual } from '../helpers/compareLakes.js';
import { udacityLogs, udacitySongs } from '../helpers/paths.js';
import { buildReferenceLake, type ReferenceLake } from '../helpers/referenceLake.js';
import { downloadLake, lakeJobManifest, startLakeCluster, waitFor, type LakeCluster, type OperatorProcess } from './e2eHarness.js';

const LAKE_JOBS = { group: 'lake.sparkify.io', version: 'v1alpha1', plural: 'sparkifylakejobs', kind: 'SparkifyLakeJob', namespaced: true };

let c: LakeCluster;
let op: OperatorProcess;
let reference: ReferenceLake;

before(async () => {
  [c, reference] = await Promise.all([startLakeCluster(), buildReferenceLake({ songs: udacitySongs, logs: udacityLogs })]);
  op = await c.startOperator();
});

after(async () => {
  reference?.close();
  await op?.kill('SIGTERM');
  await c?.stop();
});

test('kubectl refuses schema-invalid lake jobs with the API server message', async () => {
  await c.namespace('invalid');
  const bad = (patch: (m: ReturnType<typeof lakeJobManifest>) => void) => {
    const m = lakeJobManifest('invalid', 'bad', c.s3Endpoint);
    patch(m);
    return JSON.stringify(m);
  };
  const cases: [string, string, RegExp][] = [
    ['maxShards 0', bad((m) => (m.spec.sharding.maxShards = 0)), /spec\.sharding\.maxShards: Invalid value: 0: spec\.sharding\.maxShards in body should be greater than or equal to 1/],
    ['output not an S3 URI', bad((m) => (m.spec.output = '/tmp/lake')), /spec\.output: Invalid value: "\/tmp\/lake"/],
    ['size without a unit we know', bad((m) => (m.spec.sharding.targetShardBytes = '256MB')), /spec\.sharding\.targetShardBytes/],
    ['no source', bad((m) => delete (m.spec as Record<string, unknown>).source), /spec\.source: Required value/],
    ['an S3 endpoint without a scheme', bad((m) => (m.spec.storage.endpoint = 'minio:9000')), /spec\.storage\.endpoint: Invalid value: "minio:9000"/],
    ['unknown pull policy', bad((m) => Object.assign(m.spec, { runner: { imagePullPolicy: 'Sometimes' } })), /Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"/],
  ];
  for (const [name, manifest, want] of cases) {
    const r = await c.kubectl(['apply', '-f', '-'], { input: manifest });
    assert.notEqual(r.code, 0, `${name}: accepted`);
    assert.match(r.stderr, want, name);
  }
  assert.equal((await c.kubectl(['get', 'slj', '-n', 'invalid', '-o', 'name'])).stdout.trim(), '');
});

test('a lake job from kubectl apply to a committed lake equal to the reference', async () => {
  await c.namespace('analytics');
  const manifest = lakeJobManifest('analytics', 'nightly', c.s3Endpoint);
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(manifest) });

  // Watch the status closely while the run goes: partitions must be seen landing, not only at the end.
  let partial: SparkifyLakeJob | undefined;
  const phases = new Set<string>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const lj = (await c.dev.client.tryGet(LAKE_JOBS, 'analytics', 'nightly').catch(() => undefined)) as SparkifyLakeJob | undefined;
      const st = lj?.status;
      if (st?.phase) phases.add(st.phase);
      const landed = (st?.tables ?? []).reduce((s, t) => s + (t.partitionsLanded ?? 0), 0);
      const total = (st?.tables ?? []).reduce((s, t) => s + (t.partitions ?? 0), 0);
      if (!partial && lj && st?.phase === 'Building' && landed > 0 && landed < total) partial = lj;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const wait = await c.kubectl(['wait', '--for=condition=Succeeded', 'slj/nightly', '-n', 'analytics', '--timeout=240s'], { timeoutMs: 250_000 });
  watching = false;
  await watcher;
  const lj = (await c.getLakeJob('analytics', 'nightly'))!;
  assert.equal(wait.code, 0, `kubectl wait failed: ${wait.stderr}\nstatus: ${JSON.stringify(lj.status, null, 1)}\n${op.logs().slice(-4000)}`);

  const st = lj.status!;
  assert.equal(st.phase, 'Succeeded');
  assert.equal(st.observedGeneration, lj.metadata.generation);
  // The operator never writes spec: a whole run later the generation is still the one kubectl created.
  assert.equal(lj.metadata.generation, 1);
  assert.ok(partial, `never saw 0 < landed < total during the build; phases seen: ${[...phases].join(', ')}`);
  assert.ok(['Planning', 'Scanning', 'Building'].every((p) => phases.has(p)), [...phases].join(','));
  assert.deepEqual(Object.fromEntries(st.tables!.map((t) => [t.name, t.rows])), { songs: 71, artists: 69, users: 97, time: 6813, songplays: 6820 });
  assert.equal(st.records?.read, 8056 + 71);
  assert.equal(st.lastSuccessfulRunId, st.runId);

  const lake = await downloadLake(c, 'lake', 'analytics-nightly/');
  await assertLakesEqual(lake, reference);

  // The child Jobs: owned, labelled, restricted.
  const jobs = JSON.parse(await c.k(['get', 'jobs', '-n', 'analytics', '-o', 'json'])) as { items: { metadata: { name: string; ownerReferences: { kind: string; name: string; uid: string }[] }; spec: { completionMode: string; template: { spec: { automountServiceAccountToken: boolean } } } }[] };
  assert.deepEqual(jobs.items.map((j) => j.metadata.name).sort(), [`nightly-${st.runId}-build`, `nightly-${st.runId}-scan`]);
  for (const j of jobs.items) {
    assert.deepEqual(j.metadata.ownerReferences.map((o) => [o.kind, o.name, o.uid]), [['SparkifyLakeJob', 'nightly', lj.metadata.uid]]);
    assert.equal(j.spec.completionMode, 'Indexed');
    assert.equal(j.spec.template.spec.automountServiceAccountToken, false);
  }

  // Printer columns a person wants to see.
  const table = await c.k(['get', 'slj', '-n', 'analytics']);
  const [header, row] = table.trim().split('\n');
  assert.match(header!, /^NAME\s+PHASE\s+REASON\s+SHARDS\s+PROGRESS\s+ROWS\s+REJECTED\s+AGE$/);
  assert.match(row!, new RegExp(`^nightly\\s+Succeeded\\s+${st.plan!.shards}\\s+${st.progress}\\s+${st.rows}\\s+0\\s+\\S+$`));
  const wide = await c.k(['get', 'slj', '-n', 'analytics', '-o', 'wide']);
  assert.match(wide, new RegExp(`${st.runId!}\\s+run ${st.runId!} committed to s3://lake/`));
  assert.equal(st.reason, undefined, 'no reason while all is well');

  // Events a person can read.
  const describe = await c.k(['describe', 'slj', 'nightly', '-n', 'analytics']);
  for (const reason of ['RunStarted', 'Planning', 'Scanning', 'Building', 'Committing', 'Succeeded']) assert.match(describe, new RegExp(`Normal\\s+${reason}\\s`), `event ${reason} in:\n${describe}`);

  // Metrics and probes.
  const metrics = await (await fetch(`${op.metricsUrl}/metrics`)).text();
  assert.match(metrics, /sparkify_lake_runs_total\{result="succeeded"\} 1/);
  assert.match(metrics, /sparkify_lake_rows_committed_total\{table="songplays"\} 6820/);
  assert.match(metrics, /sparkify_lake_reconciles_total\{result="ok"\} \d+/);
  assert.equal((await fetch(`${op.metricsUrl}/healthz`)).status, 200);
  assert.equal((await fetch(`${op.metricsUrl}/readyz`)).status, 200);
});

test('an unchanged spec never reruns, not even after an operator restart; a new rerunToken does, and kubectl wait waits for it', async () => {
  const before = (await c.getLakeJob('analytics', 'nightly'))!;
  assert.equal(before.status?.phase, 'Succeeded', 'runs after the previous test');
  const jobsBefore = (await c.k(['get', 'jobs', '-n', 'analytics', '-o', 'name'])).trim();
  assert.equal(await op.kill('SIGTERM'), 0, 'clean exit on SIGTERM');
  op = await c.startOperator();
  // The same apply again (a GitOps sync): no generation change, nothing happens.
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('analytics', 'nightly', c.s3Endpoint)) });
  await waitFor(async () => /"caches synced"/.test(op.logs()), 20_000, 'operator sync');
  await new Promise((r) => setTimeout(r, 3000));
  const after1 = (await c.getLakeJob('analytics', 'nightly'))!;
  assert.equal(after1.status?.runId, before.status?.runId);
  assert.equal(after1.metadata.resourceVersion, before.metadata.resourceVersion, 'not even a status write');
  assert.equal((await c.k(['get', 'jobs', '-n', 'analytics', '-o', 'name'])).trim(), jobsBefore);

  // The rerun is requested while no operator runs, so the status still says Succeeded — for
  // generation 1. kubectl wait must not take that for the new generation's answer: every condition
  // carries the generation it describes.
  assert.equal(await op.kill('SIGTERM'), 0);
  await c.k(['patch', 'slj', 'nightly', '-n', 'analytics', '--type=merge', '-p', JSON.stringify({ spec: { rerunToken: 'again' } })]);
  const stale = (await c.getLakeJob('analytics', 'nightly'))!;
  assert.deepEqual([stale.metadata.generation, stale.status?.phase, stale.status?.conditions?.find((x) => x.type === 'Succeeded')?.status], [2, 'Succeeded', 'True']);
  const early = await c.kubectl(['wait', '--for=condition=Succeeded', 'slj/nightly', '-n', 'analytics', '--timeout=3s']);
  assert.notEqual(early.code, 0, `kubectl wait accepted a Succeeded condition of generation 1 for generation 2: ${early.stdout}`);
  assert.match(early.stderr, /timed out/);
  op = await c.startOperator();
  const wait = await c.kubectl(['wait', '--for=condition=Succeeded', 'slj/nightly', '-n', 'analytics', '--timeout=240s'], { timeoutMs: 250_000 });
  const rerun = (await c.getLakeJob('analytics', 'nightly'))!;
  assert.equal(wait.code, 0, `${wait.stderr}\n${JSON.stringify(rerun.status, null, 1)}`);
  assert.notEqual(rerun.status?.runId, before.status?.runId, 'kubectl wait returned for the new run');
  assert.equal(rerun.status?.phase, 'Succeeded');
  assert.equal(rerun.status?.observedGeneration, rerun.metadata.generation);
  assert.equal(rerun.status?.lastSuccessfulRunId, rerun.status?.runId);
  const lake = await downloadLake(c, 'lake', 'analytics-nightly/');
  await assertLakesEqual(lake, reference);
});
