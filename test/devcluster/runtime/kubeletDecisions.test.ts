// The kubelet's pure parts, table-driven: image → process, environment, users, pod phase.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import type { Container, Pod, Probe } from '../../../devcluster/src/client/types.js';
import { resolveContainerEnv } from '../../../devcluster/src/kubelet/containerEnv.js';
import { containerArgv, expandVars, imageName, resolveImage, type ImageMap } from '../../../devcluster/src/kubelet/imageMap.js';
import { computePodStatus, podPhase, restartDelayMs, shouldRestart, type ContainerRuntimeState, type PodRuntimeState } from '../../../devcluster/src/kubelet/podStatus.js';
import { pause, ProbeTracker, resolvePort, runProbe } from '../../../devcluster/src/kubelet/probes.js';
import { containerUser } from '../../../devcluster/src/kubelet/securityContext.js';

const images: ImageMap = {
  'ghcr.io/org/app': { command: ['node', 'app.js'], args: ['serve'] },
  'docker.io/library/busybox': { command: ['sh'], allowCommand: true },
  'registry.local/tools/*': { command: ['tool'] },
  'registry.local/*': { command: ['generic'] },
};

test('image names resolve without tag or digest, with Docker Hub names and globs', () => {
  const cases: [string, string | undefined][] = [
    ['ghcr.io/org/app', 'ghcr.io/org/app'],
    ['ghcr.io/org/app:1.2.3', 'ghcr.io/org/app'],
    ['ghcr.io/org/app@sha256:abc', 'ghcr.io/org/app'],
    ['ghcr.io/org/app:1.2@sha256:abc', 'ghcr.io/org/app'],
    ['busybox:1.36', 'docker.io/library/busybox'],
    ['registry.local/tools/jq:1', 'registry.local/tools/*'],
    ['registry.local/other', 'registry.local/*'],
    ['localhost:5000/app', undefined],
    ['unknown', undefined],
  ];
  for (const [image, key] of cases) assert.equal(resolveImage(images, image)?.key, key, image);
  assert.equal(imageName('localhost:5000/app:v1'), 'localhost:5000/app');
});

test('the process follows Kubernetes ENTRYPOINT/CMD rules and expands $(VAR)', () => {
  const app = images['ghcr.io/org/app']!;
  const box = images['docker.io/library/busybox']!;
  const env = { NAME: 'x', EMPTY: '' };
  const cases: { name: string; entry: typeof app; c: Partial<Container>; want: string[] | RegExp }[] = [
    { name: 'image defaults', entry: app, c: {}, want: ['node', 'app.js', 'serve'] },
    { name: 'args replace the default args', entry: app, c: { args: ['once', '--name=$(NAME)'] }, want: ['node', 'app.js', 'once', '--name=x'] },
    { name: 'command not allowed', entry: app, c: { command: ['bash'] }, want: /does not allow replacing its entrypoint/ },
    { name: 'command replaces entrypoint and default args', entry: box, c: { command: ['echo', '$(NAME)'] }, want: ['echo', 'x'] },
    { name: 'command plus args', entry: box, c: { command: ['echo'], args: ['a', '$$(NAME)', '$(MISSING)'] }, want: ['echo', 'a', '$(NAME)', '$(MISSING)'] },
  ];
  for (const k of cases) {
    const got = containerArgv(k.entry, 'img', k.c, env);
    if (k.want instanceof RegExp) assert.match('error' in got ? got.error : '', k.want, k.name);
    else assert.deepEqual('argv' in got ? got.argv : got, k.want, k.name);
  }
  assert.equal(expandVars('$(NAME)-$$-$(EMPTY)|$(', env), 'x-$-|$(');
});

function pod(spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'a', 'x/y': 'z' }, annotations: { note: 'n' }, ...meta }, spec: { containers: [{ name: 'c' }], serviceAccountName: 'sa', nodeName: 'devcluster', ...spec } };
}

