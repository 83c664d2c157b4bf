// `sparkify-lake devcluster up` as a person runs it: prints "devcluster ready", writes the kubeconfig
// (and FILE.env with --s3), serves kubectl, runs pods, and on SIGTERM stops every pod process and
// the S3 server before exiting 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kubectl } from '../../helpers/kube.js';
import { cliBin, repoRoot, tempDir } from '../../helpers/paths.js';
import { alive, podPid as podPidOf, sharedDir, waitFor } from './harness.js';

/** Every process below `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

test('devcluster up: ready line, kubeconfig and env file, pods run, SIGTERM stops everything', async () => {
  const dir = tempDir('slake-up-');
  const kubeconfig = join(dir, 'kube', 'config');
  const images = join(dir, 'images.json');
  writeFileSync(images, JSON.stringify({ node: { command: [process.execPath], allowCommand: true, cwd: repoRoot } }));
  const child = spawn(process.execPath, [cliBin, 'devcluster', 'up', '--kubeconfig', kubeconfig, '--s3', join(dir, 's3'), '--images', images], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let podPid = 0;
  try {
    await waitFor('devcluster ready', () => stdout.includes('devcluster ready\n') || child.exitCode !== null, 60_000);
    assert.equal(child.exitCode, null, `exited early: ${stderr}`);

    const env = readFileSync(`${kubeconfig}.env`, 'utf8');
    assert.match(env, /^AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=S3RVER\n$/);
    const s3 = /AWS_ENDPOINT_URL=(\S+)/.exec(env)![1]!;
    assert.ok((await fetch(s3)).status > 0, 'the S3 endpoint answers');

    const nodes = await kubectl(kubeconfig, ['get', 'nodes']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /devcluster\s+Ready/);
    // The kubelet's heartbeat Lease, and the API server's own Service, as on any cluster.
    const node = await kubectl(kubeconfig, ['describe', 'node', 'devcluster']);
    assert.match(node.stdout, /Lease:\s+HolderIdentity:\s+devcluster\n\s+AcquireTime:\s+\S.*\n\s+RenewTime:\s+\S/);
    const svc = await kubectl(kubeconfig, ['get', 'service', 'kubernetes', '-n', 'default']);
    assert.match(svc.stdout, /kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);

    const out = sharedDir('slake-up-pod-');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sleeper', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'node', command: ['node', '-e', `require('fs').writeFileSync('${out}/pid', String(process.pid)); setInterval(() => {}, 1000)`] }] } };
    const applied = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await kubectl(kubeconfig, ['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=60s']);
    assert.equal(ready.code, 0, ready.stderr);
    podPid = await podPidOf(out);
    const tree = descendants(child.pid!);
    assert.ok(tree.includes(podPid), 'the pod runs as a child process');
    assert.ok(tree.length >= 2, 'the pod and the S3 server');

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /SIGTERM received, stopping pods and S3\ndevcluster stopped\n$/);
    await waitFor('no process left', () => tree.every((p) => !alive(p)), 10_000);
    assert.ok(existsSync(kubeconfig), 'the kubeconfig stays for the next run to overwrite');
    const gone = await kubectl(kubeconfig, ['get', 'nodes', '--request-timeout=3s']);
    assert.notEqual(gone.code, 0, 'the API server is down');
  } finally {
    // A failed run must not leave processes behind on a shared machine.
    if (child.exitCode === null) child.kill('SIGKILL');
    if (podPid && alive(podPid)) process.kill(podPid, 'SIGKILL');
  }
});

test('devcluster up: a second signal exits at once and still takes every pod process along', async () => {
  const dir = tempDir('slake-up2-');
  const kubeconfig = join(dir, 'config');
  const images = join(dir, 'images.json');
  writeFileSync(images, JSON.stringify({ node: { command: [process.execPath], allowCommand: true } }));
  const child = spawn(process.execPath, [cliBin, 'devcluster', 'up', '--kubeconfig', kubeconfig, '--images', images], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let podPid = 0;
  try {
    await waitFor('devcluster ready', () => stdout.includes('devcluster ready\n') || child.exitCode !== null, 60_000);
    const out = sharedDir('slake-up2-pod-');
    // Ignores SIGTERM, so the graceful stop would wait for its grace period.
    const script = `process.on('SIGTERM', () => {}); require('fs').writeFileSync('${out}/pid', String(process.pid)); setInterval(() => {}, 1000)`;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stubborn', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'node', command: ['node', '-e', script] }] } };
    assert.equal((await kubectl(kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(pod) })).code, 0);
    assert.equal((await kubectl(kubeconfig, ['wait', '--for=condition=Ready', 'pod/stubborn', '--timeout=60s'])).code, 0);
    podPid = await podPidOf(out);
    // Two different signals (the same one twice may merge while pending).
    child.kill('SIGTERM');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stdout);
    assert.match(stdout, /second signal, exiting now/);
    await waitFor('the pod process gone', () => !alive(podPid), 5_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (podPid && alive(podPid)) process.kill(podPid, 'SIGKILL');
  }
});

test('devcluster up refuses bad usage with exit code 2', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(process.execPath, [cliBin, 'devcluster', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.once('exit', (code) => resolve({ code, err }));
    });
  const noKubeconfig = await run(['up']);
  assert.equal(noKubeconfig.code, 2);
  assert.match(noKubeconfig.err, /--kubeconfig FILE is required/);
  const badPort = await run(['up', '--kubeconfig', '/tmp/x', '--port', 'abc']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.err, /--port wants a port number/);
  const bad = tempDir('slake-up-bad-');
  writeFileSync(join(bad, 'images.json'), JSON.stringify({ broken: { command: 'node' } }));
  const badImages = await run(['up', '--kubeconfig', join(bad, 'kc'), '--images', join(bad, 'images.json')]);
  assert.equal(badImages.code, 2);
  assert.match(badImages.err, /broken\.command must be a non-empty array of strings/);
});

// Node 20's mkdir({ recursive: true }) spins forever when a parent exists but refuses new folders;
// the dev cluster must fail at once with the reason instead, for each folder it is given.
test('devcluster up: a kubeconfig or S3 folder under /proc fails within seconds, with the reason', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const dir = tempDir('slake-up-proc-');
  const HANG_MS = 60_000;
  const cases = [
    { name: 'kubeconfig', args: ['--kubeconfig', '/proc/devcluster-x/kc'], want: /could not start: cannot create folder \/proc\/devcluster-x: \/proc exists but refuses new folders/ },
    { name: 's3', args: ['--kubeconfig', join(dir, 'kc'), '--s3', '/proc/devcluster-y/s3'], want: /could not start: cannot create folder \/proc\/devcluster-y\/s3: \/proc exists but refuses new folders/ },
  ];
  for (const k of cases) {
    const started = Date.now();
    const child = spawn(process.execPath, [cliBin, 'devcluster', 'up', ...k.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The bug this guards against spins forever, so any finite bound catches it. 20 s was too tight:
    // under CPU pressure (load ~18 on 2 cores) one case took 12-18 s just to start node and fail.
    const deadline = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    clearTimeout(deadline);
    assert.equal(signal, null, `${k.name}: killed at the deadline (hung); stderr: ${stderr}`);
    assert.equal(code, 1, `${k.name}: ${stderr}`);
    assert.match(stderr, k.want, k.name);
    assert.ok(Date.now() - started < HANG_MS, k.name);
    assert.ok(!existsSync(join(dir, 'kc')), `${k.name}: no kubeconfig is left behind`);
  }
});
