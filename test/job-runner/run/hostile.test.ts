// The hostile input set end to end: tables equal to the DuckDB reference, conservation (read =
// accepted + rejected, per reason, equal to the reference's counts), and the quarantine: every
// rejected record in rejects/*.jsonl with its source, line, offset, reason and raw text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReferenceLake, type ReferenceLake } from '../../helpers/referenceLake.js';
import { assertLakesEqual } from '../../helpers/compareLakes.js';
import { tempDir } from '../../helpers/paths.js';
import { runLocal, type LocalRunResult } from '../../../job-runner/src/index.js';
import { HOSTILE_MAX_LINE_BYTES, writeHostileInput } from './hostileInput.js';
import { assertExactlyCommitted, walk } from './lakeFiles.js';

const root = tempDir('slake-hostile-');
const input = writeHostileInput(join(root, 'raw'));
const lake = join(root, 'lake');
let reference: ReferenceLake;
let result: LocalRunResult;

before(async () => {
  reference = await buildReferenceLake(input, { maxLineBytes: HOSTILE_MAX_LINE_BYTES });
  result = await runLocal({
    songs: input.songs,
    logs: input.logs,
    output: lake,
    parallel: 2,
    executor: 'thread',
    quality: { maxRejectRatio: 1 },
    read: { maxLineBytes: HOSTILE_MAX_LINE_BYTES },
  });
});
after(() => reference?.close());

test('hostile: every table equals the DuckDB reference', async () => {
  await assertLakesEqual(lake, reference);
  assertExactlyCommitted(lake);
});

test('hostile: conservation holds and the counts equal the reference, reason by reason', () => {
  const r = result.manifest.records;
  assert.equal(r.read, r.accepted + r.rejected);
  assert.deepEqual({ ...r, rejectedByReason: { ...r.rejectedByReason } }, { ...reference.counts.total, rejectedByReason: { ...reference.counts.total.rejectedByReason } });
  for (const reason of ['line-too-long', 'invalid-json', 'not-an-object', 'missing-song_id', 'missing-ts', 'invalid-ts', 'missing-user-id', 'truncated-gzip', 'corrupt-gzip']) {
    assert.ok((r.rejectedByReason[reason] ?? 0) > 0, `the hostile set exercises ${reason}`);
  }
});

test('hostile: the quarantine holds every rejected record with source, line, offset, reason and raw text', () => {
  const files = walk(join(lake, '_lake', 'runs', result.runId, 'rejects')).filter((p) => p.endsWith('.jsonl'));
  const got = files
    .flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''))
    .map((l) => JSON.parse(l) as { source: string; line: number | null; offset: number; reason: string; raw: string; rawBytes: number; truncated: boolean });
  assert.equal(got.length, result.manifest.records.rejected);
  const key = (x: { source: string; offset: number; reason: string }) => `${x.source}@${x.offset}:${x.reason}`;
  const want = new Map(reference.rejects.map((x) => [key(x), x]));
  for (const g of got) {
    const w = want.get(key(g));
    assert.ok(w, `unexpected reject ${key(g)}`);
    // A byte-range split that does not start at 0 knows offsets, not line numbers (schema-on-read.md).
    if (g.line !== null) assert.equal(g.line, w.line, `${key(g)} line`);
    if (!g.truncated) assert.equal(g.raw, w.raw, `${key(g)} raw`);
    else assert.ok(Buffer.byteLength(g.raw) <= 64 * 1024 && g.rawBytes > Buffer.byteLength(g.raw), `${key(g)} truncated sample`);
  }
  assert.equal(new Set(got.map(key)).size, want.size, 'every reference reject is quarantined once');
});

test('hostile: partition values with / = % .. and unicode stay inside their table folder', () => {
  const songFolders = walk(join(lake, 'songs')).map((p) => p.slice(lake.length + 1)).filter((p) => p.endsWith('.parquet'));
  assert.ok(songFolders.some((p) => p.includes('artist_id=AR%2F..%2Fx%3D1/')), songFolders.join('\n'));
  assert.ok(songFolders.some((p) => p.includes('artist_id=AR100%25/')));
  assert.ok(songFolders.some((p) => p.includes('artist_id=__HIVE_DEFAULT_PARTITION__/')));
  for (const p of songFolders) assert.ok(p.startsWith('songs/year='), p);
  const months = walk(join(lake, 'songplays')).map((p) => p.slice(lake.length + 1).split('/').slice(1, 3).join('/'));
  assert.ok(months.includes('year=2018/month=12') && months.includes('year=2019/month=1') && months.includes('year=2019/month=2'), months.join(', '));
});
