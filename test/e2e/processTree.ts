// The processes a test started, found through /proc (Linux): used to prove that a command leaves
// no process behind when it exits, whatever its children were (pods, S3 server, kubectl, helm).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

function info(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: the fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined; // a zombie has exited; only its parent's wait is missing
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(rest[1]), cmdline };
  } catch {
    return undefined;
  }
}

export function allProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => info(Number(n)))
    .filter((p): p is ProcessInfo => p !== undefined);
}

/** Every live descendant of `root`. */
export function descendants(root: number): ProcessInfo[] {
  const procs = allProcesses();
  const children = new Map<number, ProcessInfo[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcessInfo[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

/** Those of `seen` that still run the same command (a pid may be reused by an unrelated process). */
export function stillRunning(seen: Iterable<ProcessInfo>): ProcessInfo[] {
  return [...seen].filter((p) => info(p.pid)?.cmdline === p.cmdline);
}
