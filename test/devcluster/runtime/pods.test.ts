// The kubelet on its own: environment from Secrets/ConfigMaps/fields with the kubelet's waiting
// reasons, users (runAsUser enforced, runAsNonRoot refused), restarts with backoff and
// `kubectl logs --previous`, volumes and ports through DEVCLUSTER_ROOT / DEVCLUSTER_PORT_<n>, and
// SIGTERM-then-SIGKILL on deletion.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Pod } from '../../../devcluster/src/client/types.js';
import { alive, namespace, NODE_IMAGE, nodeContainer, podPid, sharedDir, startTestCluster, waitFor, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startTestCluster({ 'example.com/rootless': { command: [process.execPath], allowCommand: true, user: 1000 } });
  await c.kOk(['apply', '-f', '-'], namespace('pods'));
});
after(async () => {
  await c?.stop();
});

const pod = (name: string, containers: Record<string, unknown>[], spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'pods', labels: { app: name } },
  spec: { restartPolicy: 'Never', containers, ...spec },
});
const getPod = (name: string) => c.getJson<Pod>(['get', 'pod', name, '-n', 'pods']);
const waiting = async (name: string) => (await getPod(name)).status?.containerStatuses?.[0]?.state.waiting;
/** The container's waiting state once the kubelet reports a config error (it starts as ContainerCreating). */
const configError = async (name: string) => {
  const w = await waiting(name);
  return w?.reason === 'CreateContainerConfigError' ? w : undefined;
};

test('env from a Secret waits with CreateContainerConfigError until the Secret exists; ConfigMap, envFrom and fieldRef resolve', async () => {
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'pods' }, data: { mode: 'fast', 'bad key': 'x', level: '3' } });
  const script = `console.log([process.env.USER_NAME, process.env.MODE, process.env.CFG_level, process.env.POD, process.env.NS, process.env.APP, process.env.GREETING, process.env.OPT ?? 'unset'].join('|'))`;
  await c.kOk(['apply', '-f', '-'], pod('envy', [
    nodeContainer(script, {
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
      env: [
        { name: 'USER_NAME', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing', optional: true } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'GREETING', value: 'hi $(POD)' },
      ],
    }),
  ]));
  const w = await waitFor('CreateContainerConfigError', () => configError('envy'));
  assert.equal(w.reason, 'CreateContainerConfigError');
  assert.equal(w.message, 'secret "creds" not found');
  assert.equal((await getPod('envy')).status?.phase, 'Pending');
  const described = await c.kOk(['describe', 'pod', 'envy', '-n', 'pods']);
  assert.match(described, /Error: secret "creds" not found/);
  // Created later (stringData through kubectl), the Secret unblocks the container.
  await c.kOk(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'pods' }, stringData: { user: 'sparky' } });
  await waitFor('the pod to succeed', async () => (await getPod('envy')).status?.phase === 'Succeeded', 30_000);
  assert.equal(await c.kOk(['logs', 'envy', '-n', 'pods']), 'sparky|fast|3|envy|pods|envy|hi envy|unset\n');
});

test('a missing key of an existing Secret is reported the kubelet way', async () => {
  await c.kOk(['apply', '-f', '-'], pod('nokey', [nodeContainer('1', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }] })]));
  const w = await waitFor('the waiting reason', () => configError('nokey'));
  assert.equal(w.reason, 'CreateContainerConfigError');
  assert.equal(w.message, "couldn't find key password in Secret pods/creds");
  await c.kOk(['delete', 'pod', 'nokey', '-n', 'pods', '--wait=true', '--timeout=30s']);
});

test('runAsUser runs the process as that uid (reading the repo works); runAsNonRoot with a root image is refused', async () => {
  const script = `const fs=require('fs');console.log(process.getuid()+':'+process.getgid()+' '+(fs.readFileSync(require('path').join(process.cwd(),'package.json'),'utf8').includes('sparkify-lake')?'read-ok':'read-failed'));fs.writeFileSync(process.env.HOME+'/x','');fs.writeFileSync(process.env.DEVCLUSTER_ROOT+'/scratch/y','');console.log('writes-ok')`;
  const volumes = [{ name: 'scratch', emptyDir: {} }];
  const mounts = [{ name: 'scratch', mountPath: '/scratch' }];
  await c.kOk(['apply', '-f', '-'], pod('asuser', [nodeContainer(script, { securityContext: { runAsUser: 1234, runAsGroup: 2345, runAsNonRoot: true }, volumeMounts: mounts })], { volumes }));
  await waitFor('the pod to finish', async () => ['Succeeded', 'Failed'].includes((await getPod('asuser')).status?.phase ?? ''), 30_000);
  assert.equal(await c.kOk(['logs', 'asuser', '-n', 'pods']), '1234:2345 read-ok\nwrites-ok\n');

  await c.kOk(['apply', '-f', '-'], pod('rootimage', [nodeContainer('1', { securityContext: { runAsNonRoot: true } })]));
  const w = await waitFor('the refusal', () => configError('rootimage'));
  const uid = (await getPod('rootimage')).metadata.uid;
  assert.equal(w.reason, 'CreateContainerConfigError');
  assert.equal(w.message, `container has runAsNonRoot and image will run as root (pod: "rootimage_pods(${uid})", container: main)`);

  // An image whose map entry declares a non-root user passes runAsNonRoot without runAsUser.
  const rootless = { name: 'main', image: 'example.com/rootless:1.0', command: ['node', '-e', 'console.log(process.getuid())'], securityContext: { runAsNonRoot: true } };
  await c.kOk(['apply', '-f', '-'], pod('rootless', [rootless]));
  await waitFor('the rootless pod to succeed', async () => (await getPod('rootless')).status?.phase === 'Succeeded', 30_000);
  assert.equal(await c.kOk(['logs', 'rootless', '-n', 'pods']), '1000\n');
});

