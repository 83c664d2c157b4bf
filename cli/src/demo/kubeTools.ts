// kubectl and helm for the demo: the binaries scripts/kube-tools.mjs unpacks from the registry
// package (the same ones the tests use), run against the demo's kubeconfig with their caches kept
// inside the demo's folder, so nothing in the user's ~/.kube or ~/.cache is touched.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class DemoError extends Error {}

/** Unpacks kubectl and helm if needed; returns their folder. */
export async function ensureKubeTools(packageRoot: string): Promise<string> {
  const script = join(packageRoot, 'scripts', 'kube-tools.mjs');
  if (!existsSync(script)) throw new DemoError(`${script} is missing: the demo runs from a checkout of the repository (npm start)`);
  const mod = (await import(pathToFileURL(script).href)) as { ensureKubeTools(): string };
  try {
    return mod.ensureKubeTools();
  } catch (e) {
    throw new DemoError(`could not unpack kubectl and helm: ${(e as Error).message} (are the dev dependencies installed? npm ci)`);
  }
}

export interface KubeTools {
  binDir: string;
  /** Runs kubectl or helm; resolves to stdout, rejects with a DemoError naming the command and its stderr. */
  run(tool: 'kubectl' | 'helm', args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
}

export function kubeTools(binDir: string, kubeconfig: string, stateDir: string, signal: AbortSignal): KubeTools {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: stateDir,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(stateDir, 'kube-cache'),
    HELM_CACHE_HOME: join(stateDir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(stateDir, 'helm', 'config'),
    HELM_DATA_HOME: join(stateDir, 'helm', 'data'),
  };
  return {
    binDir,
    run(tool, args, opts = {}) {
      return new Promise((resolve, reject) => {
        // The abort signal kills a running kubectl/helm on Ctrl-C: the demo leaves no process behind.
        const child = execFile(join(binDir, tool), args, { env, signal, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
          if (!err) return resolve(String(stdout));
          if (signal.aborted) return reject(new DemoError(`${tool} stopped`));
          reject(new DemoError(`\`${tool} ${args.join(' ')}\` failed: ${String(stderr).trim() || err.message}`));
        });
        if (opts.input !== undefined) child.stdin?.end(opts.input);
      });
    },
  };
}
