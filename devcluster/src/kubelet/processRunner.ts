// A container as a local process: spawned in its own process group (so everything it starts can be
// signalled together), as the requested uid/gid, stdout/stderr into its CRI log file. Exit codes
// follow container runtimes: a process killed by signal N exits 128+N.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { openLogWriter, type ContainerLogWriter } from './containerLog.js';

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
  exited: Promise<ProcessExit>;
  signal(sig: NodeJS.Signals): void;
}

export function signalNumber(sig: string): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}

export function startProcess(spec: ProcessSpec): ContainerProcess {
  const log: ContainerLogWriter = openLogWriter(spec.logPath);
  let child: ChildProcess;
  try {
    child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      uid: spec.uid,
      gid: spec.gid,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const message = (e as Error).message;
    return { pid: undefined, exited: log.close().then(() => ({ exitCode: 128, startError: message })), signal: () => undefined };
  }
  child.stdout!.on('data', (c: Buffer) => log.write(c));
  child.stderr!.on('data', (c: Buffer) => log.write(c));
  const exited = new Promise<ProcessExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
      // 'close' may not follow a failed spawn.
      if (child.pid === undefined) void log.close().then(() => resolve({ exitCode: 128, startError: describeSpawnError(spec.argv[0]!, e) }));
    });
    child.once('exit', (code, sig) => {
      if (spawnError && child.pid === undefined) return;
      // When a container's main process ends, the container ends: whatever it left behind in its
      // process group is killed, which also lets its output pipes close.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // nothing left
      }
      const result: ProcessExit = spawnError ? { exitCode: 128, startError: describeSpawnError(spec.argv[0]!, spawnError) } : sig ? { exitCode: 128 + signalNumber(sig), signal: sig } : { exitCode: code ?? 0 };
      const flushed = new Promise<void>((r) => {
        if (child.stdout!.readableEnded && child.stderr!.readableEnded) return r();
        const t = setTimeout(r, 2000);
        child.once('close', () => {
          clearTimeout(t);
          r();
        });
      });
      void flushed.then(() => log.close()).then(() => resolve(result));
    });
  });
  return {
    get pid() {
      return child.pid;
    },
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

function describeSpawnError(cmd: string, e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${cmd}": executable file not found in $PATH: unknown`;
  if (code === 'EACCES') return `failed to create containerd task: exec: "${cmd}": permission denied: unknown`;
  return `failed to start container process: ${e.message}`;
}