test('container environment: order, sources, optional references and the kubelet messages', () => {
  const secrets: Record<string, { data: Record<string, string> }> = { s: { data: { user: Buffer.from('u').toString('base64'), 'bad-key!': Buffer.from('v').toString('base64') } } };
  const cms: Record<string, { data: Record<string, string> }> = { cm: { data: { mode: 'fast', A: 'from-cm' } } };
  const sources = { secret: (n: string) => (secrets[n] ? { metadata: {}, ...secrets[n] } : undefined), configMap: (n: string) => (cms[n] ? { metadata: {}, ...cms[n] } : undefined) };
  const ctx = { podIP: '127.0.0.1', hostIP: '127.0.0.1', node: { cpus: 2, memoryBytes: 4 * 1024 ** 3 }, base: { PATH: '/bin', A: 'base' } };
  const cases: { name: string; c: Container; want: Record<string, string> | string }[] = [
    {
      name: 'envFrom then env; later wins; $(VAR) from earlier',
      c: { name: 'c', envFrom: [{ configMapRef: { name: 'cm' } }], env: [{ name: 'A', value: 'from-env' }, { name: 'B', value: '$(A)+$(mode)' }] },
      want: { PATH: '/bin', A: 'from-env', mode: 'fast', B: 'from-env+fast' },
    },
    {
      name: 'valueFrom of every kind',
      c: {
        name: 'c',
        resources: { limits: { cpu: '500m', memory: '64Mi' } },
        env: [
          { name: 'U', valueFrom: { secretKeyRef: { name: 's', key: 'user' } } },
          { name: 'M', valueFrom: { configMapKeyRef: { name: 'cm', key: 'mode' } } },
          { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'L', valueFrom: { fieldRef: { fieldPath: "metadata.labels['x/y']" } } },
          { name: 'AN', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        ],
      },
      want: { PATH: '/bin', A: 'base', U: 'u', M: 'fast', N: 'p', L: 'z', AN: 'n', IP: '127.0.0.1', SA: 'sa', CPU: '500', MEM: '64', REQ: '0' },
    },
    { name: 'missing secret', c: { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, want: 'secret "nope" not found' },
    { name: 'missing secret key', c: { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, want: "couldn't find key k in Secret ns/s" },
    { name: 'missing configmap key', c: { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }] }, want: "couldn't find key k in ConfigMap ns/cm" },
    { name: 'missing configmap (envFrom)', c: { name: 'c', envFrom: [{ configMapRef: { name: 'nope' } }] }, want: 'configmap "nope" not found' },
    {
      name: 'optional references are skipped',
      c: { name: 'c', envFrom: [{ secretRef: { name: 'nope', optional: true } }], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } }, { name: 'Y', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }] },
      want: { PATH: '/bin', A: 'base' },
    },
    { name: 'unsupported fieldPath', c: { name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] }, want: 'unsupported fieldPath: spec.nope' },
  ];
  for (const k of cases) {
    const got = resolveContainerEnv(pod(), k.c, sources, ctx);
    if (typeof k.want === 'string') assert.equal('error' in got ? got.error : JSON.stringify(got), k.want, k.name);
    else assert.deepEqual('env' in got ? got.env : got, k.want, k.name);
  }
  const warned = resolveContainerEnv(pod(), { name: 'c', envFrom: [{ secretRef: { name: 's' }, prefix: 'S_' }] }, sources, ctx);
  assert.ok('env' in warned);
  assert.equal(warned.env.S_user, 'u');
  assert.deepEqual(warned.warnings, ['Keys [S_bad-key!] from the EnvFrom secret ns/s were skipped since they are considered invalid environment variable names.']);
});

test('users: container over pod over image; runAsNonRoot checks', () => {
  const entry = { command: ['x'] };
  const nonRootImage = { command: ['x'], user: 65532 };
  const cases: { name: string; pod: Partial<Pod['spec']>; c: Partial<Container>; entry?: { command: string[]; user?: number }; want: unknown }[] = [
    { name: 'image default root', pod: {}, c: {}, want: { uid: 0, gid: 0 } },
    { name: 'pod level', pod: { securityContext: { runAsUser: 10, runAsGroup: 20 } }, c: {}, want: { uid: 10, gid: 20 } },
    { name: 'container wins', pod: { securityContext: { runAsUser: 10 } }, c: { securityContext: { runAsUser: 11 } }, want: { uid: 11, gid: 0 } },
    { name: 'image user', pod: {}, c: {}, entry: nonRootImage, want: { uid: 65532, gid: 0 } },
    { name: 'nonroot with root image', pod: { securityContext: { runAsNonRoot: true } }, c: {}, want: { error: 'container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: c)' } },
    { name: 'nonroot with uid 0', pod: {}, c: { securityContext: { runAsNonRoot: true, runAsUser: 0 } }, want: { error: 'container\'s runAsUser breaks non-root policy (pod: "p_ns(u1)", container: c)' } },
    { name: 'nonroot with non-root image', pod: { securityContext: { runAsNonRoot: true } }, c: {}, entry: nonRootImage, want: { uid: 65532, gid: 0 } },
  ];
  for (const k of cases) assert.deepEqual(containerUser(pod(k.pod), { name: 'c', ...k.c }, k.entry ?? entry), k.want, k.name);
});

