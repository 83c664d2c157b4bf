// The build stage's derivations against independent references: songplay_id (FNV-1a 64 in 32-bit
// halves) against BigInt arithmetic over the UTF-8 text; UTC calendar fields against Date and an ISO
// week computed the textbook way; the join's candidate ranking, table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { songplayIds } from '../../../job-runner/src/stages/songplayId.js';
import { timeFields } from '../../../job-runner/src/stages/utcCalendar.js';
import { SongMatcher } from '../../../job-runner/src/stages/songLookup.js';
import { bucketOf } from '../../../job-runner/src/stages/stagedData.js';

function fnvReference(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h & 0x7fffffffffffffffn;
}

type Key = [number | null, number | null, number | null, number];

test('songplay_id equals FNV-1a 64 of "<userId>|<sessionId>|<itemInSession>|<ts>" with the top bit cleared', () => {
  const keys: Key[] = [
    [1, 2, 3, 1541105830796],
    [0, 0, 0, 0],
    [null, null, null, 0],
    [26, null, 7, 1543622400000],
    [-5, -1, -0, 253402300799999],
    [9007199254740991, 9007199254740991, 9007199254740991, 253402300799999],
    [-9007199254740991, 100, 10, 1],
  ];
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < 2000; i++) {
    keys.push([
      rnd() < 0.05 ? null : Math.floor((rnd() - 0.3) * 2 ** (1 + Math.floor(rnd() * 52))),
      rnd() < 0.1 ? null : Math.floor(rnd() * 1e6),
      rnd() < 0.1 ? null : Math.floor(rnd() * 300),
      Math.floor(rnd() * 253402300799999),
    ]);
  }
  const n = keys.length;
  const col = (k: number) => {
    const data = new Float64Array(n);
    const valid = new Uint8Array(n);
    keys.forEach((key, i) => {
      const v = key[k];
      if (v !== null && v !== undefined) {
        data[i] = v;
        valid[i] = 1;
      }
    });
    return { data, valid };
  };
  const [u, s, it, ts] = [col(0), col(1), col(2), col(3)];
  const rows = Int32Array.from(keys.map((_, i) => i));
  const words = new Int32Array(2 * n);
  songplayIds(rows, u.data, u.valid, s.data, s.valid, it.data, it.valid, ts.data, null, words);
  const ids = new BigInt64Array(words.buffer);
  keys.forEach((key, i) => {
    const text = key.map((v) => (v === null ? '' : String(v))).join('|');
    assert.equal(ids[i], fnvReference(text), `key ${text}`);
    assert.ok(ids[i]! >= 0n);
  });
});

function isoWeekReference(d: Date): number {
  // The Thursday of d's ISO week decides the year; week 1 holds January 4th.
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3));
  const jan4 = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 4));
  const jan4Day = (jan4.getUTCDay() + 6) % 7;
  const week1Monday = Date.UTC(jan4.getUTCFullYear(), 0, 4 - jan4Day);
  return Math.floor((thursday.getTime() - week1Monday) / (7 * 86400000)) + 1;
}

test('time fields equal Date in UTC, ISO week and weekday, across year and month boundaries', () => {
  const samples = [
    Date.UTC(2018, 10, 1, 0, 0, 0), // 2018-11-01 00:00
    Date.UTC(2018, 11, 31, 23, 59, 59, 999), // week 1 of 2019
    Date.UTC(2019, 0, 1), // Tuesday, ISO 2019-W01
    Date.UTC(2020, 11, 31), // 2020-W53
    Date.UTC(2021, 0, 3), // Sunday, 2020-W53
    Date.UTC(2024, 1, 29, 12), // leap day
    0,
    1,
    253402300799999, // 9999-12-31T23:59:59.999Z
    Date.UTC(1970, 0, 1, 23, 59, 59, 999),
  ];
  for (let t = Date.UTC(2015, 0, 1); t < Date.UTC(2026, 0, 1); t += 86400000 * 3 + 3600000 * 7 + 123) samples.push(t);
  for (const t of samples) {
    const d = new Date(t);
    const f = timeFields(t);
    const want = { hour: d.getUTCHours(), day: d.getUTCDate(), week: isoWeekReference(d), month: d.getUTCMonth() + 1, year: d.getUTCFullYear(), weekday: ((d.getUTCDay() + 6) % 7) + 1 };
    assert.deepEqual(f, want, `ts ${t} (${d.toISOString()})`);
  }
});

const cand = (row: number, songId: string, duration: number) => ({ row, songId, duration });
const joinCases: { name: string; cands: ReturnType<typeof cand>[]; length: number; want: number }[] = [
  { name: 'one exact match', cands: [cand(0, 'S1', 200)], length: 200, want: 0 },
  { name: 'beyond 2 s is no match', cands: [cand(0, 'S1', 200)], length: 202.5, want: -1 },
  { name: 'exactly 2 s matches', cands: [cand(0, 'S1', 200)], length: 202, want: 0 },
  { name: 'closest duration wins', cands: [cand(0, 'S1', 199), cand(1, 'S2', 200.5)], length: 200.4, want: 1 },
  { name: 'tie on distance: smallest song_id (first in order)', cands: [cand(3, 'S1', 199), cand(1, 'S2', 201)], length: 200, want: 3 },
  { name: 'unknown song duration ranks after a known one', cands: [cand(0, 'S1', NaN), cand(1, 'S2', 201.9)], length: 200, want: 1 },
  { name: 'only unknown distances: smallest song_id', cands: [cand(4, 'S1', NaN), cand(5, 'S2', NaN)], length: 200, want: 4 },
  { name: 'unknown play length: every candidate, smallest song_id', cands: [cand(7, 'S1', 100), cand(8, 'S2', 300)], length: NaN, want: 7 },
];
for (const c of joinCases) {
  test(`join ranking: ${c.name}`, () => assert.equal(SongMatcher.best(c.cands, c.length), c.want));
}

test('bucketOf spreads sequential timestamps and small user ids evenly', () => {
  const counts = new Array(32).fill(0);
  for (let i = 0; i < 32_000; i++) counts[bucketOf(1541105830796 + i * 250, 32)]++;
  for (const c of counts) assert.ok(c > 800 && c < 1200, `bucket count ${c}`);
  const users = new Array(8).fill(0);
  for (let id = 1; id <= 800; id++) users[bucketOf(id, 8)]++;
  for (const c of users) assert.ok(c > 70 && c < 130, `user bucket count ${c}`);
});