test('restartPolicy OnFailure restarts with backoff, counts restarts, and keeps the previous run for kubectl logs --previous', async () => {
  const out = sharedDir('slake-restart-');
  const script = `const fs=require('fs');const f=process.env.OUT+'/n';const n=fs.existsSync(f)?Number(fs.readFileSync(f,'utf8')):0;fs.writeFileSync(f,String(n+1));console.log('run '+n);process.exit(n<2?7:0)`;
  await c.kOk(['apply', '-f', '-'], pod('crashy', [nodeContainer(script, { env: [{ name: 'OUT', value: out }] })], { restartPolicy: 'OnFailure' }));
  await waitFor('the pod to succeed', async () => (await getPod('crashy')).status?.phase === 'Succeeded', 30_000);
  const cs = (await getPod('crashy')).status!.containerStatuses![0]!;
  assert.equal(cs.restartCount, 2);
  assert.equal(cs.lastState.terminated?.exitCode, 7);
  assert.equal(cs.state.terminated?.exitCode, 0);
  assert.equal(await c.kOk(['logs', 'crashy', '-n', 'pods']), 'run 2\n');
  assert.equal(await c.kOk(['logs', 'crashy', '-n', 'pods', '--previous']), 'run 1\n');
});

test('deleting a pod sends SIGTERM, then SIGKILL after the grace period; readiness follows an httpGet probe on the mapped port', async () => {
  const out = sharedDir('slake-term-');
  // Ignores SIGTERM (records it), serves /ready on the host port the kubelet assigned to 8080.
  const script = `const fs=require('fs');process.on('SIGTERM',()=>fs.writeFileSync(process.env.OUT+'/term',''));fs.writeFileSync(process.env.OUT+'/pid',String(process.pid));
    require('http').createServer((q,s)=>{s.writeHead(q.url==='/ready'?200:404);s.end('ok')}).listen(Number(process.env.DEVCLUSTER_PORT_8080),'127.0.0.1')`;
  const container = nodeContainer(script, { env: [{ name: 'OUT', value: out }], ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 } });
  await c.kOk(['apply', '-f', '-'], pod('stubborn', [container], { terminationGracePeriodSeconds: 2 }));
  await c.kOk(['wait', '--for=condition=Ready', 'pod/stubborn', '-n', 'pods', '--timeout=30s']);
  const p = await getPod('stubborn');
  const ports = JSON.parse(p.metadata.annotations!['devcluster.sparkify.io/host-ports']!) as Record<string, number>;
  assert.equal(await (await fetch(`http://127.0.0.1:${ports['8080']}/ready`)).text(), 'ok');
  const pid = await podPid(out);
  const t0 = Date.now();
  await c.kOk(['delete', 'pod', 'stubborn', '-n', 'pods', '--timeout=30s']);
  const took = Date.now() - t0;
  assert.ok(existsSync(join(out, 'term')), 'SIGTERM delivered first');
  assert.ok(!alive(pid), 'killed after the grace period');
  assert.ok(took >= 1500, `deletion waited for the grace period (${took} ms)`);
});

test('init containers run first, in order, sharing an emptyDir with the main container', async () => {
  const volumes = [{ name: 'work', emptyDir: {} }];
  const mounts = [{ name: 'work', mountPath: '/work' }];
  const step = (n: string) => `require('fs').appendFileSync(process.env.DEVCLUSTER_ROOT+'/work/steps','${n} ')`;
  const spec = {
    volumes,
    initContainers: [
      { name: 'one', image: 'node', command: ['node', '-e', step('one')], volumeMounts: mounts },
      { name: 'two', image: 'node', command: ['node', '-e', step('two')], volumeMounts: mounts },
    ],
  };
  await c.kOk(['apply', '-f', '-'], pod('inits', [nodeContainer(`console.log(require('fs').readFileSync(process.env.DEVCLUSTER_ROOT+'/work/steps','utf8')+'main')`, { volumeMounts: mounts })], spec));
  await waitFor('the pod to succeed', async () => (await getPod('inits')).status?.phase === 'Succeeded', 30_000);
  assert.equal(await c.kOk(['logs', 'inits', '-n', 'pods']), 'one two main\n');
  const p = await getPod('inits');
  assert.deepEqual(p.status?.initContainerStatuses?.map((s) => [s.name, s.state.terminated?.exitCode]), [['one', 0], ['two', 0]]);
});

