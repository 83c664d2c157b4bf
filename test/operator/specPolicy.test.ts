// The operator's policy on what a lake job may name: runner images (default: the repository of the
// default runner image) and S3 endpoints (default: any). Image references are compared as the
// runtime pulls them; a refused lake job is Invalid with no Job, and a refused endpoint gets no
// request at all, not even the Secret read that would precede it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Observer } from '../../operator/src/control/observe.js';
import type { ClusterApi } from '../../operator/src/kube/cluster.js';
import { parseOperatorArgs } from '../../operator/src/process.js';
import { decide, type DecideConfig } from '../../operator/src/run/decide.js';
import { canonicalImage, parseImageReference } from '../../operator/src/run/imageReference.js';
import { runnerImageAllowed, runnerImagePatternError, runnerImageProblem, s3EndpointOriginError, s3EndpointProblem } from '../../operator/src/run/validity.js';
import { RunReader } from '../../operator/src/s3/runReader.js';
import { StorageCache } from '../../operator/src/s3/storages.js';
import { CONFIG, jobView, lakeJob, NOW, observed, run, runOf, scanPlan, statusAt, withStatus } from './fixtures.js';

const RUNNER = 'ghcr.io/sparkify/sparkify-lake-job-runner';

test('parseImageReference: fully qualified, as the runtime pulls it; malformed is null', async (t) => {
  const cases: { ref: string; want: string | null }[] = [
    { ref: 'nginx', want: 'docker.io/library/nginx' },
    { ref: 'nginx:1.27', want: 'docker.io/library/nginx:1.27' },
    { ref: 'docker.io/nginx', want: 'docker.io/library/nginx' },
    { ref: 'index.docker.io/library/nginx:1', want: 'docker.io/library/nginx:1' },
    { ref: 'sparkify/runner:2', want: 'docker.io/sparkify/runner:2' },
    { ref: `${RUNNER}:0.1.0`, want: `${RUNNER}:0.1.0` },
    { ref: `${RUNNER}@sha256:${'a'.repeat(64)}`, want: `${RUNNER}@sha256:${'a'.repeat(64)}` },
    { ref: `${RUNNER}:0.1.0@sha256:${'b'.repeat(64)}`, want: `${RUNNER}:0.1.0@sha256:${'b'.repeat(64)}` },
    { ref: 'localhost:5000/runner:dev', want: 'localhost:5000/runner:dev' },
    { ref: 'localhost/runner', want: 'localhost/runner' },
    { ref: 'registry.example.com:8443/a/b/c', want: 'registry.example.com:8443/a/b/c' },
    { ref: 'Uppercase/name', want: 'uppercase/name' },
    { ref: 'GHCR.IO/sparkify/x:1', want: 'ghcr.io/sparkify/x:1' },
    { ref: 'ghcr.io/Sparkify/x', want: null },
    { ref: 'ghcr.io/sparkify/x:', want: null },
    { ref: 'ghcr.io/sparkify/x@sha256:short', want: null },
    { ref: ' ghcr.io/sparkify/x', want: null },
    { ref: 'ghcr.io//x', want: null },
    { ref: '', want: null },
  ];
  for (const c of cases) {
    await t.test(JSON.stringify(c.ref), () => {
      const r = parseImageReference(c.ref);
      assert.equal(r ? canonicalImage(r) : null, c.want);
    });
  }
});

