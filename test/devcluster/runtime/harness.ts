// A dev cluster for the runtime's integration tests: real API server, controllers and kubelet in
// this process, driven with the real kubectl and helm. Pods run `node` scripts (the image `node`
// maps to this node binary and may take a pod command). Backoffs are shortened so retries take
// milliseconds, not the production tens of seconds.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDevCluster, type DevCluster, type ImageMap } from '../../../devcluster/src/index.js';
import { helm, kubectl, type ToolResult } from '../../helpers/kube.js';
import { kubeToolsBin, repoRoot } from '../../helpers/paths.js';

export const NODE_IMAGE = 'node';

export interface TestCluster extends DevCluster {
  k(args: string[], input?: unknown): Promise<ToolResult>;
  /** A long-running kubectl (`logs -f`, `get -w`) whose output is read as it arrives. */
  kStream(args: string[]): StreamingKubectl;
  /** kubectl that must succeed; returns stdout. */
  kOk(args: string[], input?: unknown): Promise<string>;
  helm(args: string[]): Promise<ToolResult>;
  getJson<T = Record<string, unknown>>(args: string[]): Promise<T>;
}

export async function startTestCluster(images: ImageMap = {}): Promise<TestCluster> {
  const dc = await startDevCluster({
    images: { [NODE_IMAGE]: { command: [process.execPath], allowCommand: true, cwd: repoRoot }, ...images },
    jobPodBackoff: { baseMs: 200, maxMs: 2000 },
    containerRestartBackoff: { baseMs: 200, maxMs: 2000 },
    log: process.env.DEVCLUSTER_TEST_LOG ? (l) => console.error(l) : undefined,
  });
  const text = (input: unknown) => (input === undefined ? undefined : typeof input === 'string' ? input : stringify(input));
  const k = (args: string[], input?: unknown) => kubectl(dc.kubeconfigPath, args, { input: text(input), timeoutMs: 90_000 });
  const kOk = async (args: string[], input?: unknown) => {
    const r = await k(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    ...dc,
    k,
    kStream: (args) => streamKubectl(dc.kubeconfigPath, args),
    kOk,
    helm: (args) => helm(dc.kubeconfigPath, args, { timeoutMs: 120_000 }),
    getJson: async <T>(args: string[]) => JSON.parse(await kOk([...args, '-o', 'json'])) as T,
  };
}

export interface StreamingKubectl {
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Resolves once stdout matches `re` (throws after `timeoutMs`, with what arrived). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code and the whole output. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): void;
}

function streamKubectl(kubeconfig: string, args: string[]): StreamingKubectl {
  const home = mkdtempSync(join(tmpdir(), 'slake-kubectl-'));
  const child = spawn(join(kubeToolsBin, 'kubectl'), args, { env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return {
    stdout: () => stdout,
    async waitFor(re, timeoutMs = 30_000) {
      await waitFor(`kubectl ${args.join(' ')} to print ${re} (so far: ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`, () => re.test(stdout) || child.exitCode !== null, timeoutMs, 25);
      if (!re.test(stdout)) throw new Error(`kubectl ${args.join(' ')} exited (${child.exitCode}) without printing ${re}: ${stdout}${stderr}`);
    },
    exited,
    stop: () => void child.kill('SIGTERM'),
  };
}

/** Polls until `fn` returns a truthy value or the time is up (then throws with the last value). */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}${lastError ? `, last error ${(lastError as Error).message}` : ''}`);
}

/** A folder pods (any uid) can write into, outside the repo. */
export function sharedDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o777);
  return d;
}

export function readFiles(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/**
 * The pid a pod's script wrote to `<dir>/pid`. Ready/Running says the process exists, not that its
 * script got that far, so this waits for the file instead of assuming it is there.
 */
export async function podPid(dir: string, timeoutMs = 30_000): Promise<number> {
  const file = join(dir, 'pid');
  return waitFor(`${file} to be written`, () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return /^\d+$/.test(text) ? Number(text) : undefined;
  }, timeoutMs, 25);
}

/** Whether a process id is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function nodeContainer(script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'main', image: NODE_IMAGE, command: ['node', '-e', script], ...extra };
}

export function namespace(name: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}
