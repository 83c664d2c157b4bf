// Closing the terminal (SIGHUP) stops the foreground commands as cleanly as Ctrl-C: SIGHUP's default
// kills only the command itself, and its pods and S3 server (in their own process groups) used to
// live on with parent 1. Checked by pid: every process seen below the command is gone afterwards.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { kubectl } from '../helpers/kube.js';
import { cliBin, repoRoot, tempDir } from '../helpers/paths.js';
import { descendants, stillRunning, type ProcessInfo } from './processTree.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(prefix: string, mode?: number): string {
  const d = mode === undefined ? tempDir(prefix) : mkdtempSync(join(tmpdir(), prefix));
  if (mode !== undefined) chmodSync(d, mode);
  dirs.push(d);
  return d;
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A command in the foreground, with every process seen below it recorded while it runs. */
function foreground(args: string[]) {
  const env = { ...process.env };
  delete env.CI;
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  const run = { child, output: '', seen: new Map<number, ProcessInfo>() };
  child.stdout.on('data', (b: Buffer) => (run.output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (run.output += b.toString()));
  const watch = setInterval(() => {
    for (const p of descendants(child.pid!)) run.seen.set(p.pid, p);
  }, 50);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      clearInterval(watch);
      resolve(code);
    }),
  );
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const p of stillRunning(run.seen.values())) process.kill(p.pid, 'SIGKILL');
  };
  return { run, exited, kill };
}

test('devcluster up: SIGHUP stops the pod, the S3 server and the API server, like SIGTERM', async () => {
  const d = dir('slake-hup-');
  const kubeconfig = join(d, 'config');
  const images = join(d, 'images.json');
  writeFileSync(images, JSON.stringify({ node: { command: [process.execPath], allowCommand: true, cwd: repoRoot } }));
  const fg = foreground(['devcluster', 'up', '--kubeconfig', kubeconfig, '--s3', join(d, 's3'), '--images', images]);
  try {
    await waitFor('devcluster ready', () => fg.run.output.includes('devcluster ready\n') || fg.run.child.exitCode !== null, 60_000);
    assert.equal(fg.run.child.exitCode, null, fg.run.output);
    const out = dir('slake-hup-pod-', 0o777);
    const script = `require('fs').writeFileSync('${out}/pid', String(process.pid)); setInterval(() => {}, 1000)`;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sleeper', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'node', command: ['node', '-e', script] }] } };
    const applied = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal(applied.code, 0, applied.stderr);
    const podPid = await waitFor('the pod to write its pid', () => (existsSync(join(out, 'pid')) ? Number(readFileSync(join(out, 'pid'), 'utf8')) || undefined : undefined), 60_000);
    await waitFor('the pod seen below devcluster up', () => fg.run.seen.has(podPid), 5_000);
    assert.ok([...fg.run.seen.values()].some((p) => p.cmdline.includes('s3rverProcess')), `the S3 server runs below it: ${[...fg.run.seen.values()].map((p) => p.cmdline).join('\n')}`);

    fg.run.child.kill('SIGHUP');
    assert.equal(await fg.exited, 0, fg.run.output);
    assert.match(fg.run.output, /SIGHUP received, stopping pods and S3\ndevcluster stopped\n/);
    // Processes are reaped asynchronously by whoever inherited them: give them a moment.
    await waitFor('no process left', () => stillRunning(fg.run.seen.values()).length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(stillRunning(fg.run.seen.values()), []);
  } finally {
    fg.kill();
  }
});

test('demo: SIGHUP once the dev cluster is up stops every part of it', async () => {
  const d = dir('slake-hup-demo-', 0o755);
  const fg = foreground(['demo', '--dir', d, '--s3-port', '0']);
  try {
    // Wait until the cluster and S3 run and a pod (the operator, from helm) may have started.
    await waitFor('the operator installed', () => /✓ helm installed/.test(fg.run.output) || fg.run.child.exitCode !== null, 120_000);
    assert.equal(fg.run.child.exitCode, null, fg.run.output);
    await waitFor('an operator pod', () => [...fg.run.seen.values()].some((p) => p.cmdline.includes('dist/operator/src/main.js')), 60_000);
    fg.run.child.kill('SIGHUP');
    assert.equal(await fg.exited, 130, fg.run.output);
    assert.match(fg.run.output, /SIGHUP received/);
    assert.ok([...fg.run.seen.values()].some((p) => p.cmdline.includes('s3rverProcess')), 'S3 was running');
    await waitFor('no process left', () => stillRunning(fg.run.seen.values()).length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(stillRunning(fg.run.seen.values()), []);
  } finally {
    fg.kill();
  }
});
