// The real kubectl and helm binaries, unpacked by scripts/kube-tools.mjs from a registry package.
// Each call gets the kubeconfig explicitly and a per-process KUBECACHEDIR, so discovery caches never
// leak between test runs.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeToolsBin } from './paths.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'slake-kubecache-'));

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

function tool(name: 'kubectl' | 'helm') {
  const bin = join(kubeToolsBin, name);
  return (kubeconfig: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ToolResult> => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`node scripts/kube-tools.mjs\` (npm test does it)`);
    return new Promise((resolve) => {
      const child = execFile(
        bin,
        args,
        {
          env: { PATH: process.env.PATH ?? '', HOME: cacheDir, KUBECONFIG: kubeconfig, KUBECACHEDIR: cacheDir, HELM_CACHE_HOME: join(cacheDir, 'helm-cache'), HELM_CONFIG_HOME: join(cacheDir, 'helm-config'), HELM_DATA_HOME: join(cacheDir, 'helm-data'), ...opts.env },
          timeout: opts.timeoutMs ?? 60_000,
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  };
}

export const kubectl = tool('kubectl');
export const helm = tool('helm');
