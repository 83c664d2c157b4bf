// Hive partition paths: Spark's escaping, read back exactly by DuckDB's hive_partitioning, and no
// value can produce a path outside its table's folder.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { writeTableFile } from '../../../job-runner/src/parquet/writer.js';
import {
  DEFAULT_PARTITION,
  MAX_SEGMENT_BYTES,
  escapePartitionValue,
  parsePartitionPath,
  partitionPath,
  tableFileKey,
  tablePartitionPrefix,
  unescapePartitionValue,
} from '../../../job-runner/src/run/partitionPath.js';
import { tempDir } from '../../helpers/paths.js';
import { batch, f64, seeded, str } from '../columnar/fixtures.js';
import { openDuck, sqlPath } from './duck.js';

describe('escapePartitionValue', () => {
  const cases: [string | null, string][] = [
    ['AR/../x=1', 'AR%2F..%2Fx%3D1'],
    ['100%', '100%25'],
    ['a:b', 'a%3Ab'],
    ['=', '%3D'],
    ['..', '..'],
    ['.', '.'],
    ['é', 'é'],
    ['日本', '日本'],
    ['😀', '😀'],
    ['a b+c,d', 'a b+c,d'],
    ['"#\'*?\\{[]^', '%22%23%27%2A%3F%5C%7B%5B%5D%5E'],
    ['tab\there\nnl\r\u0001\u001f\u007f', 'tab%09here%0Anl%0D%01%1F%7F'],
    ['nul\u0000', 'nul%00'],
    ['}', '}'],
    ['%2F', '%252F'],
    ['', DEFAULT_PARTITION],
    [null, DEFAULT_PARTITION],
    ['2018', '2018'],
  ];
  for (const [value, want] of cases) {
    test(`${JSON.stringify(value)} → ${want}`, () => {
      assert.equal(escapePartitionValue(value), want);
      assert.equal(unescapePartitionValue(want), value === '' ? null : value);
    });
  }
  test('the literal __HIVE_DEFAULT_PARTITION__ reads back as null (as in Spark and Hive)', () => {
    assert.equal(unescapePartitionValue(escapePartitionValue(DEFAULT_PARTITION)), null);
  });
  test('malformed escapes are kept as text', () => {
    assert.equal(unescapePartitionValue('50%'), '50%');
    assert.equal(unescapePartitionValue('%zz%4'), '%zz%4');
    assert.equal(unescapePartitionValue('%3d'), '=');
  });
});

describe('partition paths and file keys', () => {
  test('columns in order, each escaped', () => {
    assert.equal(partitionPath(['year', 'month'], { year: '2018', month: '11' }), 'year=2018/month=11/');
    assert.equal(tablePartitionPrefix('songs', { year: '0', artist_id: 'AR/x' }), 'songs/year=0/artist_id=AR%2Fx/');
    assert.equal(tablePartitionPrefix('users', {}), 'users/');
    assert.equal(tableFileKey('songplays', { year: '2018', month: '11' }, 'run-7', 3), 'songplays/year=2018/month=11/part-run-7-00003.parquet');
    assert.equal(tableFileKey('artists', {}, 'run-7', 'b0012-1'), 'artists/part-run-7-b0012-1.parquet');
  });

  test('parsePartitionPath inverts it', () => {
    const values = { year: '0', artist_id: 'AR/../x=1' };
    assert.deepEqual(parsePartitionPath(tableFileKey('songs', values, 'r', 1)), values);
    assert.deepEqual(parsePartitionPath('songs/year=0/artist_id=__HIVE_DEFAULT_PARTITION__/x.parquet'), { year: '0', artist_id: null });
  });

  const errors: { name: string; run: () => unknown; error: RegExp }[] = [
    { name: 'a missing partition value', run: () => tablePartitionPrefix('time', { year: '2018' }), error: /partition value for month is missing/ },
    { name: 'a column the table is not partitioned by', run: () => tablePartitionPrefix('users', { year: '2018' }), error: /table users is partitioned by \[\], not by year/ },
    { name: 'a segment longer than a file name', run: () => partitionPath(['artist_id'], { artist_id: 'A'.repeat(300) }), error: new RegExp(`310-byte path segment; at most ${MAX_SEGMENT_BYTES}`) },
    { name: 'escaping counts toward the limit', run: () => partitionPath(['artist_id'], { artist_id: '/'.repeat(82) }), error: /256-byte path segment/ },
    { name: 'a bad file id', run: () => tableFileKey('users', {}, 'run-1', '../x'), error: /invalid output file id/ },
    { name: 'a bad run id', run: () => tableFileKey('users', {}, 'Run/1', 0), error: /invalid run id/ },
  ];
  for (const e of errors) test(e.name, () => assert.throws(e.run, e.error));
});

describe('no value escapes its table folder (property test, 20k seeded random values)', () => {
  const alphabet = ['/', '\\', '.', '..', '=', '%', ':', '?', '#', 'é', '日', '😀', '\u0000', '\u0001', '\n', ' ', '+', 'A', 'z', '0', '__HIVE_DEFAULT_PARTITION__', '%2F', '%2E'];
  const rnd = seeded(42);
  const values = Array.from({ length: 20_000 }, () => Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
  test('every key stays under songs/, keeps its depth, and round-trips', () => {
    for (const v of values) {
      const key = tableFileKey('songs', { year: '0', artist_id: v }, 'r', 0);
      const normalized = posix.normalize(key);
      assert.equal(normalized, key, `normalising changed ${JSON.stringify(v)}: ${key}`);
      assert.ok(key.startsWith('songs/year=0/artist_id='), key);
      assert.equal(key.split('/').length, 4, key);
      assert.ok(!key.includes('\\') && !key.includes('\u0000'), key);
      const back = parsePartitionPath(key).artist_id;
      assert.equal(back, v === DEFAULT_PARTITION ? null : v);
    }
  });
});

describe('DuckDB reads hostile partition values back exactly', () => {
  const values: (string | null)[] = ['AR/../x=1', '100%', 'a:b', '=', '..', '.', 'é', '日本', '😀', 'tab\there', 'nl\nx', '\u0001ctl', 'del\u007f', 'q"#\'*?\\{[]^', '%41', 'a b+c', 'x,y', '123', 'nul\u0000', null, '', DEFAULT_PARTITION];
  test('one file per value under songs/year=Y/artist_id=…', async () => {
    const root = tempDir('slake-hive-');
    const duck = await openDuck();
    try {
      for (const [i, v] of values.entries()) {
        const key = tableFileKey('songs', { year: String(1990 + i), artist_id: v }, 'r1', i);
        const file = await writeTableFile('songs', batch({ song_id: str([`S${String(i).padStart(2, '0')}`]), title: str(['t']), duration: f64([i]) }));
        mkdirSync(dirname(join(root, key)), { recursive: true });
        writeFileSync(join(root, key), file);
      }
      const got = await duck.rows(`SELECT song_id, artist_id, year FROM read_parquet(${sqlPath(join(root, 'songs', '**', '*.parquet'))}, hive_partitioning = true) ORDER BY song_id`);
      assert.deepEqual(
        got,
        values.map((v, i) => ({ song_id: `S${String(i).padStart(2, '0')}`, artist_id: v === '' || v === DEFAULT_PARTITION ? null : v, year: BigInt(1990 + i) })),
      );
    } finally {
      duck.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
