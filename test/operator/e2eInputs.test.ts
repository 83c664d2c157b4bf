// Bad input and lifecycle on the dev cluster: a missing Secret, an unknown bucket and an unreachable
// endpoint are Invalid conditions with actionable messages and no Job; a reject ratio over the limit
// fails the run cleanly before any table is written; suspend pauses a run and resume finishes it;
// deleting a running lake job stops its Jobs and removes its staging data; a runner image or an S3
// endpoint outside the operator's policy is Invalid with no Job and no request to that endpoint.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, test } from 'node:test';
import type { SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { assertLakesEqual } from '../helpers/compareLakes.js';
import { udacityLogs, udacitySongs } from '../helpers/paths.js';
import { buildReferenceLake, type ReferenceLake } from '../helpers/referenceLake.js';
import { downloadLake, lakeJobManifest, OPERATOR_NS, RUNNER_IMAGE, s3Secret, SA, startLakeCluster, uploadFolder, waitFor, type LakeCluster, type OperatorProcess } from './e2eHarness.js';

let c: LakeCluster;
let op: OperatorProcess;
let reference: ReferenceLake;

before(async () => {
  [c, reference] = await Promise.all([startLakeCluster(), buildReferenceLake({ songs: udacitySongs, logs: udacityLogs })]);
  // The policy as an administrator would widen it: the runner repository plus one more (whose
  // image the dev cluster does not know, for the stuck-pods test), and the two S3 endpoints the
  // tests name on purpose; anything else is refused.
  op = await c.startOperator({
    args: ['--invalid-retry', '2', `--allowed-runner-images=${RUNNER_IMAGE},ghcr.io/sparkify/no-such-runner`, `--allowed-s3-endpoints=${c.s3Endpoint},http://127.0.0.1:9`],
  });
});

after(async () => {
  reference?.close();
  await op?.kill('SIGTERM');
  await c?.stop();
});

const cond = (lj: SparkifyLakeJob | null, type: string) => lj?.status?.conditions?.find((x) => x.type === type);

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await c.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

async function jobNames(ns: string): Promise<string[]> {
  return (await c.k(['get', 'jobs', '-n', ns, '-o', 'name'])).trim().split('\n').filter(Boolean);
}

test('a missing Secret is reported as Invalid with no Job; once created, the run starts; deleting it mid-run cleans up', async () => {
  await c.namespace('nosecret', { secret: false });
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('nosecret', 'nightly', c.s3Endpoint)) });
  const lj = await waitFor(async () => {
    const x = await c.getLakeJob('nosecret', 'nightly');
    return cond(x, 'Invalid')?.status === 'True' ? x : undefined;
  }, 60_000, 'the Invalid condition');
  const invalid = cond(lj, 'Invalid')!;
  assert.equal(invalid.reason, 'SecretNotFound');
  assert.match(invalid.message!, /Secret "lake-s3" \(spec.storage.credentialsSecret\) not found in namespace "nosecret": create it with the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  assert.equal(lj.status?.phase, 'Pending');
  assert.deepEqual(await jobNames('nosecret'), []);
  assert.match(await c.k(['describe', 'slj', 'nightly', '-n', 'nosecret']), /Warning\s+SecretNotFound/);
  // `kubectl get` alone says what is wrong (default columns), and -o wide says why.
  const [header, row] = (await c.k(['get', 'slj', '-n', 'nosecret'])).trim().split('\n');
  assert.match(header!, /^NAME\s+PHASE\s+REASON\s+/);
  assert.match(row!, /^nightly\s+Pending\s+SecretNotFound\s+/);
  assert.match(await c.k(['get', 'slj', '-n', 'nosecret', '-o', 'wide']), /Invalid: SecretNotFound: Secret "lake-s3" \(spec\.storage\.credentialsSecret\) not found in namespace "nosecret"/);
  const wait = await c.kubectl(['wait', '--for=condition=Invalid', 'slj/nightly', '-n', 'nosecret', '--timeout=10s']);
  assert.equal(wait.code, 0, wait.stderr);

  await c.k(['apply', '-f', '-'], { input: JSON.stringify(s3Secret('nosecret')) });
  const running = await waitFor(async () => {
    const x = await c.getLakeJob('nosecret', 'nightly');
    return x?.status?.phase === 'Scanning' || x?.status?.phase === 'Building' ? x : undefined;
  }, 60_000, 'the run to start');
  assert.equal(cond(running, 'Invalid')?.status, 'False');
  const runId = running.status!.runId!;
  await waitFor(async () => (await keys('lake', `nosecret-nightly/_lake/runs/${runId}/`)).some((k) => k.includes('/receipts/')), 60_000, 'a receipt');

  const del = await c.kubectl(['delete', 'slj', 'nightly', '-n', 'nosecret', '--timeout=120s'], { timeoutMs: 130_000 });
  assert.equal(del.code, 0, del.stderr);
  assert.equal(await c.getLakeJob('nosecret', 'nightly'), null);
  assert.deepEqual(await jobNames('nosecret'), []);
  assert.deepEqual((await keys('lake', `nosecret-nightly/_lake/runs/${runId}/staged/`)), [], 'staging removed');
  assert.deepEqual((await keys('lake', 'nosecret-nightly/songplays/')), [], 'no table file of the unfinished run');
});

