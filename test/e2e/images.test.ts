// The images cannot be built here (no Docker engine), so this checks what can be checked without one:
// - each Dockerfile is multi-stage on a Node LTS slim base, installs production dependencies with
//   `npm ci --omit=dev`, runs as a numeric non-root user and names an entrypoint in the build output;
// - the .dockerignore allowlist lets in exactly the sources the Dockerfiles COPY;
// - every module the entrypoint can load (static and literal dynamic imports, followed through the
//   compiled files) is either inside what the runtime stage copies or a production dependency;
// - the runtime stage's file layout, assembled from this checkout (its dist/ and the production
//   node_modules of `npm ls --omit=dev`), starts: `--help` exits 0, run as the image's uid 65532,
//   which cannot write anywhere in that tree (a read-only root filesystem), with only /tmp writable.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot, tempDir } from '../helpers/paths.js';

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Joins continuation lines, drops comments, splits into stages. */
function parseDockerfile(text: string): Dockerfile {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [instr, ...rest] = line.split(/\s+/);
    const upper = instr!.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k, v] = rest.join(' ').split('=');
      args[k!] = v ?? '';
    } else if (upper === 'FROM') {
      const [from, as, name] = rest;
      stages.push({ from: from!.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? ''), ...(as?.toUpperCase() === 'AS' ? { name } : {}), lines: [] });
    } else {
      stages.at(-1)?.lines.push(line);
    }
  }
  return { args, stages };
}

const IMAGES = [
  { file: 'job-runner.Dockerfile', entry: 'dist/job-runner/src/main.js', help: /usage: shard --out <uri> --run-id <id> --stage scan\|build/ },
  { file: 'operator.Dockerfile', entry: 'dist/operator/src/main.js', help: /usage: sparkify-lake operator/ },
];

const work = tempDir('slake-images-');
after(() => rmSync(work, { recursive: true, force: true }));

function runtimeCopies(df: Dockerfile): { from?: string; src: string; dest: string }[] {
  return df.stages.at(-1)!.lines.filter((l) => /^COPY\s/i.test(l)).map((l) => {
    const parts = l.split(/\s+/).slice(1);
    const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
    const paths = parts.filter((p) => !p.startsWith('--'));
    return { ...(from ? { from } : {}), src: paths[0]!, dest: paths.at(-1)! };
  });
}

function entrypoint(df: Dockerfile): string[] {
  const line = df.stages.at(-1)!.lines.find((l) => /^ENTRYPOINT\s/i.test(l));
  assert.ok(line, 'the runtime stage names an ENTRYPOINT');
  return JSON.parse(line.slice('ENTRYPOINT'.length).trim()) as string[];
}

/** Maps a path inside the image (/app/…) to this checkout, using the runtime stage's COPY lines. */
function checkoutPathOf(df: Dockerfile, imagePath: string): string | undefined {
  const workdir = df.stages.at(-1)!.lines.find((l) => /^WORKDIR\s/i.test(l))!.split(/\s+/)[1]!;
  for (const c of runtimeCopies(df)) {
    const dest = resolve(workdir, c.dest);
    // A build stage compiles to /src/dist/…, which is this checkout's dist/ (tsc -b, as in npm test).
    const src = c.from === 'build' ? join(repoRoot, relative('/src', c.src)) : c.from === undefined ? join(repoRoot, c.src) : undefined;
    if (!src) continue;
    if (imagePath === dest) return src;
    if (imagePath.startsWith(`${dest}/`)) return join(src, imagePath.slice(dest.length + 1));
  }
  return undefined;
}

const SPECIFIERS = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The modules a compiled entry file can load, following relative imports: files visited and bare specifiers. */
function importGraph(entry: string): { files: string[]; bare: Map<string, string> } {
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIERS)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) bare.set(spec, relative(repoRoot, file));
    }
  }
  return { files: [...seen], bare };
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const prodPackages = (() => {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot, encoding: 'utf8' });
  return out.split('\n').filter(Boolean).slice(1);
})();
const directDependencies = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);

/** A hard-linked copy of a folder (fast, no extra space; the files keep their root ownership and modes). */
function linkTree(src: string, dest: string): void {
  mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    const d = join(dest, e.name);
    if (e.isDirectory()) linkTree(s, d);
    else if (e.isFile()) linkSync(s, d);
  }
}