test('a pod past its activeDeadlineSeconds is stopped and Failed with reason DeadlineExceeded', async () => {
  await c.kOk(['apply', '-f', '-'], pod('deadline', [nodeContainer('setInterval(()=>{},1000)')], { activeDeadlineSeconds: 1, terminationGracePeriodSeconds: 1 }));
  await waitFor('the pod to fail', async () => (await getPod('deadline')).status?.phase === 'Failed', 30_000);
  const st = (await getPod('deadline')).status!;
  assert.equal(st.reason, 'DeadlineExceeded');
  assert.equal(st.message, 'Pod was active on the node longer than the specified deadline');
  assert.equal(st.containerStatuses?.[0]?.state.terminated?.exitCode, 143, 'ended by SIGTERM');
});

test('kubectl logs -f follows a running container until it ends', async () => {
  // Prints one line, then waits for the test's go-ahead: what follows is certainly written while
  // `kubectl logs -f` is attached, however slow the machine.
  const out = sharedDir('slake-follow-');
  const script = `const fs=require('fs');console.log('tick 1');const t=setInterval(()=>{if(!fs.existsSync(process.env.OUT+'/go'))return;clearInterval(t);console.log('tick 2');setTimeout(()=>console.log('tick 3'),200)},50)`;
  await c.kOk(['apply', '-f', '-'], pod('ticker', [nodeContainer(script, { env: [{ name: 'OUT', value: out }] })]));
  await c.kOk(['wait', '--for=condition=Ready', 'pod/ticker', '-n', 'pods', '--timeout=30s']);
  const follow = c.kStream(['logs', '-f', 'ticker', '-n', 'pods']);
  await follow.waitFor(/^tick 1\n/);
  writeFileSync(join(out, 'go'), '');
  const followed = await follow.exited;
  assert.equal(followed.code, 0, followed.stderr);
  assert.equal(followed.stdout, 'tick 1\ntick 2\ntick 3\n', 'lines written after kubectl attached arrived, and the stream ended with the container');
  assert.equal(await c.kOk(['logs', 'ticker', '-n', 'pods', '--tail=1']), 'tick 3\n');
});

test('stdout and stderr interleave in the log as written; a command that cannot start ends with StartError', async () => {
  await c.kOk(['apply', '-f', '-'], pod('mixed', [nodeContainer(`console.log('out 1');console.error('err 1');console.log('out 2');process.stderr.write('err 2\\n');process.exit(3)`)]));
  await waitFor('mixed to fail', async () => (await getPod('mixed')).status?.phase === 'Failed', 30_000);
  assert.equal((await c.k(['logs', 'mixed', '-n', 'pods'])).stdout, 'out 1\nerr 1\nout 2\nerr 2\n');
  assert.equal((await getPod('mixed')).status?.containerStatuses?.[0]?.state.terminated?.exitCode, 3);

  await c.kOk(['apply', '-f', '-'], pod('nostart', [{ name: 'main', image: NODE_IMAGE, command: ['/nonexistent/tool', '--help'] }]));
  await waitFor('nostart to fail', async () => (await getPod('nostart')).status?.phase === 'Failed', 30_000);
  const cs = (await getPod('nostart')).status!.containerStatuses![0]!;
  assert.equal(cs.state.terminated?.reason, 'StartError');
  assert.equal(cs.state.terminated?.exitCode, 128);
  assert.match(cs.state.terminated?.message ?? '', /exec: "\/nonexistent\/tool": executable file not found in \$PATH/);
  const events = await c.kOk(['get', 'events', '-n', 'pods', '--field-selector', 'involvedObject.name=nostart', '-o', 'jsonpath={.items[*].reason}']);
  assert.ok(!events.split(' ').includes('Started'), `a container that never ran has no Started event: ${events}`);
});

test('a forced deletion during a long grace period kills the process at once', async () => {
  const out = sharedDir('slake-force-');
  const script = `process.on('SIGTERM',()=>{});require('fs').writeFileSync(process.env.OUT+'/pid',String(process.pid));setInterval(()=>{},1000)`;
  await c.kOk(['apply', '-f', '-'], pod('forced', [nodeContainer(script, { env: [{ name: 'OUT', value: out }] })], { terminationGracePeriodSeconds: 60 }));
  await c.kOk(['wait', '--for=condition=Ready', 'pod/forced', '-n', 'pods', '--timeout=30s']);
  const pid = await podPid(out);
  await c.kOk(['delete', 'pod', 'forced', '-n', 'pods', '--wait=false']);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(alive(pid), 'SIGTERM is ignored, the grace period runs');
  await c.k(['delete', 'pod', 'forced', '-n', 'pods', '--grace-period=0', '--force']);
  await waitFor('the process killed', () => !alive(pid), 10_000);
});