function cs(state: ContainerRuntimeState['state'], last: ContainerRuntimeState['lastState'] = {}, ready = false): ContainerRuntimeState {
  return { name: 'c', image: 'i', state, lastState: last, restartCount: 0, ready, started: !!state.running };
}

test('pod phase from container states and restartPolicy (kubelet getPhase)', () => {
  const running = cs({ running: {} });
  const ok = cs({ terminated: { exitCode: 0 } });
  const bad = cs({ terminated: { exitCode: 1 } });
  const creating = cs({ waiting: { reason: 'ContainerCreating' } });
  const backoff = cs({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } });
  const cases: { name: string; policy: 'Always' | 'OnFailure' | 'Never'; cs: ContainerRuntimeState[]; terminal?: boolean; want: string }[] = [
    { name: 'creating', policy: 'Never', cs: [creating], want: 'Pending' },
    { name: 'one running one creating', policy: 'Never', cs: [running, creating], want: 'Pending' },
    { name: 'running', policy: 'Never', cs: [running, ok], want: 'Running' },
    { name: 'all ok', policy: 'Never', cs: [ok, ok], want: 'Succeeded' },
    { name: 'one failed, Never', policy: 'Never', cs: [ok, bad], want: 'Failed' },
    { name: 'one failed, OnFailure', policy: 'OnFailure', cs: [ok, backoff], want: 'Running' },
    { name: 'all ok, Always', policy: 'Always', cs: [ok], want: 'Running' },
    { name: 'killed, Always', policy: 'Always', cs: [bad], terminal: true, want: 'Failed' },
    { name: 'stopped ok, Always', policy: 'Always', cs: [ok], terminal: true, want: 'Succeeded' },
    { name: 'never started, killed', policy: 'Never', cs: [creating], terminal: true, want: 'Failed' },
  ];
  for (const k of cases) {
    const rt: PodRuntimeState = { initContainers: [], containers: k.cs, terminal: !!k.terminal, podIP: '127.0.0.1', hostIP: '127.0.0.1' };
    assert.equal(podPhase(pod({ restartPolicy: k.policy }), rt), k.want, k.name);
  }
  const init: PodRuntimeState = { initContainers: [cs({ terminated: { exitCode: 1 } })], containers: [creating], terminal: false, podIP: '', hostIP: '' };
  assert.equal(podPhase(pod({ restartPolicy: 'Never' }), init), 'Failed', 'a failed init container fails a Never pod');
  assert.equal(podPhase(pod({ restartPolicy: 'OnFailure' }), init), 'Pending', 'and is retried otherwise');
});

