// The lake comparison must say "equal" for an identical lake and point at the difference otherwise.
// The lakes here are written by DuckDB itself (COPY … PARTITION_BY) from the Udacity reference, then
// damaged one way at a time; one of them goes through s3rver and downloadPrefix.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { assertLakesEqual, compareLakes } from './compareLakes.js';
import { buildReferenceLake, type ReferenceLake } from './referenceLake.js';
import { tempDir, udacityLogs, udacitySongs } from './paths.js';
import { downloadPrefix, startTestS3 } from './s3.js';
import type { TableName } from '../../job-runner/src/run/types.js';

const PARTITIONS: Record<TableName, string[]> = { songs: ['year', 'artist_id'], artists: [], users: [], time: ['year', 'month'], songplays: ['year', 'month'] };

/** Writes each table as `<root>/<table>/…` in the lake layout, optionally through a SQL rewrite. */
async function writeLake(ref: ReferenceLake, root: string, rewrite: Partial<Record<TableName, string>> = {}, skip: TableName[] = []) {
  for (const table of Object.keys(PARTITIONS) as TableName[]) {
    if (skip.includes(table)) continue;
    const query = rewrite[table] ?? `SELECT * FROM ${ref.table(table)}`;
    const parts = PARTITIONS[table];
    const target = parts.length ? join(root, table) : join(root, table, 'part-0.parquet');
    const options = parts.length ? `FORMAT parquet, PARTITION_BY (${parts.join(', ')})` : 'FORMAT parquet';
    if (!parts.length) mkdirSync(join(root, table), { recursive: true });
    await ref.connection.run(`COPY (${query}) TO '${target}' (${options})`);
  }
}

describe('compareLakes', () => {
  let ref: ReferenceLake;
  let good: string;
  before(async () => {
    ref = await buildReferenceLake({ songs: udacitySongs, logs: udacityLogs });
    good = tempDir('slake-cmp-good-');
    await writeLake(ref, good);
  });
  after(() => {
    ref.close();
    rmSync(good, { recursive: true, force: true });
  });

  test('an identical lake is equal, table by table', async () => {
    const result = await assertLakesEqual(good, ref);
    assert.deepEqual(
      result.tables.map((t) => [t.table, t.rows.ours]),
      [['songs', 71], ['artists', 69], ['users', 97], ['time', 6813], ['songplays', 6820]],
    );
    assert.match(result.report, /songplays: equal \(6820 rows\)/);
  });

  test('two lake folders compare too', async () => {
    const result = await compareLakes(good, good);
    assert.equal(result.equal, true, result.report);
  });

  const damages: { name: string; rewrite?: Partial<Record<TableName, string>>; skip?: TableName[]; table: TableName; report: RegExp; onlyOurs: number; onlyExpected: number }[] = [
    {
      name: 'a missing row',
      rewrite: { songplays: `SELECT * FROM ref.songplays WHERE song_id IS NULL` },
      table: 'songplays',
      report: /rows ours 6819, reference 6820[\s\S]*only in reference \(1\):\n {6}\{"songplay_id":"91126926269583942"/,
      onlyOurs: 0,
      onlyExpected: 1,
    },
    {
      name: 'a duplicated row (EXCEPT ALL counts copies)',
      rewrite: { users: `SELECT * FROM ref.users UNION ALL (SELECT * FROM ref.users ORDER BY user_id LIMIT 1)` },
      table: 'users',
      report: /rows ours 98, reference 97[\s\S]*only in ours \(1\)/,
      onlyOurs: 1,
      onlyExpected: 0,
    },
    {
      name: 'one changed value',
      rewrite: { artists: `SELECT artist_id, CASE WHEN artist_id = 'AR051KA1187B98B2FF' THEN 'Wilkz' ELSE name END AS name, location, latitude, longitude FROM ref.artists` },
      table: 'artists',
      report: /only in reference \(1\):\n.*"name":"Wilks"[\s\S]*only in ours \(1\):\n.*"name":"Wilkz"/,
      onlyOurs: 1,
      onlyExpected: 1,
    },
    {
      name: 'a wrong column type',
      rewrite: { time: `SELECT start_time, hour::BIGINT AS hour, day, week, weekday, year, month FROM ref.time` },
      table: 'time',
      report: /columns ours: {5}start_time TIMESTAMP WITH TIME ZONE, hour BIGINT/,
      onlyOurs: 0,
      onlyExpected: 0,
    },
    {
      name: 'a table without files',
      skip: ['songs'],
      table: 'songs',
      report: /songs: DIFFERENT\n {4}columns ours: {5}\(no Parquet files\)[\s\S]*only in reference \(71, first 5\)/,
      onlyOurs: 0,
      onlyExpected: 71,
    },
  ];
  for (const d of damages) {
    test(`finds ${d.name}`, async () => {
      const bad = tempDir('slake-cmp-bad-');
      await writeLake(ref, bad, d.rewrite, d.skip);
      const result = await compareLakes(bad, ref);
      assert.equal(result.equal, false);
      const t = result.tables.find((x) => x.table === d.table)!;
      assert.equal(t.equal, false);
      assert.deepEqual([t.onlyOurs.count, t.onlyExpected.count], [d.onlyOurs, d.onlyExpected]);
      assert.deepEqual(result.tables.filter((x) => !x.equal).map((x) => x.table), [d.table], 'only the damaged table differs');
      assert.match(result.report, d.report);
      await assert.rejects(assertLakesEqual(bad, ref), (err: Error) => err.message === result.report);
      rmSync(bad, { recursive: true, force: true });
    });
  }

  test('ignoreColumns leaves a column out of the row comparison, not out of the schema check', async () => {
    const other = tempDir('slake-cmp-ids-');
    await writeLake(ref, other, { songplays: `SELECT * REPLACE (songplay_id // 2 AS songplay_id) FROM ref.songplays` });
    assert.equal((await compareLakes(other, ref)).equal, false);
    const ignoring = await compareLakes(other, ref, { ignoreColumns: { songplays: ['songplay_id'] } });
    assert.equal(ignoring.equal, true, ignoring.report);
    rmSync(other, { recursive: true, force: true });
  });

  test('a lake in S3 compares after downloadPrefix', async () => {
    const s3 = await startTestS3();
    try {
      await s3.createBucket('lake');
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const p = join(dir, name);
          if (statSync(p).isDirectory()) walk(p);
          else files.push(p);
        }
      };
      walk(good);
      for (const f of files) {
        const key = `prod/lake/${relative(good, f).split('\\').join('/')}`;
        await s3.client.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: readFileSync(f) }));
      }
      await s3.client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'prod/lake-other/songs/x.parquet', Body: 'not ours' }));
      const local = tempDir('slake-cmp-s3-');
      assert.equal(await downloadPrefix(s3, 'lake', 'prod/lake/', local), files.length);
      await assertLakesEqual(local, ref);
      rmSync(local, { recursive: true, force: true });
    } finally {
      await s3.stop();
      rmSync(s3.directory, { recursive: true, force: true });
    }
  });
});
