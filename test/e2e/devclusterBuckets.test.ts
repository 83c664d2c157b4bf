// `devcluster up --s3 DIR --bucket NAME…`: the buckets exist once "devcluster ready" is printed, so
// `sparkify-lake generate --out s3://raw/…` works with only the env file; a second start on the same
// DIR finds them there; bad usage exits 2.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliBin, repoRoot, tempDir } from '../helpers/paths.js';

const dir = tempDir('slake-buckets-');
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Starts `devcluster up`, waits for ready, runs `body` with the S3 env, then stops it with SIGTERM. */
async function withDevcluster(args: string[], body: (env: Record<string, string>) => Promise<void>): Promise<string> {
  const kubeconfig = join(dir, 'config');
  const child = spawn(process.execPath, [cliBin, 'devcluster', 'up', '--kubeconfig', kubeconfig, '--s3', join(dir, 's3'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!output.includes('devcluster ready\n') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(output, /devcluster ready\n/);
    const env = Object.fromEntries(readFileSync(`${kubeconfig}.env`, 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
    await body(env);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    return output;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

test('devcluster up --bucket: buckets ready for generate and run, and kept across restarts', async () => {
  const first = await withDevcluster(['--bucket', 'raw', '--bucket', 'lake', '--bucket', 'raw'], async (env) => {
    const g = await cli(['generate', '--out', 's3://raw/sample', '--songs', '5', '--events', '50', '--json'], env);
    assert.equal(g.code, 0, g.stderr);
    const none = await cli(['inspect', 's3://lake/x'], env);
    assert.match(none.stderr, /no committed lake at s3:\/\/lake\/x\//, 'bucket lake exists (else: bucket "lake" does not exist)');
  });
  assert.match(first, /S3 endpoint: http:\/\/127\.0\.0\.1:\d+ \(settings in .*config\.env\), buckets: raw, lake\n/);
  // Same DIR: the buckets are there already, which is not an error.
  await withDevcluster(['--bucket', 'raw'], async (env) => {
    const g = await cli(['generate', '--out', 's3://raw/again', '--songs', '5', '--events', '50'], env);
    assert.equal(g.code, 0, g.stderr);
  });
});

test('devcluster up --bucket: bad usage exits 2 before anything starts', async () => {
  const cases: [string[], RegExp][] = [
    [['devcluster', 'up', '--kubeconfig', join(dir, 'c2'), '--bucket', 'raw'], /--bucket needs --s3 DIR/],
    [['devcluster', 'up', '--kubeconfig', join(dir, 'c2'), '--s3', join(dir, 's3b'), '--bucket', 'Raw_Data!'], /--bucket invalid bucket name "Raw_Data!"/],
    [['devcluster', 'up', '--kubeconfig', join(dir, 'c2'), '--s3', join(dir, 's3b'), '--bucket', 'raw/x'], /--bucket "raw\/x": a bucket name, not a path/],
  ];
  for (const [args, want] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, want);
  }
});