test('pod conditions keep their transition time while unchanged; backoff doubles and caps', () => {
  const rt: PodRuntimeState = { initContainers: [], containers: [cs({ running: {} }, {}, true)], terminal: false, podIP: '127.0.0.1', hostIP: '127.0.0.1', disruption: { reason: 'TerminationByKubelet', message: 'm' } };
  const first = computePodStatus(pod(), rt, '2025-01-01T00:00:00Z');
  const conds = Object.fromEntries(first.conditions!.map((c) => [c.type, c.status]));
  assert.deepEqual(conds, { DisruptionTarget: 'True', PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
  const p = pod();
  p.status = first;
  const later = computePodStatus(p, rt, '2025-01-01T00:01:00Z');
  assert.equal(later.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, '2025-01-01T00:00:00Z');
  rt.containers[0]!.ready = false;
  const unready = computePodStatus(p, rt, '2025-01-01T00:02:00Z').conditions!.find((c) => c.type === 'Ready')!;
  assert.deepEqual([unready.status, unready.reason, unready.message, unready.lastTransitionTime], ['False', 'ContainersNotReady', 'containers with unready status: [c]', '2025-01-01T00:02:00Z']);
  assert.deepEqual([1, 2, 3, 4, 10].map((n) => restartDelayMs(n, 10_000, 300_000)), [10_000, 20_000, 40_000, 80_000, 300_000]);
  assert.deepEqual([shouldRestart('Always', 0), shouldRestart('OnFailure', 0), shouldRestart('OnFailure', 2), shouldRestart('Never', 2)], [true, false, true, false]);
});

test('probes: httpGet on the mapped port, tcpSocket, exec, and the threshold bookkeeping', async () => {
  const http = await import('node:http');
  const server = http.createServer((q, s) => {
    s.writeHead(q.url === '/ok' ? 200 : q.url === '/redirect' ? 302 : 500);
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const container: Container = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
  const ctx = { hostPort: (p: number | string) => resolvePort(container, p, new Map([[8080, port]])), env: { PATH: process.env.PATH ?? '' }, cwd: process.cwd() };
  try {
    const cases: { name: string; probe: Probe; want: 'success' | 'failure' }[] = [
      { name: 'http 200 by port name', probe: { httpGet: { path: '/ok', port: 'http' } }, want: 'success' },
      { name: 'http 302 counts as success', probe: { httpGet: { path: '/redirect', port: 8080 } }, want: 'success' },
      { name: 'http 500', probe: { httpGet: { path: '/fail', port: 8080 } }, want: 'failure' },
      { name: 'unknown port name', probe: { httpGet: { path: '/ok', port: 'nope' } }, want: 'failure' },
      { name: 'tcp open', probe: { tcpSocket: { port: 8080 } }, want: 'success' },
      { name: 'exec exit 0', probe: { exec: { command: [process.execPath, '-e', 'process.exit(0)'] }, timeoutSeconds: 30 }, want: 'success' },
      { name: 'exec exit 1', probe: { exec: { command: [process.execPath, '-e', 'process.exit(1)'] }, timeoutSeconds: 30 }, want: 'failure' },
      { name: 'exec timeout', probe: { exec: { command: [process.execPath, '-e', 'setTimeout(()=>{},5000)'] }, timeoutSeconds: 1 }, want: 'failure' },
    ];
    // Generous timeouts: node itself can take seconds to start on a loaded machine.
    for (const k of cases) assert.equal(await runProbe({ timeoutSeconds: 10, ...k.probe }, ctx), k.want, k.name);
  } finally {
    server.close();
  }
  const readiness = new ProbeTracker({ failureThreshold: 2, successThreshold: 2 }, false);
  assert.deepEqual(['success', 'success', 'failure', 'failure', 'success'].map((r) => readiness.record(r as 'success' | 'failure')), [false, true, true, false, false]);
  const liveness = new ProbeTracker({ failureThreshold: 3 }, true);
  assert.deepEqual(['failure', 'failure', 'success', 'failure', 'failure', 'failure'].map((r) => (liveness.record(r as 'success' | 'failure'), liveness.failedOut)), [false, false, false, false, false, true]);
});

test('a pod folder below a private folder is reported as unreachable for non-root users', async () => {
  const { mkdtempSync, mkdirSync, chmodSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { firstUnreachableFolder } = await import('../../../devcluster/src/kubelet/podSandbox.js');
  const priv = mkdtempSync(join(tmpdir(), 'slake-private-'));
  const home = join(priv, 'pods', 'p', 'home');
  mkdirSync(home, { recursive: true });
  assert.equal(firstUnreachableFolder(home, 1234, 1234), priv, 'mkdtemp makes 0700 folders');
  assert.equal(firstUnreachableFolder(home, 0, 0), undefined, 'root enters anything');
  chmodSync(priv, 0o755);
  assert.equal(firstUnreachableFolder(home, 1234, 1234), undefined);
});

test('probes: a pause that runs out removes its abort listener; an abort ends a pause at once', async () => {
  // A probe loop pauses on one signal for the pod's life: 30 periods must not leave 30 listeners.
  const stop = new AbortController();
  for (let i = 0; i < 30; i++) await pause(1, stop.signal);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
  const t0 = performance.now();
  const long = pause(60_000, stop.signal);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
  stop.abort();
  await long;
  assert.ok(performance.now() - t0 < 1_000);
  await pause(60_000, stop.signal); // already aborted: returns at once
});
