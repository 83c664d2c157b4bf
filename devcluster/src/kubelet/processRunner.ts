// A container as a local process: spawned in its own process group (so everything it starts can be
// signalled together), as the requested uid/gid, with stdout and stderr both writing straight into its
// log file — one O_APPEND file, so they interleave exactly as written and no output passes through the
// dev cluster's event loop. The file is where the API server serves `pods/log` from (the contract of
// devcluster/src/api/podLogs.ts): `<logRoot>/<namespace>_<pod>_<pod uid>/<container>/<restartCount>.log`,
// the newest run being the current one, the one before it what `kubectl logs --previous` reads.
// Exit codes follow container runtimes: a process killed by signal N exits 128+N.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';

export interface ProcessSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  logPath: string;
}

export interface ProcessExit {
  exitCode: number;
  signal?: string;
  /** Set when the process could not be started at all. */
  startError?: string;
}

export interface ContainerProcess {
  pid: number | undefined;
  /** Whether the process runs (false: it could not be started, and `exited` tells why). */
  started: Promise<boolean>;
  exited: Promise<ProcessExit>;
  signal(sig: NodeJS.Signals): void;
}

export function signalNumber(sig: string): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}

export function startProcess(spec: ProcessSpec): ContainerProcess {
  let child: ChildProcess;
  let fd: number | undefined;
  try {
    fd = openSync(spec.logPath, 'a');
    child = spawn(spec.argv[0]!, spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, uid: spec.uid, gid: spec.gid, detached: true, stdio: ['ignore', fd, fd] });
  } catch (e) {
    const failed = Promise.resolve({ exitCode: 128, startError: describeSpawnError(spec.argv[0]!, e as NodeJS.ErrnoException) });
    return { pid: undefined, started: Promise.resolve(false), exited: failed, signal: () => undefined };
  } finally {
    // The child holds its own copy of the descriptor.
    if (fd !== undefined) closeSync(fd);
  }
  const exited = new Promise<ProcessExit>((resolve) => {
    let spawnError: NodeJS.ErrnoException | undefined;
    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
      // No 'exit' follows a spawn that failed.
      if (child.pid === undefined) resolve({ exitCode: 128, startError: describeSpawnError(spec.argv[0]!, e) });
    });
    child.once('exit', (code, sig) => {
      if (spawnError && child.pid === undefined) return;
      // When a container's main process ends, the container ends: whatever it left behind in its
      // process group is killed.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // nothing left
      }
      resolve(spawnError ? { exitCode: 128, startError: describeSpawnError(spec.argv[0]!, spawnError) } : sig ? { exitCode: 128 + signalNumber(sig), signal: sig } : { exitCode: code ?? 0 });
    });
  });
  return {
    get pid() {
      return child.pid;
    },
    started: Promise.resolve(child.pid !== undefined),
    exited,
    signal(sig) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        // The whole group: shells and their children stop together, as in a container.
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    },
  };
}

function describeSpawnError(cmd: string, e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOENT') return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${cmd}": executable file not found in $PATH: unknown`;
  if (e.code === 'EACCES') return `failed to create containerd task: exec: "${cmd}": permission denied: unknown`;
  return `failed to start container process: ${e.message}`;
}
