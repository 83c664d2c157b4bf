// The operator as a process: SIGTERM while it still waits for an API server that does not answer
// (its informers retrying the first list) ends it cleanly with exit code 0, not by Node's default
// signal handler; the shutdown after a full start is covered by e2e.test.ts (exit 0 on SIGTERM).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliBin, tempDir } from '../helpers/paths.js';

const dir = tempDir('slake-op-process-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('SIGTERM before the caches ever synced (API server unreachable): exit 0, promptly', async () => {
  const kubeconfig = join(dir, 'kubeconfig');
  const server = `https://127.0.0.1:${await closedPort()}`;
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  const child = spawn(process.execPath, [cliBin, 'operator', '--kubeconfig', kubeconfig, '--metrics-port', '0', '--metrics-host', '127.0.0.1'], { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 20_000;
  // The probe server is up and the informers are retrying their first list against the dead server.
  while (!/informer stopped; restarting|serving \/healthz/.test(out)) {
    assert.ok(Date.now() < deadline, `the operator did not start serving probes:\n${out}`);
    assert.equal(child.exitCode, null, `the operator exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.doesNotMatch(out, /caches synced/);
  const t0 = Date.now();
  child.kill('SIGTERM');
  const { code, signal } = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, out);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  assert.match(out, /SIGTERM before the start completed: exiting \(no lease held, nothing to release\)/);
});
