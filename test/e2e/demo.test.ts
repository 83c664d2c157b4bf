// The first command of the quick start, as CI runs it: `sparkify-lake demo` (what `npm start` runs)
// with standard input that is not a terminal. It must exit 0 after the summary — tables, a DuckDB
// query that works on the copied lake, how to point kubectl at the cluster — and leave no process
// behind. Ctrl-C (SIGINT) in the middle of the run must stop every pod, the API server and S3.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { topSongsQuery } from '../../cli/src/demo/lakeCopy.js';
import { cliBin, repoRoot, tempDir } from '../helpers/paths.js';
import { descendants, stillRunning, type ProcessInfo } from './processTree.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  seconds: number;
  /** Every process seen below the demo while it ran. */
  seen: Map<number, ProcessInfo>;
}

/** Runs the demo with stdin not a terminal; `interrupt` decides when to send SIGINT (given the output so far). */
function runDemo(dir: string, interrupt?: (output: string) => boolean): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const env = { ...process.env };
    delete env.CI;
    const child = spawn(process.execPath, [cliBin, 'demo', '--dir', dir, '--s3-port', '0'], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let interrupted = false;
    const seen = new Map<number, ProcessInfo>();
    const watch = setInterval(() => {
      for (const p of descendants(child.pid!)) seen.set(p.pid, p);
      if (interrupt && !interrupted && interrupt(output)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    }, 100);
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      resolve({ code, signal, output, seconds: (Date.now() - t0) / 1000, seen });
    });
  });
}

function demoDir(): string {
  const d = tempDir('slake-demo-');
  // The demo's pods run as the images' non-root user and must reach their folders in here.
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

test('npm start without a terminal: the demo runs end to end, prints the summary, exits 0, leaves nothing running', async (t) => {
  const dir = demoDir();
  const run = await runDemo(dir);
  const out = run.output;
  assert.equal(run.code, 0, `demo exited ${run.code}:\n${out}`);
  t.diagnostic(`demo finished in ${run.seconds.toFixed(1)} s`);
  // The steps, as a user sees them.
  assert.match(out, /✓ dev cluster at https:\/\/127\.0\.0\.1:\d+, S3 at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /✓ sample data in s3:\/\/raw\/: 150 song files, 20,000 events in \d+ log files/);
  assert.match(out, /✓ helm installed the CRD, the operator's RBAC and its Deployment/);
  assert.match(out, /✓ secret\/lake-s3 created, sparkifylakejob\.lake\.sparkify\.io\/sample created \(spec\.storage\.endpoint http:\/\/127\.0\.0\.1:4568 → /);
  // Live progress: partitions seen landing, not only at the end.
  assert.match(out, /Scanning +scan \d+\/\d+ shards/);
  const landed = [...out.matchAll(/partitions (\d+)\/(\d+) landed/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  assert.ok(landed.length > 0 && landed.at(-1)![0] === landed.at(-1)![1], `all partitions landed: ${landed.join(' ')}`);
  assert.match(out, /✓ lake job sample Succeeded: run \S+ committed to s3:\/\/lake\/sparkify\//);
  // The summary: inspect's table, the DuckDB query with its result, kubectl instructions.
  for (const table of ['songs', 'artists', 'users', 'time', 'songplays']) assert.match(out, new RegExp(`^ +${table} +[\\d,]+ +\\d+ +\\d+ +[\\d.]+ \\w?i?B$`, 'm'), `inspect row for ${table}`);
  assert.match(out, /records: 20,150 read, 20,150 accepted, 0 rejected/);
  const lakeDir = join(dir, 'lake');
  assert.ok(out.includes(topSongsQuery(lakeDir).split('\n').map((l) => `  ${l}`).join('\n')), 'the query a person can paste');
  assert.match(out, /title +artist +plays +listeners/);
  assert.match(out, new RegExp(`export KUBECONFIG=${join(dir, 'kubeconfig').replaceAll('.', '\\.')}`));
  assert.match(out, /export PATH=".*\.cache\/kube-tools\/bin:\$PATH"/);
  assert.match(out, /kubectl get slj/);
  assert.match(out, /logs \$\(kubectl -n sparkify-system get lease lake-operator -o jsonpath='\{\.spec\.holderIdentity\}'\)/, "the leader's logs");
  assert.match(out, /Standard input is not a terminal \(or CI is set\): stopping the cluster\./);

  // The pasted query works on the copied lake (read by DuckDB, independently of the demo) and agrees
  // with the summary: the top song's play count.
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const rows = (await c.runAndReadAll(topSongsQuery(lakeDir))).getRowsJS();
  const total = Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${lakeDir}/songplays/**/*.parquet', hive_partitioning = true)`)).getRowsJS()[0]![0]);
  c.closeSync();
  instance.closeSync();
  assert.equal(rows.length, 5);
  assert.match(out, new RegExp(`^ +${String(rows[0]![0]).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +.* ${Number(rows[0]![2])} +\\d+$`, 'm'));
  assert.match(out, new RegExp(`songplays +${total.toLocaleString('en-US')} `));

  // Nothing left: not the operator pods, not a runner, not S3.
  assert.ok([...run.seen.values()].some((p) => p.cmdline.includes('dist/operator/src/main.js')), 'the operator ran as pods of the demo');
  assert.deepEqual(stillRunning(run.seen.values()), []);
});

test('Ctrl-C during the run stops every pod, the dev cluster and S3', async () => {
  const dir = demoDir();
  const run = await runDemo(dir, (out) => /Scanning +scan [1-9]\d*\/\d+ shards/.test(out));
  assert.equal(run.code, 130, `exit code after SIGINT:\n${run.output}`);
  assert.match(run.output, /SIGINT received/);
  assert.match(run.output, /stopped: no pod, API server or S3 process is left\./);
  assert.ok([...run.seen.values()].some((p) => p.cmdline.includes('s3rverProcess')), 'S3 was running');
  assert.ok([...run.seen.values()].some((p) => p.cmdline.includes('dist/job-runner/src/main.js')), 'shard pods were running when interrupted');
  assert.deepEqual(stillRunning(run.seen.values()), []);
});