test('an unknown bucket and an unreachable endpoint are Invalid conditions with the S3 message, and no Job', async () => {
  await c.namespace('badbucket');
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('badbucket', 'nobucket', c.s3Endpoint, { songs: 's3://no-such-bucket/song_data/' })) });
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('badbucket', 'unreachable', 'http://127.0.0.1:9')) });
  const nobucket = await waitFor(async () => {
    const x = await c.getLakeJob('badbucket', 'nobucket');
    return cond(x, 'Invalid')?.status === 'True' ? x : undefined;
  }, 60_000, 'Invalid for the unknown bucket');
  assert.equal(cond(nobucket, 'Invalid')!.reason, 'BucketNotFound');
  assert.match(cond(nobucket, 'Invalid')!.message!, /no-such-bucket/);
  const unreachable = await waitFor(async () => {
    const x = await c.getLakeJob('badbucket', 'unreachable');
    return cond(x, 'Invalid')?.status === 'True' ? x : undefined;
  }, 120_000, 'Invalid for the unreachable endpoint');
  assert.equal(cond(unreachable, 'Invalid')!.reason, 'StorageUnreachable');
  assert.match(cond(unreachable, 'Invalid')!.message!, /127\.0\.0\.1:9/);
  assert.deepEqual(await jobNames('badbucket'), []);
  for (const x of [nobucket, unreachable]) assert.equal(cond(x, 'Running')?.status, 'False');
  const table = await c.k(['get', 'slj', '-n', 'badbucket']);
  assert.match(table, /^nobucket\s+Planning\s+BucketNotFound\s/m, table);
  assert.match(table, /^unreachable\s+Planning\s+StorageUnreachable\s/m, table);

  // Every re-check (every 2 s here) meets the same refusal with other timings in its message: one
  // Event whose count grows, not a new Event per attempt.
  type EventList = { items: { reason: string; count?: number; message: string }[] };
  const events = async () => ((JSON.parse(await c.k(['get', 'events', '-n', 'badbucket', '--field-selector', 'involvedObject.name=unreachable', '-o', 'json'])) as EventList).items).filter((e) => e.reason === 'StorageUnreachable');
  const counted = await waitFor(async () => {
    const list = await events();
    return list.length === 1 && (list[0]!.count ?? 1) >= 3 ? list : undefined;
  }, 90_000, 'the StorageUnreachable Event counted three times');
  assert.equal(counted.length, 1);
  assert.match(await c.k(['describe', 'slj', 'unreachable', '-n', 'badbucket']), /Warning\s+StorageUnreachable\s+\S+ \(x\d+ over \S+\)/);
});

test('a lake job without spec.storage, on an operator without S3 defaults, is Invalid saying what to set', async () => {
  await c.namespace('nostorage');
  const m = lakeJobManifest('nostorage', 'nightly', c.s3Endpoint);
  delete (m.spec as Record<string, unknown>).storage;
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(m) });
  const lj = await waitFor(async () => {
    const x = await c.getLakeJob('nostorage', 'nightly');
    return cond(x, 'Invalid')?.status === 'True' ? x : undefined;
  }, 60_000, 'the Invalid condition');
  assert.equal(cond(lj, 'Invalid')!.reason, 'StorageNotConfigured');
  assert.match(cond(lj, 'Invalid')!.message!, /set spec\.storage\.credentialsSecret to a Secret in namespace "nostorage" holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .*Helm values s3\.credentialsSecret/);
  assert.equal(lj.status?.phase, 'Pending');
  assert.deepEqual(await jobNames('nostorage'), []);
  assert.match(await c.k(['describe', 'slj', 'nightly', '-n', 'nostorage']), /Warning\s+StorageNotConfigured/);
  // Naming the Secret (a spec edit) is all it takes.
  await c.k(['patch', 'slj', 'nightly', '-n', 'nostorage', '--type=merge', '-p', JSON.stringify({ spec: { storage: { endpoint: c.s3Endpoint, forcePathStyle: true, credentialsSecret: 'lake-s3' } } })]);
  await waitFor(async () => ['Scanning', 'Building', 'Committing', 'Succeeded'].includes((await c.getLakeJob('nostorage', 'nightly'))?.status?.phase ?? ''), 60_000, 'the run to start');
  await c.k(['delete', 'slj', 'nightly', '-n', 'nostorage', '--timeout=120s'], { timeoutMs: 130_000 });
});

