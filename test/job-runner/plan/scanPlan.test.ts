// Scan planning, table-driven: adversarial size distributions, invariants (every byte of every input
// in exactly one split, no empty shard, deterministic), and the 1,000,000-object speed target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRunSpec, planScan, type InputObject, type RunSpecInput, type ScanPlan } from '../../../job-runner/src/index.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function spec(sharding: RunSpecInput['sharding'] = {}) {
  return makeRunSpec({ runId: 'r1', songs: '/in/songs', logs: '/in/logs', output: '/out', origin: 'test', sharding, now: new Date(0) });
}

function inputs(sizes: readonly (number | { size: number; gz: true })[], kind: 'log' | 'song' = 'log'): InputObject[] {
  return sizes.map((s, i) => {
    const size = typeof s === 'number' ? s : s.size;
    const compressed = typeof s !== 'number';
    return { kind, key: `k/${String(i).padStart(7, '0')}.json${compressed ? '.gz' : ''}`, size, ordinal: i, compressed };
  });
}

/** A seeded PRNG (mulberry32): tests must be reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The invariants every scan plan must satisfy, whatever the input. */
function checkInvariants(plan: ScanPlan, objs: InputObject[]): void {
  assert.equal(plan.shards, plan.tasks.length);
  assert.equal(plan.inputObjects, objs.length);
  assert.equal(plan.inputBytes, objs.reduce((n, o) => n + o.size, 0));
  const covered = new Map<number, [number, number][]>();
  plan.tasks.forEach((t, i) => {
    assert.equal(t.index, i);
    assert.ok(t.splits.length > 0, `shard ${i} is empty`);
    for (const s of t.splits) {
      const list = covered.get(s.ordinal) ?? [];
      list.push([s.start, s.end]);
      covered.set(s.ordinal, list);
      if (s.compressed) assert.deepEqual([s.start, s.end], [0, s.size], 'gzip objects are never split');
    }
    for (let k = 1; k < t.splits.length; k++) {
      const a = t.splits[k - 1]!;
      const b = t.splits[k]!;
      assert.ok(a.ordinal < b.ordinal || (a.ordinal === b.ordinal && a.start < b.start), 'splits are in (ordinal, start) order');
    }
  });
  for (const o of objs) {
    const ranges = (covered.get(o.ordinal) ?? []).sort((a, b) => a[0] - b[0]);
    assert.ok(ranges.length > 0, `object ${o.key} is in no shard`);
    let at = 0;
    for (const [s, e] of ranges) {
      assert.equal(s, at, `object ${o.key}: ranges must tile it`);
      at = e;
    }
    assert.equal(at, o.size, `object ${o.key}: ranges must end at its size`);
  }
  if (plan.tasks.length === 0) return assert.equal(plan.skew, 1);
  const costs = plan.tasks.map((t) => t.cost);
  const mean = costs.reduce((a, b) => a + b, 0) / costs.length;
  assert.ok(Math.abs(plan.skew - Math.max(...costs) / mean) < 1e-9);
}