for (const image of IMAGES) {
  const df = parseDockerfile(readFileSync(join(repoRoot, 'images', image.file), 'utf8'));

  test(`${image.file}: multi-stage, Node LTS slim, production dependencies only, non-root`, () => {
    assert.ok(df.stages.length >= 2, 'multi-stage');
    for (const s of df.stages) assert.match(s.from, /^node:(22|24)-(bookworm-|bullseye-)?slim(@sha256:[a-f0-9]{64})?$/, `base ${s.from}`);
    const deps = df.stages.find((s) => s.name === 'deps')!;
    assert.ok(deps.lines.some((l) => /^RUN npm ci .*--omit=dev/.test(l)), 'npm ci --omit=dev');
    const runtime = df.stages.at(-1)!;
    assert.equal(runtime.name, undefined, 'the last stage is the image');
    assert.ok(!runtime.lines.some((l) => /^RUN\s/i.test(l)), 'the runtime stage runs nothing (no package manager, no build)');
    const copies = runtimeCopies(df);
    assert.deepEqual(copies.filter((c) => c.from === 'deps').map((c) => c.src), ['/app/node_modules'], 'node_modules only from the production-only stage');
    assert.ok(copies.filter((c) => c.from === 'build').every((c) => c.src.startsWith('/src/dist/')), 'only build output from the build stage');
    assert.deepEqual(copies.filter((c) => !c.from).map((c) => c.src), ['package.json']);
    const user = runtime.lines.find((l) => /^USER\s/i.test(l))!.split(/\s+/)[1]!;
    const [uid, gid] = user.split(':').map(Number);
    assert.ok(uid! > 0 && gid! > 0, `numeric non-root USER, got ${user}`);
    assert.ok(runtime.lines.some((l) => /HOME=\/tmp/.test(l)), 'HOME on the writable emptyDir');
    const entry = entrypoint(df);
    assert.deepEqual(entry.slice(0, 1), ['node']);
    assert.equal(checkoutPathOf(df, entry[1]!), join(repoRoot, image.entry), 'the entrypoint is the compiled entry of this checkout');
    assert.ok(existsSync(join(repoRoot, image.entry)), `${image.entry} exists in the build output`);
  });

  test(`${image.file}: every import of the entrypoint is in the image`, () => {
    const { files, bare } = importGraph(join(repoRoot, image.entry));
    const copiedDist = runtimeCopies(df).filter((c) => c.from === 'build').map((c) => join(repoRoot, relative('/src', c.src)));
    const outside = files.filter((f) => !copiedDist.some((d) => f.startsWith(`${d}/`)));
    assert.deepEqual(outside.map((f) => relative(repoRoot, f)), [], 'compiled modules the runtime stage does not copy');
    assert.ok(bare.size > 0);
    const missing = [...bare].filter(([spec]) => !directDependencies.includes(packageName(spec))).map(([spec, from]) => `${spec} (imported by ${from})`);
    assert.deepEqual(missing, [], 'bare imports that are not production dependencies');
    for (const [spec] of bare) assert.ok(prodPackages.includes(join(repoRoot, 'node_modules', packageName(spec))), `${spec} is installed by npm ci --omit=dev`);
  });

  test(`${image.file}: the runtime layout starts as uid 65532 with nothing writable but /tmp`, () => {
    const root = join(work, image.file.replace('.Dockerfile', ''));
    const app = join(root, 'app');
    mkdirSync(app, { recursive: true });
    chmodSync(work, 0o755);
    chmodSync(root, 0o755);
    for (const c of runtimeCopies(df)) {
      if (c.from === 'deps') {
        // What `npm ci --omit=dev` installs: the production packages, not one more.
        const top = prodPackages.filter((p) => !prodPackages.some((q) => q !== p && p.startsWith(`${q}/`)));
        for (const p of top) linkTree(p, join(app, relative(repoRoot, p)));
      } else {
        const src = c.from === 'build' ? join(repoRoot, relative('/src', c.src)) : join(repoRoot, c.src);
        const dest = resolve(app, c.dest);
        if (statSync(src).isDirectory()) linkTree(src, dest);
        else linkSync(src, c.dest.endsWith('/') ? join(dest, c.src) : dest);
      }
    }
    const tmp = join(root, 'tmp');
    mkdirSync(tmp, { mode: 0o1777 });
    chmodSync(tmp, 0o1777);
    const entry = entrypoint(df);
    const asImageUser = process.getuid?.() === 0 ? { uid: 65532, gid: 65532 } : {};
    const r = spawnSync(process.execPath, [join(app, relative('/app', entry[1]!)), '--help'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: tmp, TMPDIR: tmp, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 30_000,
      ...asImageUser,
    });
    assert.equal(r.status, 0, `--help exited ${r.status}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, image.help);
    if (process.getuid?.() === 0) {
      // The same user cannot write into the image: the read-only root filesystem costs nothing.
      const w = spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(join(app, 'dist', 'probe'))}, 'x')`], { ...asImageUser, encoding: 'utf8' });
      assert.notEqual(w.status, 0, 'uid 65532 cannot write into the image tree');
    }
  });
}

test('.dockerignore lets in exactly what the Dockerfiles COPY from the context', () => {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  // Glob → RegExp: `**` any path, `*` and `?` within one path segment.
  const toRegExp = (p: string) =>
    new RegExp(`^${p.split('**').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*')}(/.*)?$`);
  // Docker's rule: the last matching pattern decides; `!` re-includes.
  const included = (path: string) => {
    let inc = true;
    for (const p of patterns) {
      const neg = p.startsWith('!');
      if (toRegExp(neg ? p.slice(1) : p).test(path)) inc = neg;
    }
    return inc;
  };
  const walk = (d: string): string[] => readdirSync(join(repoRoot, d), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  const sources = new Set<string>();
  for (const image of IMAGES) {
    const df = parseDockerfile(readFileSync(join(repoRoot, 'images', image.file), 'utf8'));
    for (const s of df.stages) {
      for (const l of s.lines.filter((x) => /^COPY\s/i.test(x) && !/--from=/.test(x))) {
        for (const src of l.split(/\s+/).slice(1, -1)) sources.add(src);
      }
    }
  }
  for (const src of sources) {
    const files = statSync(join(repoRoot, src)).isDirectory() ? walk(src) : [src];
    for (const f of files) assert.ok(included(f), `${f} (COPY ${src}) is excluded by .dockerignore`);
  }
  for (const f of ['node_modules/yaml/package.json', 'dist/job-runner/src/main.js', '.cache/kube-tools/bin/kubectl', 'test/helpers/s3.ts', 'README.md', 'generator/src/index.ts', '.git/HEAD']) {
    assert.ok(!included(f), `${f} is kept out of the build context`);
  }
});