test('runnerImageAllowed: exact references, repositories, prefix globs', async (t) => {
  const digest = `sha256:${'c'.repeat(64)}`;
  const cases: { name: string; patterns: string[]; image: string; want: boolean }[] = [
    { name: 'a repository allows any tag', patterns: [RUNNER], image: `${RUNNER}:9.9.9`, want: true },
    { name: 'a repository allows a digest', patterns: [RUNNER], image: `${RUNNER}@${digest}`, want: true },
    { name: 'a repository allows the bare name', patterns: [RUNNER], image: RUNNER, want: true },
    { name: 'a repository is not a prefix of a longer one', patterns: [RUNNER], image: `${RUNNER}-evil:1`, want: false },
    { name: 'a repository is not a parent of a nested one', patterns: [RUNNER], image: `${RUNNER}/x:1`, want: false },
    { name: 'another registry with the same path', patterns: [RUNNER], image: 'docker.io/sparkify/sparkify-lake-job-runner:1', want: false },
    { name: 'an exact tag allows that tag', patterns: [`${RUNNER}:1.0`], image: `${RUNNER}:1.0`, want: true },
    { name: 'an exact tag refuses another tag', patterns: [`${RUNNER}:1.0`], image: `${RUNNER}:1.1`, want: false },
    { name: 'an exact tag refuses the same tag pinned to some digest', patterns: [`${RUNNER}:1.0`], image: `${RUNNER}:1.0@${digest}`, want: false },
    { name: 'an exact digest allows that digest', patterns: [`${RUNNER}@${digest}`], image: `${RUNNER}@${digest}`, want: true },
    { name: 'an exact digest refuses a tag', patterns: [`${RUNNER}@${digest}`], image: `${RUNNER}:1.0`, want: false },
    { name: 'spellings of Docker Hub are one repository', patterns: ['nginx'], image: 'docker.io/library/nginx:1.27', want: true },
    { name: 'a prefix glob', patterns: ['ghcr.io/sparkify/*'], image: 'ghcr.io/sparkify/other:1', want: true },
    { name: 'a prefix glob refuses another organisation', patterns: ['ghcr.io/sparkify/*'], image: 'ghcr.io/sparkify-evil/x:1', want: false },
    { name: 'a glob matches the fully qualified name too', patterns: ['docker.io/sparkify/*'], image: 'sparkify/runner:2', want: true },
    { name: '"*" allows any image', patterns: ['*'], image: 'docker.io/evil/miner:latest', want: true },
    { name: 'a malformed image is never allowed, not even by "*"', patterns: ['*'], image: 'EVIL image', want: false },
    { name: 'a registry host in capitals is the same host', patterns: [RUNNER], image: 'GHCR.IO/sparkify/sparkify-lake-job-runner:1', want: true },
    { name: 'one of several patterns', patterns: ['registry.example.com/lake/runner', RUNNER], image: 'registry.example.com/lake/runner:7', want: true },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(runnerImageAllowed(c.image, c.patterns), c.want));
});

test('runnerImageProblem: the default image is always allowed; a refusal says what is allowed and how to extend it', () => {
  const def = `${RUNNER}:0.1.0`;
  assert.equal(runnerImageProblem(undefined, def, ['registry.example.com/other']), null, 'no spec.runner.image: the default');
  assert.equal(runnerImageProblem(def, def, ['registry.example.com/other']), null, 'the default named exactly');
  const p = runnerImageProblem('docker.io/evil/miner:1', def, [RUNNER, 'ghcr.io/sparkify/tools/*', `${RUNNER}:pinned`])!;
  assert.equal(p.reason, 'RunnerImageNotAllowed');
  assert.equal(p.retry, undefined, 'only a spec edit or an operator restart changes it');
  assert.equal(
    p.message,
    `spec.runner.image "docker.io/evil/miner:1" is not allowed by this operator: allowed are ${RUNNER} (any tag or digest), images starting with ghcr.io/sparkify/tools/, ${RUNNER}:pinned ` +
      `and the default ${def} (leave spec.runner.image out to use it); an administrator allows more images with the Helm value runner.allowedImages (operator flag --allowed-runner-images)`,
  );
  assert.match(runnerImageProblem('Not An Image', def, [RUNNER])!.message, /"Not An Image" is not a valid image reference/);
  const many = runnerImageProblem('x/y:1', def, Array.from({ length: 10 }, (_, i) => `r.example.com/img${i}`))!;
  assert.match(many.message, /r\.example\.com\/img5 \(any tag or digest\) and 4 more and the default/);
});

test('s3EndpointProblem: no list allows any; a list allows its origins, the default and AWS', async (t) => {
  const list = ['https://minio.storage:9000', 'http://10.0.0.5'];
  const cases: { name: string; endpoint: string | undefined; def?: string; origins: string[]; want: string | null }[] = [
    { name: 'no policy: anything', endpoint: 'http://169.254.169.254', origins: [], want: null },
    { name: 'no endpoint in the spec (AWS or the default)', endpoint: undefined, origins: list, want: null },
    { name: 'a listed origin', endpoint: 'https://minio.storage:9000', origins: list, want: null },
    { name: 'a listed origin with a path and other case', endpoint: 'https://MINIO.storage:9000/base/', origins: list, want: null },
    { name: 'a default port spelled out', endpoint: 'http://10.0.0.5:80', origins: list, want: null },
    { name: "the operator's default endpoint", endpoint: 'http://minio.default:9000', def: 'http://minio.default:9000/', origins: list, want: null },
    { name: 'another port', endpoint: 'https://minio.storage:9001', origins: list, want: 'S3EndpointNotAllowed' },
    { name: 'another scheme', endpoint: 'http://minio.storage:9000', origins: list, want: 'S3EndpointNotAllowed' },
    { name: 'the metadata service', endpoint: 'http://169.254.169.254', origins: list, want: 'S3EndpointNotAllowed' },
    { name: 'a listed host as userinfo of another', endpoint: 'https://minio.storage:9000@evil.example.com', origins: list, want: 'S3EndpointNotAllowed' },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(s3EndpointProblem(c.endpoint, c.def, c.origins)?.reason ?? null, c.want));
  const p = s3EndpointProblem('http://169.254.169.254', 'http://minio.default:9000', list)!;
  assert.equal(
    p.message,
    'spec.storage.endpoint "http://169.254.169.254" is not allowed by this operator (no request was sent to it): allowed are https://minio.storage:9000, http://10.0.0.5 ' +
      'and the default http://minio.default:9000 (leave spec.storage.endpoint out to use it); an administrator allows more with the Helm value s3.allowedEndpoints (operator flag --allowed-s3-endpoints)',
  );
});

