// Where a process allocates, garbage included: a heap snapshot shows only what is alive, but an
// operator's memory is mostly the heap V8 keeps for garbage it has not collected yet, so what
// matters is who allocates. Two uses:
//
//   node --import ./dist/bench/allocationProfile.js app.js    (env SPARKIFY_ALLOC_PROFILE=out.json)
//       starts V8's sampling heap profiler with collected objects kept, and writes the profile to
//       SPARKIFY_ALLOC_PROFILE on SIGUSR2 (operator-scale.ts: --node-option=--import=… --alloc-profile).
//   node dist/bench/allocationProfile.js out.json [--top 30]
//       sums the sampled bytes by function (self) and by the first frame in our own code.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const OURS = /\/dist\/(operator|job-runner)\//;

function startProfiling(out: string): void {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  process.on('SIGUSR2', () => {
    session.post('HeapProfiler.getSamplingProfile', (err, res) => {
      if (err) console.error('allocation profile failed', err);
      else writeFileSync(out, JSON.stringify((res as { profile: unknown }).profile));
    });
  });
}

function summarize(path: string, top: number): void {
  const root = (JSON.parse(readFileSync(path, 'utf8')) as { head: ProfileNode }).head;
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  let total = 0;
  const frame = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const walk = (n: ProfileNode, ourFrame: string | undefined) => {
    const mine = OURS.test(n.callFrame.url) ? frame(n) : ourFrame;
    if (n.selfSize) {
      total += n.selfSize;
      self.set(frame(n), (self.get(frame(n)) ?? 0) + n.selfSize);
      const k = mine ?? '(not under our code)';
      ours.set(k, (ours.get(k) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, mine);
  };
  walk(root, undefined);
  const mib = (b: number) => (b / 2 ** 20).toFixed(1).padStart(7);
  console.log(`${mib(total)} MiB allocated (sampled)`);
  for (const [title, m] of [['by function (self)', self], ['by the innermost frame in our code', ours]] as const) {
    console.log(`\n${title}:`);
    for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mib(v)} MiB ${((100 * v) / total).toFixed(1).padStart(5)}% ${k}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (!positionals[0]) throw new Error('usage: allocationProfile.js PROFILE.json [--top N]');
  summarize(positionals[0], Number(values.top));
} else if (process.env.SPARKIFY_ALLOC_PROFILE) {
  startProfiling(process.env.SPARKIFY_ALLOC_PROFILE);
}
