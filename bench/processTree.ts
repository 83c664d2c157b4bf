// Runs a command and measures it from the outside: wall time, and resident memory of its whole
// process tree (the CLI plus every shard worker it forks, or DuckDB's threads) by polling /proc.
// Polling can miss a process that lives less than one interval; the shard processes we care about
// live for seconds.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const PAGE = 4096;

export interface ProcessPeak {
  pid: number;
  /** The command line, arguments joined by spaces. */
  command: string;
  peakRssBytes: number;
}

export interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Largest sum of RSS over the process and all its descendants seen at one sample. */
  peakTreeRssBytes: number;
  /** Every process seen in the tree, with its own peak. */
  processes: ProcessPeak[];
}

function readProc(pid: number): { ppid: number; rss: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name in parentheses may hold spaces or ')': fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const statm = readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ');
    return { ppid: Number(fields[1]), rss: Number(statm[1]) * PAGE };
  } catch {
    return null; // the process ended between listing and reading
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

/** One sample: RSS of `root` and its descendants. */
export function sampleTree(root: number): Map<number, number> {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const p = readProc(pid);
    if (!p) continue;
    parent.set(pid, p.ppid);
    rss.set(pid, p.rss);
  }
  const inTree = new Map<number, number>();
  for (const pid of rss.keys()) {
    let q: number | undefined = pid;
    for (let depth = 0; q !== undefined && q > 1 && depth < 64; depth++) {
      if (q === root) {
        inTree.set(pid, rss.get(pid)!);
        break;
      }
      q = parent.get(q);
    }
  }
  return inTree;
}

export function measure(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; intervalMs?: number; echoStderr?: boolean } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      if (opts.echoStderr) process.stderr.write(b);
    });
    let peakTree = 0;
    const peaks = new Map<number, ProcessPeak>();
    const tick = () => {
      if (child.pid === undefined) return;
      const tree = sampleTree(child.pid);
      let sum = 0;
      for (const [pid, rss] of tree) {
        sum += rss;
        const p = peaks.get(pid) ?? { pid, command: commandOf(pid), peakRssBytes: 0 };
        p.peakRssBytes = Math.max(p.peakRssBytes, rss);
        peaks.set(pid, p);
      }
      peakTree = Math.max(peakTree, sum);
    };
    const timer = setInterval(tick, opts.intervalMs ?? 50);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: (performance.now() - started) / 1000,
        peakTreeRssBytes: peakTree,
        processes: [...peaks.values()],
      });
    });
  });
}