const random = rng(42);
const cases: { name: string; sharding?: RunSpecInput['sharding']; objs: InputObject[]; want: { shards?: number; maxSkew?: number; splitsOf?: [number, number] } }[] = [
  { name: 'nothing to read', objs: [], want: { shards: 0 } },
  { name: 'one small file', objs: inputs([1000]), want: { shards: 1, maxSkew: 1 } },
  { name: 'one empty file', objs: inputs([0]), want: { shards: 1 } },
  {
    name: 'one huge file is cut into byte ranges across shards',
    objs: inputs([10 * GiB]),
    want: { shards: 41, maxSkew: 1.05, splitsOf: [0, 164] },
  },
  {
    name: '10,000 tiny files: the per-object cost spreads them',
    objs: inputs(Array.from({ length: 10_000 }, () => 200 + Math.floor(random() * 300)), 'song'),
    want: { shards: 10, maxSkew: 1.01 },
  },
  {
    name: 'a gzip giant is never split and sits alone',
    objs: inputs([{ size: 2 * GiB, gz: true }, ...Array.from({ length: 100 }, () => 20 * MiB)]),
    want: {},
  },
  {
    name: 'explicit shard count is honoured',
    sharding: { shards: 7 },
    objs: inputs(Array.from({ length: 700 }, () => 3 * MiB)),
    want: { shards: 7, maxSkew: 1.01 },
  },
  {
    name: 'maxShards caps the count',
    sharding: { maxShards: 3 },
    objs: inputs(Array.from({ length: 100 }, () => 100 * MiB)),
    want: { shards: 3, maxSkew: 1.04 },
  },
  {
    name: 'minShards asks for at least that many (work for every worker)',
    sharding: { minShards: 4 },
    objs: inputs(Array.from({ length: 40 }, () => 100_000)),
    want: { shards: 4, maxSkew: 1.01 },
  },
  {
    name: 'small splitBytes cuts files in ranges; fewer shards than pieces',
    sharding: { splitBytes: 64 * 1024, shards: 3 },
    objs: inputs([200_000, 150_000, 10_000]),
    want: { shards: 3, splitsOf: [0, 4] },
  },
  {
    name: 'one file among many small: it is cut so it does not dominate',
    sharding: { shards: 8 },
    objs: inputs([400 * MiB, ...Array.from({ length: 50 }, () => 2 * MiB)]),
    want: { shards: 8, maxSkew: 1.05 },
  },
];

for (const c of cases) {
  test(`planScan: ${c.name}`, () => {
    const s = spec(c.sharding);
    const plan = planScan(s, c.objs);
    checkInvariants(plan, c.objs);
    if (c.want.shards !== undefined) assert.equal(plan.shards, c.want.shards);
    if (c.want.maxSkew !== undefined) assert.ok(plan.skew <= c.want.maxSkew, `skew ${plan.skew} > ${c.want.maxSkew}`);
    if (c.want.splitsOf) {
      const [ordinal, count] = c.want.splitsOf;
      const n = plan.tasks.flatMap((t) => t.splits).filter((s) => s.ordinal === ordinal).length;
      assert.equal(n, count, `splits of object ${ordinal}`);
    }
  });
}

test('planScan: the gzip giant gets a shard of its own', () => {
  const objs = inputs([{ size: 2 * GiB, gz: true }, ...Array.from({ length: 100 }, () => 20 * MiB)]);
  const plan = planScan(spec(), objs);
  const giant = plan.tasks.find((t) => t.splits.some((s) => s.compressed))!;
  assert.equal(giant.splits.length, 1);
});

test('planScan: deterministic, and independent of the listing order', () => {
  const objs = inputs(Array.from({ length: 2000 }, () => Math.floor(random() * 50 * MiB)));
  const a = planScan(spec(), objs);
  const b = planScan(spec(), [...objs].reverse());
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify(a), JSON.stringify(planScan(spec(), objs)));
});

test('planScan: 1,000,000 objects into 1,000 shards in < 2 s with skew <= 1.05', () => {
  // A realistic mix: a million small song files plus daily/hourly log files of log-normal sizes.
  const r = rng(7);
  const sizes: (number | { size: number; gz: true })[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    if (i % 50 === 0) {
      const logSize = Math.floor(Math.exp(14 + 1.5 * gauss(r))); // median ~1.2 MB, long tail
      sizes.push(i % 500 === 0 ? { size: Math.min(logSize, 16 * MiB), gz: true } : logSize);
    } else sizes.push(150 + Math.floor(r() * 400));
  }
  const objs = inputs(sizes);
  // CPU time, not wall time: the machine is shared with other test processes.
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const plan = planScan(spec({ maxShards: 1000, shards: 1000 }), objs);
  const used = process.cpuUsage(cpu);
  const ms = (used.user + used.system) / 1000;
  assert.equal(plan.shards, 1000);
  assert.ok(plan.skew <= 1.05, `skew ${plan.skew}`);
  assert.ok(ms < 2000, `planning took ${ms.toFixed(0)} ms of CPU`);
  console.log(`# planScan 1,000,000 objects → 1,000 shards: ${ms.toFixed(0)} ms CPU (${(performance.now() - wall).toFixed(0)} ms wall), skew ${plan.skew.toFixed(4)}`);
});

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
