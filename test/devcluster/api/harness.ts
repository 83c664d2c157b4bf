// A dev-cluster API server for one test file: in-process on a free port, an admin kubeconfig in a temp
// folder, and helpers to run the real kubectl (also as a long-running process for `get -w`) and to
// speak raw HTTPS to the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { renderKubeconfig } from '../../../devcluster/src/api/kubeconfig.js';
import { newToken, startApiServer, type ApiServer, type ApiServerOptions } from '../../../devcluster/src/api/server.js';
import { kubectl, type ToolResult } from '../../helpers/kube.js';
import { kubeToolsBin, tempDir } from '../../helpers/paths.js';

/** What JSON.parse returns: tests read response bodies field by field and assert on them. */
export type ParsedJson = ReturnType<typeof JSON.parse>;

export interface TestCluster {
  api: ApiServer;
  dir: string;
  adminToken: string;
  kubeconfig: string;
  /** Writes a kubeconfig for another bearer token. */
  kubeconfigFor(token: string, name: string): string;
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string; timeoutMs?: number }): Promise<ToolResult>;
  /** kubectl that must succeed; returns stdout. */
  k(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<string>;
  /** A raw HTTPS request with the admin token (or `token`). */
  request(method: string, path: string, opts?: { body?: unknown; contentType?: string; token?: string | null; accept?: string }): Promise<{ code: number; headers: Record<string, string | string[] | undefined>; text: string; json: () => ParsedJson }>;
  /** Starts a long-running kubectl (get -w); lines arrive in `lines`. */
  spawnKubectl(args: string[]): { child: ChildProcess; lines: string[]; waitFor(re: RegExp, timeoutMs?: number): Promise<string>; stop(): Promise<void> };
  stop(): Promise<void>;
}

export async function startTestCluster(opts: ApiServerOptions = {}): Promise<TestCluster> {
  const dir = tempDir('slake-devcluster-api-');
  const adminToken = newToken();
  const api = await startApiServer({ ...opts, users: [{ token: adminToken, user: { username: 'admin', groups: ['system:masters'] } }, ...(opts.users ?? [])] });
  const kubeconfigFor = (token: string, name: string) => {
    const file = join(dir, `${name}.kubeconfig`);
    writeFileSync(file, renderKubeconfig({ server: api.url, caPem: api.caPem, token, user: name }));
    return file;
  };
  const kubeconfig = kubeconfigFor(adminToken, 'admin');
  const cacheDir = join(dir, 'kubecache');
  const run = (args: string[], o: { input?: string; kubeconfig?: string; timeoutMs?: number } = {}) =>
    kubectl(o.kubeconfig ?? kubeconfig, args, { input: o.input, timeoutMs: o.timeoutMs ?? 30_000, env: { KUBECACHEDIR: cacheDir } });
  const children = new Set<ChildProcess>();
  return {
    api,
    dir,
    adminToken,
    kubeconfig,
    kubeconfigFor,
    kubectl: run,
    async k(args, o) {
      const r = await run(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    request(method, path, o = {}) {
      const token = o.token === undefined ? adminToken : o.token;
      const payload = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      return new Promise((resolve, reject) => {
        const req = https.request(
          `${api.url}${path}`,
          {
            method,
            ca: api.caPem,
            headers: {
              ...(token ? { Authorization: `Bearer ${token}` } : {}),
              // Node sends DELETE bodies without framing unless told their length.
              ...(payload !== undefined ? { 'Content-Type': o.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
              Accept: o.accept ?? 'application/json',
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({ code: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    spawnKubectl(args) {
      const child = spawn(join(kubeToolsBin, 'kubectl'), args, {
        env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: cacheDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      const lines: string[] = [];
      let buf = '';
      const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        const parts = buf.split('\n');
        buf = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          for (const w of [...waiters]) if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      return {
        child,
        lines,
        waitFor(re, timeoutMs = 10_000) {
          const seen = lines.find((l) => re.test(l));
          if (seen) return Promise.resolve(seen);
          return new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`kubectl ${args.join(' ')}: no line matching ${re} within ${timeoutMs} ms; got:\n${lines.join('\n')}\nstderr: ${stderr}`)), timeoutMs);
            waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
          });
        },
        async stop() {
          child.kill('SIGTERM');
          await exited;
          children.delete(child);
        },
      };
    },
    async stop() {
      for (const c of children) c.kill('SIGKILL');
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A CRD this server has never seen (not the product's): a Widget with printer columns and a status subresource. */
export const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.test' },
  spec: {
    group: 'example.test',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', shortNames: ['wd'], categories: ['all'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
          { name: 'Color', type: 'string', jsonPath: '.spec.color' },
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: {
                  size: { type: 'integer', minimum: 1, maximum: 10 },
                  color: { type: 'string', enum: ['red', 'green', 'blue'], default: 'red' },
                  name: { type: 'string', pattern: '^[a-z]+$', maxLength: 8 },
                  tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
                  quantity: { 'x-kubernetes-int-or-string': true },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: {
                type: 'object',
                properties: {
                  observedGeneration: { type: 'integer' },
                  conditions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['type', 'status'],
                      properties: {
                        type: { type: 'string' },
                        status: { type: 'string' },
                        reason: { type: 'string' },
                        message: { type: 'string' },
                        lastTransitionTime: { type: 'string', format: 'date-time' },
                        observedGeneration: { type: 'integer' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};
