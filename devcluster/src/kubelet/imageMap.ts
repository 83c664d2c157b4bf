// The dev cluster has no container runtime: an image name maps to a local command. The caller (the
// CLI, a test) supplies the map; the dev cluster knows no image of its own.
//
// A container's process is chosen as Kubernetes chooses it from an image's ENTRYPOINT and CMD:
//   neither command nor args ──▶ entry.command + entry.args
//   args only                ──▶ entry.command + args
//   command (+ args)         ──▶ command + args, only if the entry allows replacing its entrypoint
// `$(VAR)` references in command and args expand from the container's environment (`$$` escapes).

export interface ImageEntry {
  /** The entrypoint: argv[0] is looked up on PATH like any command. */
  command: string[];
  /** Default arguments (the image's CMD). */
  args?: string[];
  /** Environment baked into the "image". */
  env?: Record<string, string>;
  /** Working directory when the container sets none. */
  cwd?: string;
  /** The uid the image runs as when the pod sets no runAsUser (like USER in a Dockerfile); default 0. */
  user?: number;
  /** Whether a pod's `command` may replace the entrypoint; default false. */
  allowCommand?: boolean;
}

/** Keyed by image name without tag or digest (`ghcr.io/org/app`), or a glob with `*`. */
export type ImageMap = Record<string, ImageEntry>;

/** `ghcr.io/org/app:1.2@sha256:…` → `ghcr.io/org/app`. */
export function imageName(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return name;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export function resolveImage(map: ImageMap, image: string): { key: string; entry: ImageEntry } | undefined {
  const name = imageName(image);
  const candidates = [name, image];
  if (!name.includes('/')) candidates.push(`docker.io/library/${name}`);
  if (name.startsWith('docker.io/library/')) candidates.push(name.slice('docker.io/library/'.length));
  for (const c of candidates) if (map[c]) return { key: c, entry: map[c]! };
  const globs = Object.keys(map)
    .filter((k) => k.includes('*'))
    .sort((a, b) => b.length - a.length);
  for (const g of globs) if (globToRegExp(g).test(name) || globToRegExp(g).test(image)) return { key: g, entry: map[g]! };
  return undefined;
}

/** Expands `$(NAME)` from env; unknown references stay as written and `$$(` yields `$(`, as Kubernetes does. */
export function expandVars(s: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '$' && s[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (ch === '$' && s[i + 1] === '(') {
      const end = s.indexOf(')', i + 2);
      if (end > 0) {
        const name = s.slice(i + 2, end);
        out += Object.prototype.hasOwnProperty.call(env, name) ? env[name] : `$(${name})`;
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

export type ArgvResult = { argv: string[] } | { error: string };

export function containerArgv(entry: ImageEntry, image: string, container: { command?: string[]; args?: string[] }, env: Record<string, string>): ArgvResult {
  let argv: string[];
  if (container.command && container.command.length > 0) {
    if (!entry.allowCommand) {
      return { error: `image "${image}" does not allow replacing its entrypoint in the dev cluster's image map; set allowCommand on its entry or use args` };
    }
    argv = [...container.command, ...(container.args ?? [])];
  } else {
    argv = [...entry.command, ...(container.args ?? entry.args ?? [])];
  }
  if (argv.length === 0) return { error: `no command specified for image "${image}"` };
  return { argv: argv.map((a) => expandVars(a, env)) };
}
