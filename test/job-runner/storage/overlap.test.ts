// Which storage roots nest: whole path segments, S3 bucket + prefix, local folders; never S3 with local.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findOverlap, overlapMessage, rootsOverlap } from '../../../job-runner/src/storage/overlap.js';
import { parseStorageUri } from '../../../job-runner/src/storage/uri.js';

const at = (uri: string) => parseStorageUri(uri, '/work');

test('rootsOverlap', () => {
  const cases: [string, string, boolean][] = [
    ['s3://raw/', 's3://raw/log_data/', true],
    ['s3://raw', 's3://raw/log_data', true],
    ['s3://raw/log_data/', 's3://raw/log_data', true],
    ['s3://raw/logs/', 's3://raw/logs/2018/11/', true],
    ['s3://raw/logs/', 's3://raw/logs-old/', false],
    ['s3://raw/logs/', 's3://raw/log/', false],
    ['s3://raw/logs/', 's3://lake/logs/', false],
    ['s3://raw/a/', 's3://raw/b/', false],
    ['/data', '/data/song_data', true],
    ['/data/', '/data', true],
    ['data/lake', '/work/data', true],
    ['/data/lake', '/data/lake2', false],
    ['/data/a', '/data/b', false],
    ['file:///data/x', '/data', true],
    ['s3://data/x', '/data/x', false],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(rootsOverlap(at(a), at(b)), want, `${a} vs ${b}`);
    assert.equal(rootsOverlap(at(b), at(a)), want, `${b} vs ${a}`);
  }
});

test('findOverlap and its message name both roots as written', () => {
  const named = (out: string, songs: string, logs: string) => [
    { name: '--out', uri: out, location: at(out), output: true },
    { name: '--songs', uri: songs, location: at(songs) },
    { name: '--logs', uri: logs, location: at(logs) },
  ];
  const cases: { name: string; roots: ReturnType<typeof named>; want: string | null }[] = [
    { name: 'separate', roots: named('s3://lake/x/', 's3://raw/song_data/', 's3://raw/log_data/'), want: null },
    { name: 'output holds the inputs', roots: named('D', 'D/song_data', 'D/log_data'), want: '--out D and --songs D/song_data overlap (--out contains --songs): the lake would be written into its input, and the next run would read it back as raw data; point them at separate folders or prefixes' },
    { name: 'output inside the logs', roots: named('s3://raw/log_data/lake', 's3://raw/song_data', 's3://raw/log_data'), want: '--out s3://raw/log_data/lake and --logs s3://raw/log_data overlap (--logs contains --out): the lake would be written into its input, and the next run would read it back as raw data; point them at separate folders or prefixes' },
    { name: 'the same place', roots: named('s3://raw/x', 's3://raw/x/', 's3://raw/y'), want: '--out s3://raw/x and --songs s3://raw/x/ are the same place: the lake would be written into its input, and the next run would read it back as raw data; point them at separate folders or prefixes' },
    { name: 'nested inputs', roots: named('/lake', '/raw', '/raw/log_data'), want: '--songs /raw and --logs /raw/log_data overlap (--songs contains --logs): the same objects would be read as both songs and logs; point them at separate folders or prefixes' },
  ];
  for (const c of cases) {
    const found = findOverlap(c.roots);
    assert.equal(found && overlapMessage(found), c.want, c.name);
  }
});
