// Helpers for the run tests: a lake folder's Parquet files (with the run id taken out of their
// names so two runs compare file by file), the manifest-vs-folder exactness check, the CLI runner.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { cliBin, repoRoot } from '../../helpers/paths.js';
import type { CurrentPointer, Manifest } from '../../../job-runner/src/index.js';

/** Writes `body` as the object `key` ('/'-separated) of the local folder `root`, making its folders. */
export function putFile(root: string, key: string, body: string | Buffer): void {
  const path = join(root, ...key.split('/'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

export function walk(dir: string): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(walk(p));
    else out.push(p);
  }
  return out.sort();
}

/** `<table>/…/part-<runId>-<id>.parquet` → bytes, keyed with the run id replaced by RUN. */
export function tableFiles(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const table of ['songs', 'artists', 'users', 'time', 'songplays']) {
    for (const p of walk(join(root, table))) {
      if (!p.endsWith('.parquet')) continue;
      const key = relative(root, p).split('\\').join('/').replace(/part-[a-z0-9-]+?-(\d{5})\.parquet$/, 'part-RUN-$1.parquet');
      files.set(key, readFileSync(p));
    }
  }
  return files;
}

/** Asserts two lakes hold byte-identical table files (names compared without run ids). */
export function assertSameFiles(a: string, b: string): void {
  const fa = tableFiles(a);
  const fb = tableFiles(b);
  assert.deepEqual([...fa.keys()].sort(), [...fb.keys()].sort(), 'the two lakes have different file layouts');
  for (const [k, bytes] of fa) assert.ok(bytes.equals(fb.get(k)!), `${k} differs between ${a} and ${b}`);
}

export function readManifest(root: string): Manifest {
  const current = JSON.parse(readFileSync(join(root, '_lake', 'current.json'), 'utf8')) as CurrentPointer;
  return JSON.parse(readFileSync(join(root, current.manifest), 'utf8')) as Manifest;
}

/** After a commit, the table folders hold exactly the manifest's files (plus _SUCCESS), sizes equal. */
export function assertExactlyCommitted(root: string): Manifest {
  const m = readManifest(root);
  const onDisk = ['songs', 'artists', 'users', 'time', 'songplays']
    .flatMap((t) => walk(join(root, t)))
    .map((p) => relative(root, p).split('\\').join('/'))
    .filter((k) => !k.endsWith('/_SUCCESS'));
  assert.deepEqual(onDisk.sort(), m.files.map((f) => f.key).sort(), 'table folders must hold exactly the committed files');
  for (const f of m.files) assert.equal(statSync(join(root, f.key)).size, f.bytes, `${f.key} size`);
  for (const t of ['songs', 'artists', 'users', 'time', 'songplays']) assert.ok(statSync(join(root, t, '_SUCCESS')).isFile(), `${t}/_SUCCESS`);
  return m;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The JSON object on the last line of stdout (`--json`). */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}