test('policy entries are checked when the operator starts', async (t) => {
  const patterns: { p: string; ok: boolean }[] = [
    { p: RUNNER, ok: true },
    { p: `${RUNNER}:1`, ok: true },
    { p: 'ghcr.io/sparkify/*', ok: true },
    { p: '*', ok: true },
    { p: 'ghcr.io/*/runner', ok: false },
    { p: 'ghcr.io/*/*', ok: false },
    { p: 'Ghcr Io', ok: false },
  ];
  for (const c of patterns) await t.test(`image pattern ${c.p}`, () => assert.equal(runnerImagePatternError(c.p) === null, c.ok, String(runnerImagePatternError(c.p))));
  const origins: { o: string; ok: boolean }[] = [
    { o: 'https://minio.storage:9000', ok: true },
    { o: 'http://10.0.0.5/', ok: true },
    { o: 'https://minio.storage:9000/bucket', ok: false },
    { o: 'https://user:pw@minio', ok: false },
    { o: 'ftp://minio', ok: false },
    { o: 'minio:9000', ok: false },
  ];
  for (const c of origins) await t.test(`endpoint origin ${c.o}`, () => assert.equal(s3EndpointOriginError(c.o) === null, c.ok, String(s3EndpointOriginError(c.o))));
});

test('operator flags: comma-separated and repeatable, checked, absent means the built-in default', () => {
  const parse = (args: string[]) => parseOperatorArgs(args) as { allowedRunnerImages?: string[]; allowedS3Endpoints?: string[] };
  assert.deepEqual(parse([]).allowedRunnerImages, undefined);
  assert.deepEqual(parse([]).allowedS3Endpoints, undefined);
  assert.deepEqual(parse(['--allowed-runner-images=a.io/x, b.io/y:1', '--allowed-runner-images', 'c.io/*,a.io/x']).allowedRunnerImages, ['a.io/x', 'b.io/y:1', 'c.io/*']);
  assert.deepEqual(parse(['--allowed-s3-endpoints=https://minio:9000,http://10.0.0.5']).allowedS3Endpoints, ['https://minio:9000', 'http://10.0.0.5']);
  assert.throws(() => parse(['--allowed-runner-images=ghcr.io/*/x']), /--allowed-runner-images: "ghcr\.io\/\*\/x": "\*" may only end a pattern/);
  assert.throws(() => parse(['--allowed-runner-images=,']), /--allowed-runner-images wants at least one entry/);
  assert.throws(() => parse(['--allowed-s3-endpoints=https://minio:9000/lake']), /--allowed-s3-endpoints: "https:\/\/minio:9000\/lake" is not a URL origin/);
});

// ── decide() with a policy ─────────────────────────────────────────────────────────────────────
const withImage = (image: string, extra: Parameters<typeof lakeJob>[0] = {}) => {
  const j = lakeJob(extra);
  return { ...j, spec: { ...j.spec, runner: { ...j.spec.runner, image } } };
};
const condition = (d: ReturnType<typeof decide>, type: string) => d.status?.conditions?.find((c) => c.type === type);

test('decide: a runner image outside the default policy is Invalid, Pending, no run and no Job', () => {
  const d = decide(withImage('docker.io/evil/miner:1'), observed(), CONFIG);
  assert.equal(d.status?.phase, 'Pending');
  assert.equal(d.status?.runId, undefined);
  assert.deepEqual(d.actions, []);
  assert.equal(d.requeueAfterMs, undefined, 'not re-checked on a timer: a spec edit or an operator restart changes it');
  assert.equal(`${condition(d, 'Invalid')?.status}/${condition(d, 'Invalid')?.reason}`, 'True/RunnerImageNotAllowed');
  assert.match(condition(d, 'Invalid')!.message!, /allowed are ghcr\.io\/sparkify\/sparkify-lake-job-runner \(any tag or digest\)/);
  assert.deepEqual(d.events.map((e) => e.reason), ['Pending', 'RunnerImageNotAllowed']);
  assert.equal(d.status?.reason, 'RunnerImageNotAllowed', 'the Reason printer column');
});