test('a reject ratio over the limit fails the run with the counts, before any table is written', async () => {
  const lines = ['{"ts": 1541990258796, "userId": "7", "page": "NextSong", "sessionId": 1, "itemInSession": 0, "level": "free"}', 'not json at all', '{"truncated": ', '[1, 2, 3]', '{"ts": "yesterday"}'];
  await c.s3.send(new PutObjectCommand({ Bucket: 'raw', Key: 'bad_logs/2018/11/2018-11-01-events.json', Body: lines.join('\n') }));
  await c.namespace('rejects');
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('rejects', 'nightly', c.s3Endpoint, { logs: 's3://raw/bad_logs/', extra: { quality: { maxRejectRatio: 0.02 } } })) });
  const wait = await c.kubectl(['wait', '--for=condition=Failed', 'slj/nightly', '-n', 'rejects', '--timeout=120s'], { timeoutMs: 130_000 });
  const lj = (await c.getLakeJob('rejects', 'nightly'))!;
  assert.equal(wait.code, 0, `${wait.stderr}\n${JSON.stringify(lj.status, null, 1)}`);
  const failed = cond(lj, 'Failed')!;
  assert.equal(failed.reason, 'RejectRatioExceeded');
  assert.match(failed.message!, /4/, failed.message);
  assert.equal(lj.status?.phase, 'Failed');
  assert.equal(lj.status?.records?.rejected, 4);
  assert.deepEqual((await jobNames('rejects')).filter((n) => n.endsWith('-build')), [], 'no build Job');
  assert.deepEqual(await keys('lake', 'rejects-nightly/_lake/current.json'), []);
  for (const t of ['songs', 'songplays', 'users']) assert.deepEqual(await keys('lake', `rejects-nightly/${t}/`), [], `no ${t} file`);
  assert.match(await c.k(['describe', 'slj', 'nightly', '-n', 'rejects']), /Warning\s+RejectRatioExceeded/);
});

