// The generator end to end: same options → same bytes (locally and through S3), files shaped like
// the Udacity sample (DuckDB's read_json infers the same columns and types), realistic content,
// hostile data the DuckDB reference judges, the CLI, and memory that does not grow with the data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { openStorage } from '../../job-runner/src/index.js';
import { generate, type GenerateOptions, type GenerateSummary } from '../../generator/src/index.js';
import { buildReferenceLake } from '../helpers/referenceLake.js';
import { cliBin, repoRoot, tempDir, udacityLogs, udacitySongs } from '../helpers/paths.js';
import { downloadPrefix, startTestS3 } from '../helpers/s3.js';

const run = promisify(execFile);

/** Relative path → sha256 of every file under `root`. */
function treeDigest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p).split(sep).join('/'), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

async function generateInto(dir: string, opts: GenerateOptions): Promise<GenerateSummary> {
  return generate(openStorage(dir), opts);
}

const sqlPath = (p: string) => `'${p.replace(/'/g, "''")}'`;

async function describeJson(c: DuckDBConnection, glob: string, format: string): Promise<string[]> {
  const r = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_json(${sqlPath(glob)}, format = '${format}')`);
  return r.getRowObjectsJS().map((row) => `${String(row.column_name)} ${String(row.column_type)}`);
}

describe('generator', () => {
  let db: DuckDBInstance;
  let c: DuckDBConnection;
  const small: GenerateOptions = { songs: 300, events: 20_000, seed: 7, hostileShare: 0.03, gzipShare: 0.3 };
  let smallDir: string;
  let smallSummary: GenerateSummary;

  before(async () => {
    db = await DuckDBInstance.create(':memory:', { threads: '2' });
    c = await db.connect();
    smallDir = tempDir('slake-gen-a-');
    smallSummary = await generateInto(smallDir, small);
  });
  after(() => {
    c.closeSync();
    db.closeSync();
    rmSync(smallDir, { recursive: true, force: true });
  });

  test('same options give the same bytes; another seed gives other bytes', async () => {
    const again = tempDir('slake-gen-b-');
    await generateInto(again, small);
    const a = treeDigest(smallDir);
    assert.ok(a.size > 300, `${a.size} files`);
    assert.deepEqual(treeDigest(again), a);
    const other = tempDir('slake-gen-c-');
    await generateInto(other, { ...small, seed: 8 });
    const b = treeDigest(other);
    assert.notDeepEqual([...b.values()].sort(), [...a.values()].sort());
    for (const d of [again, other]) rmSync(d, { recursive: true, force: true });
  });

  test('through S3 (s3rver) the objects are byte for byte the local files', async () => {
    // Few objects (s3rver stores each as files of its own), but gzip and hostile data all the same.
    const opts: GenerateOptions = { songs: 40, events: 20_000, days: 21, seed: 11, hostileShare: 0.03, gzipShare: 0.5 };
    const localDir = tempDir('slake-gen-s3-local-');
    await generateInto(localDir, opts);
    const s3 = await startTestS3();
    try {
      await s3.createBucket('raw');
      const storage = openStorage('s3://raw/generated/', {
        endpoint: s3.endpoint,
        region: s3.env.AWS_REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY },
      });
      await generate(storage, opts);
      const downloaded = tempDir('slake-gen-s3-');
      await downloadPrefix(s3, 'raw', 'generated/', downloaded);
      const want = treeDigest(localDir);
      assert.ok([...want.keys()].some((k) => k.endsWith('.gz')));
      assert.deepEqual(treeDigest(downloaded), want);
      for (const d of [localDir, downloaded]) rmSync(d, { recursive: true, force: true });
    } finally {
      await s3.stop();
      rmSync(s3.directory, { recursive: true, force: true });
    }
  });

  test('layout: one song per song_data/A/B/C/TR….json; log_data/YYYY/MM/YYYY-MM-DD-events.json[.gz] holding that UTC day', async () => {
    const files = [...treeDigest(smallDir).keys()];
    const songs = files.filter((f) => f.startsWith('song_data/'));
    const logs = files.filter((f) => f.startsWith('log_data/'));
    assert.equal(songs.length, 300);
    for (const f of songs) assert.match(f, /^song_data\/([A-Z])\/([A-Z])\/([A-Z])\/TR\1\2\3[A-Z]{4}128F9[0-9A-F]{4}\.json$/);
    assert.equal(logs.length, smallSummary.logs.files);
    assert.ok(logs.some((f) => f.endsWith('.gz')) && logs.some((f) => f.endsWith('.json')));
    for (const f of logs) assert.match(f, /^log_data\/(\d{4})\/(\d{2})\/\1-\2-\d{2}-events(-replayed)?\.json(\.gz)?$/);
    const plain = logs.filter((f) => !f.endsWith('.gz') && !f.includes('replayed'));
    const r = await c.runAndReadAll(
      `SELECT filename, min(ts), max(ts) FROM read_json([${plain.map((f) => sqlPath(join(smallDir, f))).join(',')}], format = 'newline_delimited', columns = {ts: 'VARCHAR'}, filename = true, ignore_errors = true) WHERE TRY_CAST(ts AS BIGINT) IS NOT NULL GROUP BY filename`,
    );
    for (const [filename, lo, hi] of r.getRowsJS() as [string, string, string][]) {
      const day = /(\d{4}-\d{2}-\d{2})-events/.exec(filename)![1]!;
      for (const ts of [lo, hi]) assert.equal(new Date(Number(ts)).toISOString().slice(0, 10), day, filename);
    }
    assert.ok(smallSummary.logs.firstDay.startsWith('2018-10') && smallSummary.logs.lastDay >= '2019-03', `${smallSummary.logs.firstDay} … ${smallSummary.logs.lastDay}`);
  });

  describe('content of a clean dataset', () => {
    let dir: string;
    before(async () => {
      dir = tempDir('slake-gen-clean-');
      await generateInto(dir, { songs: 1000, events: 60_000, seed: 3 });
      await c.run(`CREATE OR REPLACE TABLE ev AS SELECT * FROM read_json(${sqlPath(join(dir, 'log_data', '**', '*.json'))}, format = 'newline_delimited')`);
      await c.run(`CREATE OR REPLACE TABLE so AS SELECT * FROM read_json(${sqlPath(join(dir, 'song_data', '**', '*.json'))})`);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('DuckDB read_json finds exactly the columns and types it finds in the Udacity files', async () => {
      assert.deepEqual(await describeJson(c, join(dir, 'log_data', '**', '*.json'), 'newline_delimited'), await describeJson(c, join(udacityLogs, '**', '*.json'), 'newline_delimited'));
      assert.deepEqual(await describeJson(c, join(dir, 'song_data', '**', '*.json'), 'auto'), await describeJson(c, join(udacitySongs, '**', '*.json'), 'auto'));
    });

    test('realistic: page mix, logged-out events, Zipf popularity, matching plays, upgrades, artists, years, months', async () => {
      const q = async (sql: string) => (await c.runAndReadAll(sql)).getRowsJS()[0]!.map(Number);
      const [events, nextSong, loggedOut, loggedOutWithUser] = await q(`SELECT count(*), count(*) FILTER (page = 'NextSong'), count(*) FILTER (auth = 'Logged Out'), count(*) FILTER (auth = 'Logged Out' AND userId <> '') FROM ev`);
      assert.equal(events, 60_000);
      assert.ok(nextSong / events > 0.78 && nextSong / events < 0.9, `NextSong share ${nextSong / events}`);
      assert.ok(loggedOut > 0 && loggedOutWithUser === 0);
      // The 1 % most played titles take a large share of the plays (Zipf), far above 1 %.
      const [topShare] = await q(`WITH c AS (SELECT song, artist, count(*) n FROM ev WHERE page = 'NextSong' GROUP BY ALL), r AS (SELECT n, row_number() OVER (ORDER BY n DESC) rk, count(*) OVER () total FROM c) SELECT sum(n) FILTER (rk <= total / 100) / sum(n) FROM r`);
      assert.ok(topShare! > 0.2, `top 1% share ${topShare}`);
      // ≈ matchShare (0.6) of the plays match a catalog song on title, artist and duration exactly.
      const [matched] = await q(`SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM so WHERE so.title = ev.song AND so.artist_name = ev.artist AND so.duration = ev.length) THEN 1 ELSE 0 END) FROM ev WHERE page = 'NextSong'`);
      assert.ok(matched! > 0.55 && matched! < 0.7, `matched share ${matched}`);
      const [upgraded] = await q(`SELECT count(*) FROM (SELECT userId FROM ev WHERE userId <> '' GROUP BY userId HAVING arg_min(level, ts) = 'free' AND arg_max(level, ts) = 'paid')`);
      assert.ok(upgraded! >= 5, `${upgraded} users upgraded`);
      const [maxSongs, yearZero, artists] = await q(`SELECT max(n), (SELECT count(*) FROM so WHERE year = 0), count(*) FROM (SELECT artist_id, count(*) n FROM so GROUP BY artist_id)`);
      assert.ok(maxSongs! >= 4 && artists! < 1000, `max songs per artist ${maxSongs}, artists ${artists}`);
      assert.ok(yearZero! > 250 && yearZero! < 750, `year 0: ${yearZero}`);
      const [months, years] = await q(`SELECT count(DISTINCT strftime(epoch_ms(ts), '%Y-%m')), count(DISTINCT year(epoch_ms(ts))) FROM ev`);
      assert.ok(months! >= 6 && years === 2, `${months} months over ${years} years`);
      const [badItems] = await q(`SELECT count(*) FROM (SELECT sessionId, list(itemInSession ORDER BY ts, itemInSession) l FROM ev GROUP BY sessionId) WHERE l <> range(len(l))::BIGINT[]`);
      assert.equal(badItems, 0, 'itemInSession counts 0, 1, 2… in every session');
    });
  });

  test('hostile data: the DuckDB reference sees every reject reason, and the replayed file dedups', async () => {
    const ref = await buildReferenceLake({ songs: join(smallDir, 'song_data'), logs: join(smallDir, 'log_data') });
    try {
      const reasons = ref.counts.total.rejectedByReason;
      for (const reason of ['invalid-json', 'not-an-object', 'missing-ts', 'invalid-ts', 'missing-user-id', 'missing-song_id']) assert.ok((reasons[reason] ?? 0) > 0, `${reason} in ${JSON.stringify(reasons)}`);
      assert.equal(reasons['missing-song_id'], smallSummary.hostile.songFiles['no-song-id']);
      assert.ok(smallSummary.hostile.replayedFile);
      const plays = await ref.connection.runAndReadAll(`SELECT count(*), count(DISTINCT songplay_id) FROM ref.songplays`);
      const [n, distinct] = plays.getRowsJS()[0]!.map(Number);
      assert.equal(n, distinct, 'no play counted twice although a whole file and single lines were replayed');
      assert.ok(n! > 10_000);
    } finally {
      ref.close();
    }
  });

  test('the CLI: --json summary, exit 2 with a message on bad usage', async () => {
    const out = tempDir('slake-gen-cli-');
    const ok = await run(process.execPath, [cliBin, 'generate', '--out', out, '--songs', '20', '--events', '500', '--seed', '7', '--json'], { cwd: repoRoot });
    const summary = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as GenerateSummary & { out: string };
    assert.equal(summary.songs.files, 20);
    assert.equal(summary.logs.events, 500);
    assert.equal(summary.out, out + '/');
    const bad = await run(process.execPath, [cliBin, 'generate', '--out', out, '--songs', 'many', '--events', '5'], { cwd: repoRoot }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((bad as { code: number }).code, 2);
    assert.match((bad as { stderr: string }).stderr, /--songs wants a non-negative integer, got "many"/);
    const missing = await run(process.execPath, [cliBin, 'generate', '--songs', '1', '--events', '1'], { cwd: repoRoot }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((missing as { code: number }).code, 2);
    assert.match((missing as { stderr: string }).stderr, /--out is required/);
    rmSync(out, { recursive: true, force: true });
  });

  test('scale: 300k events (≈140 MB of logs) in a 48 MiB V8 heap, peak RSS well under the data size', async () => {
    const out = tempDir('slake-gen-scale-');
    try {
      const script = `import { generate } from ${JSON.stringify(join(repoRoot, 'dist/generator/src/index.js'))};
        import { openStorage } from ${JSON.stringify(join(repoRoot, 'dist/job-runner/src/index.js'))};
        const s = await generate(openStorage(${JSON.stringify(out)}), { songs: 1000, events: 300000, seed: 5 });
        console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS * 1024, bytes: s.logs.bytes, events: s.logs.events }));`;
      // A generator that kept events, lines or files would run out of this heap, or show in the RSS.
      const r = await run(process.execPath, ['--max-old-space-size=48', '--max-semi-space-size=2', '--input-type=module', '-e', script], { cwd: repoRoot });
      const got = JSON.parse(r.stdout) as { rss: number; bytes: number; events: number };
      assert.equal(got.events, 300_000);
      assert.ok(got.bytes > 135e6, `${got.bytes} bytes`);
      assert.ok(got.rss < 128 * 2 ** 20, `peak RSS ${(got.rss / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
