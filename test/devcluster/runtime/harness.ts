// A dev cluster for the runtime's integration tests: real API server, controllers and kubelet in
// this process, driven with the real kubectl and helm. Pods run `node` scripts (the image `node`
// maps to this node binary and may take a pod command). Backoffs are shortened so retries take
// milliseconds, not the production tens of seconds.
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDevCluster, type DevCluster, type ImageMap } from '../../../devcluster/src/index.js';
import { helm, kubectl, type ToolResult } from '../../helpers/kube.js';
import { repoRoot } from '../../helpers/paths.js';

export const NODE_IMAGE = 'node';

export interface TestCluster extends DevCluster {
  k(args: string[], input?: unknown): Promise<ToolResult>;
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
    kOk,
    helm: (args) => helm(dc.kubeconfigPath, args, { timeoutMs: 120_000 }),
    getJson: async <T>(args: string[]) => JSON.parse(await kOk([...args, '-o', 'json'])) as T,
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