test('suspend pauses a run (no pods), resume finishes it with the same lake', async () => {
  await c.namespace('suspend');
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('suspend', 'nightly', c.s3Endpoint)) });
  const scanning = await waitFor(async () => {
    const x = await c.getLakeJob('suspend', 'nightly');
    return x?.status?.phase === 'Scanning' ? x : undefined;
  }, 60_000, 'the scan');
  await c.k(['patch', 'slj', 'nightly', '-n', 'suspend', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  const job = `nightly-${scanning.status!.runId}-scan`;
  await waitFor(async () => {
    const j = JSON.parse(await c.k(['get', 'job', job, '-n', 'suspend', '-o', 'json'])) as { spec: { suspend?: boolean }; status?: { active?: number } };
    return j.spec.suspend === true && !j.status?.active;
  }, 60_000, 'the scan Job suspended with no active pod');
  const suspended = await waitFor(async () => {
    const x = await c.getLakeJob('suspend', 'nightly');
    return cond(x, 'Suspended')?.status === 'True' && x?.status?.observedGeneration === x?.metadata.generation ? x : undefined;
  }, 30_000, 'the Suspended condition');
  assert.equal(suspended.status?.runId, scanning.status?.runId, 'suspend does not start a new run');
  await c.k(['patch', 'slj', 'nightly', '-n', 'suspend', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  const wait = await c.kubectl(['wait', '--for=condition=Succeeded', 'slj/nightly', '-n', 'suspend', '--timeout=240s'], { timeoutMs: 250_000 });
  assert.equal(wait.code, 0, wait.stderr);
  const done = (await c.getLakeJob('suspend', 'nightly'))!;
  assert.equal(done.status?.runId, scanning.status?.runId, 'the same run finished');
  await assertLakesEqual(await downloadLake(c, 'lake', 'suspend-nightly/'), reference);
});

test('a shard that fails for good fails the run, naming the shard, its input and its last log lines', async () => {
  await uploadFolder(c.s3, 'raw', 'copy_logs/', udacityLogs);
  await c.namespace('shardfail');
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('shardfail', 'nightly', c.s3Endpoint, { logs: 's3://raw/copy_logs/', sharding: { parallelism: 1 }, extra: { retry: { backoffLimitPerIndex: 1 } } })) });
  const scanning = await waitFor(async () => {
    const x = await c.getLakeJob('shardfail', 'nightly');
    return x?.status?.phase === 'Scanning' ? x : undefined;
  }, 60_000, 'the scan');
  // Pull the rug from under the last shard: one of its input objects disappears before it runs.
  const last = (scanning!.status!.plan!.shards ?? 0) - 1;
  const task = JSON.parse(await (await c.s3.send(new GetObjectCommand({ Bucket: 'lake', Key: `shardfail-nightly/_lake/runs/${scanning!.status!.runId}/scan/tasks/${String(last).padStart(5, '0')}.json` }))).Body!.transformToString()) as { splits: { kind: string; key: string }[] };
  const victim = task.splits.find((x) => x.kind === 'log')!.key;
  await c.s3.send(new DeleteObjectCommand({ Bucket: 'raw', Key: `copy_logs/${victim}` }));
  const wait = await c.kubectl(['wait', '--for=condition=Failed', 'slj/nightly', '-n', 'shardfail', '--timeout=180s'], { timeoutMs: 190_000 });
  const lj = (await c.getLakeJob('shardfail', 'nightly'))!;
  assert.equal(wait.code, 0, `${wait.stderr}\n${JSON.stringify(lj.status, null, 1)}`);
  const failed = cond(lj, 'Failed')!;
  assert.equal(failed.reason, 'ShardFailed');
  assert.match(failed.message!, new RegExp(`scan shard ${last}, exit code 3 \\(permanent: not retried\\)`), failed.message);
  assert.ok(failed.message!.includes(`s3://raw/copy_logs/${victim}`), failed.message);
  assert.match(failed.message!, /last log lines of pod nightly-.*-scan-/);
  assert.match(failed.message!, /shard failed/);
  assert.deepEqual(await keys('lake', 'shardfail-nightly/_lake/current.json'), []);
  await waitFor(async () => cond(await c.getLakeJob('shardfail', 'nightly'), 'Running')?.reason === 'Failed', 60_000, 'the cleanup to finish');
  assert.deepEqual(await keys('lake', `shardfail-nightly/_lake/runs/${lj.status!.runId}/staged/`), [], 'staging removed');
  const describe = await c.k(['describe', 'slj', 'nightly', '-n', 'shardfail']);
  assert.match(describe, /Warning\s+ShardFailed/);
});

test('pods that cannot start (an unknown runner image) are reported, not left silent', async () => {
  await c.namespace('badimage');
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('badimage', 'nightly', c.s3Endpoint, { extra: { runner: { image: 'ghcr.io/sparkify/no-such-runner:1' } } })) });
  const lj = await waitFor(async () => {
    const x = await c.getLakeJob('badimage', 'nightly');
    return cond(x, 'Running')?.message?.includes('cannot start') ? x : undefined;
  }, 90_000, 'the stuck pods to be reported');
  assert.match(cond(lj, 'Running')!.message!, /ErrImagePull: image "ghcr\.io\/sparkify\/no-such-runner:1"/);
  assert.match(await c.k(['describe', 'slj', 'nightly', '-n', 'badimage']), /Warning\s+PodsCannotStart/);
  await c.k(['delete', 'slj', 'nightly', '-n', 'badimage', '--timeout=60s']);
  assert.deepEqual(await jobNames('badimage'), []);
});

