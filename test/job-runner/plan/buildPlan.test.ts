// Build planning, table-driven over synthetic scan receipts: one month holding every event, many
// months, 10k song partitions, no events at all; invariants: every staged (partition, bucket) in
// exactly one unit, a partition kept whole when it fits, deterministic whatever the receipt order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRunSpec, planBuild, type BuildPlan, type RunSpecInput, type ScanReceipt, type StagedPart } from '../../../job-runner/src/index.js';

const MiB = 2 ** 20;

function spec(sharding: RunSpecInput['sharding'] = {}, buckets = 32) {
  return makeRunSpec({ runId: 'r1', songs: '/s', logs: '/l', output: '/o', origin: 'test', sharding, buckets, now: new Date(0) });
}

function part(dataset: StagedPart['dataset'], partition: Record<string, string>, bucket: number, bytes: number): StagedPart {
  return { dataset, partition, bucket, bytes, rows: Math.ceil(bytes / 100), segments: [{ key: 'k', offset: 0, length: bytes, rows: 1 }] };
}

function receipt(index: number, staged: StagedPart[], songPartitions: ScanReceipt['songPartitions'] = []): ScanReceipt {
  return {
    runId: 'r1',
    stage: 'scan',
    index,
    splits: 1,
    records: { read: 0, accepted: 0, rejected: 0, rejectedByReason: {} },
    drift: { unknownFields: {}, coercions: {} },
    staged,
    songPartitions,
    rejects: null,
    seconds: 0,
  };
}

/** `shards` scan receipts, each staging `bytesPerBucket` for every (month, bucket). */
function playsReceipts(shards: number, months: string[], buckets: number, bytesPerBucket: number, songs = 0): ScanReceipt[] {
  return Array.from({ length: shards }, (_, i) => {
    const staged: StagedPart[] = [];
    for (const m of months) for (let b = 0; b < buckets; b++) staged.push(part('plays', { year: m.slice(0, 4), month: String(Number(m.slice(5))) }, b, bytesPerBucket));
    for (let b = 0; b < buckets; b++) staged.push(part('users', {}, b, 1000));
    const songParts = Array.from({ length: songs }, (_, k) => ({ partition: { year: String(1990 + (k % 20)), artist_id: `AR${i}-${k}` }, rows: 1, bytes: 300 }));
    if (songs > 0) staged.push(part('songs', {}, 0, songs * 300));
    return receipt(i, staged, songParts);
  });
}

function checkInvariants(plan: BuildPlan, receipts: ScanReceipt[]): void {
  const seen = new Set<string>();
  for (const t of plan.tasks) {
    assert.ok(t.units.length > 0, `build shard ${t.index} is empty`);
    for (const u of t.units) {
      for (const b of u.buckets) {
        const key = `${u.table}|${JSON.stringify(u.partition)}|${b}`;
        assert.ok(!seen.has(key), `${key} in two units`);
        seen.add(key);
      }
    }
  }
  for (const r of receipts) {
    for (const p of r.staged) {
      if (p.dataset === 'songs') continue;
      const table = p.dataset === 'plays' ? 'songplays' : 'users';
      assert.ok(seen.has(`${table}|${JSON.stringify(p.partition)}|${p.bucket}`), `staged ${p.dataset} ${JSON.stringify(p.partition)} bucket ${p.bucket} in no unit`);
    }
  }
}

const months12 = Array.from({ length: 12 }, (_, i) => `2018-${String(i + 1).padStart(2, '0')}`);
const cases: { name: string; sharding?: RunSpecInput['sharding']; receipts: ScanReceipt[]; want: (plan: BuildPlan) => void }[] = [
  {
    name: 'one month holding every event is cut by bucket across shards',
    receipts: playsReceipts(20, ['2018-11'], 32, 8 * MiB), // 5 GiB in one month
    want: (plan) => {
      const units = plan.tasks.flatMap((t) => t.units).filter((u) => u.table === 'songplays');
      assert.ok(units.length >= 20, `only ${units.length} units for the month`);
      assert.ok(plan.shards >= 20, `${plan.shards} shards`);
      assert.ok(plan.skew <= 1.1, `skew ${plan.skew}`);
      assert.deepEqual(units.map((u) => u.piece?.index).sort((a, b) => a! - b!), units.map((_, i) => i));
    },
  },
  {
    name: 'twelve small months: each stays one unit with all its buckets',
    receipts: playsReceipts(3, months12, 8, 10_000),
    want: (plan) => {
      const units = plan.tasks.flatMap((t) => t.units).filter((u) => u.table === 'songplays');
      assert.equal(units.length, 12);
      for (const u of units) assert.deepEqual(u.buckets, [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.equal(plan.partitions.songplays, 12);
      assert.equal(plan.partitions.time, 12);
      assert.equal(plan.partitions.users, 1);
    },
  },
  {
    name: '10k song partitions spread evenly',
    sharding: { minShards: 8 },
    receipts: playsReceipts(2, [], 4, 0, 5000),
    want: (plan) => {
      const songs = plan.tasks.flatMap((t) => t.units).filter((u) => u.table === 'songs');
      assert.equal(songs.length, 10_000);
      assert.equal(plan.partitions.songs, 10_000);
      assert.equal(plan.partitions.artists, 1);
      assert.equal(plan.shards, 8);
      assert.ok(plan.skew <= 1.05, `skew ${plan.skew}`);
    },
  },
  {
    name: 'songs only (no events): songs and artists units, no songplays',
    receipts: [receipt(0, [part('songs', {}, 0, 3000)], [{ partition: { year: '0', artist_id: 'A' }, rows: 10, bytes: 3000 }])],
    want: (plan) => {
      assert.deepEqual(plan.tasks.flatMap((t) => t.units).map((u) => u.table).sort(), ['artists', 'songs']);
      assert.equal(plan.partitions.songplays, 0);
    },
  },
  {
    name: 'minShards: small data still gives every worker a shard',
    sharding: { minShards: 2 },
    receipts: playsReceipts(1, ['2018-11'], 8, 100_000, 10),
    want: (plan) => assert.equal(plan.shards, 2),
  },
  {
    name: 'the same song partition from two scan shards is one unit',
    receipts: [
      receipt(0, [part('songs', {}, 0, 300)], [{ partition: { year: '2000', artist_id: 'X' }, rows: 1, bytes: 300 }]),
      receipt(1, [part('songs', {}, 0, 300)], [{ partition: { year: '2000', artist_id: 'X' }, rows: 1, bytes: 300 }]),
    ],
    want: (plan) => {
      const songs = plan.tasks.flatMap((t) => t.units).filter((u) => u.table === 'songs');
      assert.equal(songs.length, 1);
      assert.equal(songs[0]!.bytes, 600);
    },
  },
];

for (const c of cases) {
  test(`planBuild: ${c.name}`, () => {
    const plan = planBuild(spec(c.sharding), c.receipts);
    checkInvariants(plan, c.receipts);
    c.want(plan);
  });
}

test('planBuild: deterministic whatever the receipt order', () => {
  const receipts = playsReceipts(6, months12.slice(0, 5), 16, 3 * MiB, 50);
  const a = planBuild(spec(), receipts);
  const b = planBuild(spec(), [...receipts].reverse());
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});
