// Partition values that a reader could misread (job-runner/src/run/partitionPath.ts): `NULL` in any
// ASCII case (DuckDB reads a bare one as SQL NULL), the literal __HIVE_DEFAULT_PARTITION__, lone
// surrogates (no UTF-8 name can hold one); the byte count behind partition-value-too-long; and a
// DuckDB read-back of each, next to the measured behaviour that makes the escaping necessary.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { writeTableFile } from '../../../job-runner/src/parquet/writer.js';
import {
  DEFAULT_PARTITION,
  canonicalPartitionValue,
  escapePartitionValue,
  partitionPath,
  partitionSegmentBytes,
  tableFileKey,
  unescapePartitionValue,
  wellFormed,
} from '../../../job-runner/src/run/partitionPath.js';
import { tempDir } from '../../helpers/paths.js';
import { batch, f64, seeded, str } from '../columnar/fixtures.js';
import { openDuck, sqlPath } from '../parquet/duck.js';

describe('escapePartitionValue: NULL in any ASCII case gets its first letter escaped', () => {
  const cases: [string, string][] = [
    ['NULL', '%4EULL'],
    ['null', '%6Eull'],
    ['Null', '%4Eull'],
    ['nULL', '%6EULL'],
    // Not what DuckDB matches (CIEquals on the whole raw value): written as usual.
    ['NULL ', 'NULL '],
    [' null', ' null'],
    ['NUL', 'NUL'],
    ['NULLS', 'NULLS'],
    ['ＮＵＬＬ', 'ＮＵＬＬ'],
    ['NaN', 'NaN'],
    ['None', 'None'],
    ['N/LL', 'N%2FLL'],
    ['%4EULL', '%254EULL'],
  ];
  for (const [value, want] of cases) {
    test(`${JSON.stringify(value)} → ${want}, and back`, () => {
      assert.equal(escapePartitionValue(value), want);
      assert.equal(unescapePartitionValue(want), value);
    });
  }
});

describe('partitionSegmentBytes is the UTF-8 length of the segment partitionPath writes', () => {
  const values: (string | null)[] = [
    null, '', 'AR1', 'NULL', 'null', '/'.repeat(82), 'AR' + '/'.repeat(81), '日'.repeat(82), '😀'.repeat(61) + 'A',
    '%'.repeat(40) + 'é'.repeat(62) + 'x', 'a\ud800b', '\udc00'.repeat(81) + 'AB', '\u0000\u001f\u007f', DEFAULT_PARTITION,
  ];
  for (const v of values) {
    test(JSON.stringify(v && v.length > 24 ? v.slice(0, 24) + '…' : v), () => {
      const segment = `artist_id=${escapePartitionValue(v)}`;
      assert.equal(partitionSegmentBytes('artist_id', v), Buffer.byteLength(segment, 'utf8'));
      if (Buffer.byteLength(segment) <= 255) assert.equal(partitionPath(['artist_id'], { artist_id: v }), `${segment}/`);
      else assert.throws(() => partitionPath(['artist_id'], { artist_id: v }), /path segment; at most 255 bytes/);
    });
  }
});

describe('canonicalPartitionValue: one value per folder', () => {
  const cases: [string | null, string][] = [
    [null, ''],
    ['', ''],
    [DEFAULT_PARTITION, ''],
    ['AR\ud800', 'AR\ufffd'],
    ['\udc00\ud800x', '\ufffd\ufffdx'],
    ['😀', '😀'],
    ['AR\ufffd', 'AR\ufffd'],
    ['NULL', 'NULL'],
    ['AR/x', 'AR/x'],
  ];
  for (const [value, want] of cases) test(`${JSON.stringify(value)} → ${JSON.stringify(want)}`, () => assert.equal(canonicalPartitionValue(value), want));

  test('wellFormed leaves well-formed text alone (the same string, not a copy)', () => {
    for (const s of ['', 'plain', 'é日😀', '\ufffd']) assert.equal(wellFormed(s), s);
  });

  test('two values share a folder name exactly when their canonical values are equal (10k seeded pairs)', () => {
    const alphabet = ['N', 'n', 'U', 'u', 'L', 'l', '\ud800', '\udc00', '\ufffd', '😀'.slice(0, 1), '😀', '%', '/', '_', DEFAULT_PARTITION, 'A'];
    const rnd = seeded(7);
    const value = () => Array.from({ length: Math.floor(rnd() * 5) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    let shared = 0;
    for (let i = 0; i < 10_000; i++) {
      const a = value();
      const b = rnd() < 0.5 ? value() : a.replace(/\ufffd/g, '\ud800');
      const sameFolder = Buffer.from(tableFileKey('songs', { year: '1', artist_id: a }, 'r', 0)).equals(Buffer.from(tableFileKey('songs', { year: '1', artist_id: b }, 'r', 0)));
      assert.equal(sameFolder, canonicalPartitionValue(a) === canonicalPartitionValue(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      if (sameFolder) shared++;
    }
    assert.ok(shared > 1000, `the property saw ${shared} shared folders`);
  });
});

describe('DuckDB hive_partitioning', () => {
  const readBack = async (folders: { name: string; id: string }[]): Promise<Map<string, string | null>> => {
    const root = tempDir('slake-nullpart-');
    const duck = await openDuck();
    try {
      for (const [i, f] of folders.entries()) {
        const path = join(root, 'songs', `year=${1990 + i}`, f.name, 'part-r-00000.parquet');
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, await writeTableFile('songs', batch({ song_id: str([f.id]), title: str(['t']), duration: f64([i]) })));
      }
      const rows = await duck.rows(`SELECT song_id, artist_id FROM read_parquet(${sqlPath(join(root, 'songs', '**', '*.parquet'))}, hive_partitioning = true, hive_types = {'year': INTEGER, 'artist_id': VARCHAR})`);
      return new Map(rows.map((r) => [String(r.song_id), r.artist_id as string | null]));
    } finally {
      duck.close();
      rmSync(root, { recursive: true, force: true });
    }
  };

  test('reads the folders we write back as the exact values (null for the default partition)', async () => {
    const values = ['NULL', 'null', 'Null', 'nULL', 'NULL ', 'NaN', '%4EULL', DEFAULT_PARTITION, '', 'AR\ud800'];
    const got = await readBack(values.map((v, i) => ({ name: `artist_id=${escapePartitionValue(v)}`, id: `S${i}` })));
    assert.deepEqual(
      values.map((_, i) => got.get(`S${i}`)),
      values.map((v) => (v === '' || v === DEFAULT_PARTITION ? null : wellFormed(v))),
    );
  });

  test('measured: a bare NULL in any case reads back as SQL NULL, and %XX is decoded after that check', async () => {
    const folders = ['NULL', 'null', 'nUlL', '%4EULL', 'N%55LL', '%6Eull', '__HIVE_DEFAULT_PARTITION__', '%5F_HIVE_DEFAULT_PARTITION__'];
    const got = await readBack(folders.map((f, i) => ({ name: `artist_id=${f}`, id: `S${i}` })));
    assert.deepEqual(
      folders.map((_, i) => got.get(`S${i}`)),
      [null, null, null, 'NULL', 'NULL', 'null', null, '__HIVE_DEFAULT_PARTITION__'],
    );
  });
});