test("a runner image or an S3 endpoint outside the operator's policy is Invalid: no Job, no request to the endpoint", async () => {
  // A would-be S3 endpoint that records every request: the operator must send it none, not even
  // the signed listing that would otherwise carry the namespace's credentials there.
  const hits: string[] = [];
  const trap = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(403).end();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
  try {
    await c.namespace('policy');
    await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('policy', 'image', c.s3Endpoint, { extra: { runner: { image: 'docker.io/evil/miner:1' } } })) });
    await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('policy', 'endpoint', trapUrl)) });
    const invalid = async (name: string) =>
      waitFor(async () => {
        const x = await c.getLakeJob('policy', name);
        return cond(x, 'Invalid')?.status === 'True' ? x : undefined;
      }, 60_000, `Invalid for ${name}`);
    const image = await invalid('image');
    assert.equal(cond(image, 'Invalid')!.reason, 'RunnerImageNotAllowed');
    assert.match(cond(image, 'Invalid')!.message!, /spec\.runner\.image "docker\.io\/evil\/miner:1" is not allowed by this operator: allowed are ghcr\.io\/sparkify\/sparkify-lake-job-runner \(any tag or digest\), ghcr\.io\/sparkify\/no-such-runner \(any tag or digest\) .*Helm value runner\.allowedImages/);
    const endpoint = await invalid('endpoint');
    assert.equal(cond(endpoint, 'Invalid')!.reason, 'S3EndpointNotAllowed');
    assert.ok(cond(endpoint, 'Invalid')!.message!.includes(`spec.storage.endpoint "${trapUrl}" is not allowed by this operator (no request was sent to it)`), cond(endpoint, 'Invalid')!.message);
    for (const x of [image, endpoint]) assert.equal(x.status?.phase, 'Pending');
    assert.deepEqual(await jobNames('policy'), []);
    const table = await c.k(['get', 'slj', '-n', 'policy']);
    assert.match(table, /^endpoint\s+Pending\s+S3EndpointNotAllowed\s/m, table);
    assert.match(table, /^image\s+Pending\s+RunnerImageNotAllowed\s/m, table);
    assert.match(await c.k(['describe', 'slj', 'image', '-n', 'policy']), /Warning\s+RunnerImageNotAllowed/);
    // Deleting the refused lake job sends nothing there either (no staging to discard: no run).
    await c.k(['delete', 'slj', 'endpoint', '-n', 'policy', '--timeout=60s']);
    assert.deepEqual(hits, []);
    // An allowed image (another tag of the runner repository) is all it takes.
    await c.k(['patch', 'slj', 'image', '-n', 'policy', '--type=merge', '-p', JSON.stringify({ spec: { runner: { image: `${RUNNER_IMAGE}:nightly` } } })]);
    await waitFor(async () => ['Scanning', 'Building', 'Committing', 'Succeeded'].includes((await c.getLakeJob('policy', 'image'))?.status?.phase ?? ''), 60_000, 'the run to start');
    await c.k(['delete', 'slj', 'image', '-n', 'policy', '--timeout=120s'], { timeoutMs: 130_000 });
  } finally {
    await new Promise<void>((resolve) => trap.close(() => resolve()));
  }
});

test('the operator image runs in a pod: in-cluster config, the chart ServiceAccount, probes', async () => {
  await op.kill('SIGTERM'); // one operator at a time: the pod takes over from here
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'sparkify-lake-operator', namespace: OPERATOR_NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'sparkify-lake-operator' } },
      template: {
        metadata: { labels: { app: 'sparkify-lake-operator' } },
        spec: {
          serviceAccountName: SA,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 },
          containers: [
            {
              name: 'operator',
              image: 'ghcr.io/sparkify/sparkify-lake-operator:test',
              args: ['--metrics-port=8080', '--namespace=incluster', '--invalid-retry=2', '--runner-image=ghcr.io/sparkify/sparkify-lake-job-runner:test'],
              ports: [{ containerPort: 8080, name: 'metrics' }],
              readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
              livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
            },
          ],
        },
      },
    },
  };
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
  const rollout = await c.kubectl(['rollout', 'status', 'deployment/sparkify-lake-operator', '-n', OPERATOR_NS, '--timeout=90s'], { timeoutMs: 100_000 });
  assert.equal(rollout.code, 0, rollout.stderr);
  await c.namespace('incluster', { secret: false });
  await c.k(['apply', '-f', '-'], { input: JSON.stringify(lakeJobManifest('incluster', 'nightly', c.s3Endpoint)) });
  const lj = await waitFor(async () => {
    const x = await c.getLakeJob('incluster', 'nightly');
    return cond(x, 'Invalid')?.reason === 'SecretNotFound' ? x : undefined;
  }, 60_000, 'the in-cluster operator to report the missing Secret');
  assert.deepEqual(lj.metadata.finalizers, ['lake.sparkify.io/cleanup']);
  const pod = (await c.k(['get', 'pods', '-n', OPERATOR_NS, '-l', 'app=sparkify-lake-operator', '-o', 'name'])).trim().split('\n')[0]!;
  const logs = await c.k(['logs', pod, '-n', OPERATOR_NS]);
  assert.match(logs, /in-cluster service account/);
  assert.match(logs, /became the leader|caches synced/);
  await c.k(['delete', 'deployment', 'sparkify-lake-operator', '-n', OPERATOR_NS]);
});
