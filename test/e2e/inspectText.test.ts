// `sparkify-lake inspect` shows the five most frequent coercions and unknown fields, and says how
// many more there are (all of them are in --json).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectText } from '../../cli/src/commands/inspect.js';
import { TABLES, type LakeStatus } from '../../job-runner/src/index.js';

function status(coercions: Record<string, number>, unknownFields: Record<string, number>): LakeStatus {
  const table = { rows: 1, partitions: 1, files: 1, bytes: 100 };
  return {
    current: { runId: 'r1', manifest: '_lake/manifests/r1.json', committedAt: '2026-01-01T00:00:00.000Z' },
    manifest: {
      runId: 'r1',
      committedAt: '2026-01-01T00:00:00.000Z',
      spec: { songs: '/raw/songs/', logs: '/raw/logs/', output: '/lake/', origin: 'cli' },
      records: { read: 10, accepted: 10, rejected: 0, rejectedByReason: {} },
      tables: Object.fromEntries(TABLES.map((t) => [t, table])),
      drift: { coercions, unknownFields },
      files: [],
    },
  } as unknown as LakeStatus;
}

test('inspect: the top five drift entries, then "+N more"', () => {
  const counts = (n: number, stem: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${stem}${i}`, 100 - i]));
  const cases: { name: string; coercions: Record<string, number>; unknown: Record<string, number>; want: string[]; absent: RegExp[] }[] = [
    { name: 'none', coercions: {}, unknown: {}, want: [], absent: [/^coercions:/m, /^unknown fields:/m] },
    { name: 'five: no "more"', coercions: counts(5, 'c'), unknown: counts(1, 'u'), want: ['coercions: c0 100, c1 99, c2 98, c3 97, c4 96', 'unknown fields: u0 100'], absent: [/more/] },
    {
      name: 'seven coercions, nine unknown fields',
      coercions: counts(7, 'c'),
      unknown: counts(9, 'u'),
      want: ['coercions: c0 100, c1 99, c2 98, c3 97, c4 96, +2 more (--json lists them all)', 'unknown fields: u0 100, u1 99, u2 98, u3 97, u4 96, +4 more (--json lists them all)'],
      absent: [/c5|u5/],
    },
  ];
  for (const c of cases) {
    const lines = inspectText(status(c.coercions, c.unknown)).split('\n');
    for (const w of c.want) assert.ok(lines.includes(w), `${c.name}: want line ${JSON.stringify(w)} in\n${lines.join('\n')}`);
    for (const a of c.absent) assert.doesNotMatch(lines.join('\n'), a, c.name);
  }
});