test('decide: another tag of the default repository runs; so does an image the administrator listed', () => {
  assert.equal(decide(withImage(`${RUNNER}:nightly`), observed(), CONFIG).status?.phase, 'Planning');
  const cfg: DecideConfig = { ...CONFIG, allowedRunnerImages: ['registry.example.com/lake/*'] };
  assert.equal(decide(withImage('registry.example.com/lake/runner:3'), observed(), cfg).status?.phase, 'Planning');
  assert.equal(condition(decide(withImage(`${RUNNER}:nightly`), observed(), cfg), 'Invalid')?.reason, 'RunnerImageNotAllowed', 'a list replaces the default repository');
});

test('decide: an operator restarted with a narrower policy creates no further Job of a running run', () => {
  const j = withImage(`${RUNNER}:nightly`);
  const R = runOf(j);
  const scanning = withStatus(j, statusAt(j, 'Scanning'));
  const obs = observed({ run: run(R, { scanPlan }) });
  assert.deepEqual(decide(scanning, obs, CONFIG).actions.map((a) => a.type), ['createJob'], 'allowed: the scan Job is created');
  const narrower: DecideConfig = { ...CONFIG, allowedRunnerImages: [`${RUNNER}:0.1.0`] };
  const d = decide(scanning, obs, narrower);
  assert.deepEqual(d.actions, []);
  assert.equal(d.status?.phase, 'Scanning', 'the phase is kept');
  assert.equal(condition(d, 'Invalid')?.reason, 'RunnerImageNotAllowed');
  // Its existing Jobs are left alone (they were allowed when created): nothing is deleted either.
  assert.deepEqual(decide(scanning, observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan }) }), narrower).actions, []);
});

test('decide: an S3 endpoint outside a configured list is Invalid with no run; no list allows it', () => {
  const cfg: DecideConfig = { ...CONFIG, allowedS3Endpoints: ['https://s3.internal:9000'] };
  const d = decide(lakeJob(), observed(), cfg); // the fixture names http://minio:9000
  assert.equal(d.status?.phase, 'Pending');
  assert.deepEqual(d.actions, []);
  assert.equal(condition(d, 'Invalid')?.reason, 'S3EndpointNotAllowed');
  assert.equal(decide(lakeJob(), observed(), CONFIG).status?.phase, 'Planning');
  assert.equal(decide(lakeJob(), observed(), { ...cfg, allowedS3Endpoints: ['http://minio:9000'] }).status?.phase, 'Planning');
});

test('decide: deleting a lake job whose endpoint is refused skips the discard and says why', () => {
  const j = lakeJob({ deleting: true });
  const deleting = withStatus(j, statusAt(j, 'Scanning'));
  const d = decide(deleting, { now: NOW, jobs: [] }, { ...CONFIG, allowedS3Endpoints: ['https://s3.internal:9000'] });
  assert.deepEqual(d.actions.map((a) => a.type), ['removeFinalizer']);
  assert.match(d.events[0]!.message, /^the operator's policy does not allow the S3 endpoint http:\/\/minio:9000: the staging data of run/);
});

test('observe: a refused endpoint gets no request, and its Secret is not even read', async () => {
  let secretReads = 0;
  let storages = 0;
  const cluster = { readSecret: async () => (secretReads++, { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }) } as unknown as ClusterApi;
  const observer = (allowedS3Endpoints: string[]) =>
    new Observer({
      cluster,
      jobsOf: () => [],
      runs: new RunReader(),
      storages: new StorageCache(() => {
        storages++;
        throw new Error('S3 was contacted');
      }),
      now: () => NOW,
      secretTtlMs: 0,
      storageDefaults: {},
      allowedS3Endpoints,
    });
  const j = lakeJob();
  const scanning = withStatus(j, statusAt(j, 'Scanning'));
  const refused = await observer(['https://s3.internal:9000']).observe(scanning);
  assert.equal(refused.s3, undefined);
  assert.equal(refused.observed.secret, undefined);
  assert.deepEqual([secretReads, storages], [0, 0]);
  // The control: with the endpoint allowed the same observation reads the Secret and goes to S3.
  await assert.rejects(observer(['http://minio:9000']).observe(scanning), /S3 was contacted/);
  assert.deepEqual([secretReads, storages], [1, 1]);
});
