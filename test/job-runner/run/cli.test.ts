// The command line's failure modes, each with a message a person can act on: bad usage (exit 2), no
// input, an output that cannot be written, too many rejects (exit 1); and the shard entrypoint's
// permanent failures (exit 3, JSON log line).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, udacityLogs, udacitySongs } from '../../helpers/paths.js';
import { writeHostileInput } from './hostileInput.js';
import { cli, lastJson } from './lakeFiles.js';

const root = tempDir('slake-cli-');
const empty = join(root, 'empty');
mkdirSync(empty);
const notAFolder = join(root, 'file');
writeFileSync(notAFolder, 'x');
const hostile = writeHostileInput(join(root, 'hostile'));
for (const d of ['song_data', 'log_data']) mkdirSync(join(root, 'raw', d), { recursive: true });
symlinkSync(join(root, 'raw', 'song_data'), join(root, 'link-to-songs'));

/** What the usage says --shards defaults to on this machine (job-runner/src/local/runLocal.ts, localScanShards). */
const SHARDS_DEFAULT = /--shards N +scan shards \(default: a multiple of --parallel with about 1 GiB of input\s+each, K × ceil\(input \/ \(K × 1Gi\)\)/;

const cases: { name: string; args: string[]; code: number; stderr: RegExp; stdout?: RegExp }[] = [
  { name: 'missing --out', args: ['run', '--songs', udacitySongs, '--logs', udacityLogs], code: 2, stderr: /--out is required[\s\S]*usage: sparkify-lake run/ },
  { name: 'an unknown flag', args: ['run', '--sogns', 'x'], code: 2, stderr: new RegExp(`Unknown option '--sogns'[\\s\\S]*${SHARDS_DEFAULT.source}`) },
  { name: 'a bad size', args: ['run', '--songs', 'a', '--logs', 'b', '--out', 'c', '--target-shard-bytes', '12 parsecs'], code: 2, stderr: /invalid --target-shard-bytes "12 parsecs": want a number of bytes with an optional suffix, e.g. 256Mi/ },
  { name: 'no input', args: ['run', '--songs', empty, '--logs', udacityLogs, '--out', join(root, 'lake1')], code: 1, stderr: /no song input found under .*empty\/ \(looked for \*\.json/ },
  { name: 'an output that cannot be written', args: ['run', '--songs', udacitySongs, '--logs', udacityLogs, '--out', join(notAFolder, 'lake')], code: 1, stderr: /cannot write to the output .*file\/lake/ },
  { name: 'too many rejects', args: ['run', '--songs', hostile.songs, '--logs', hostile.logs, '--out', join(root, 'lake2')], code: 1, stderr: /rejected \d+ of \d+ records \(\d+%\), over the limit of 1% \(--max-reject-ratio\)\. Top reasons: .*fix the input, or raise the limit/ },
  // Node's mkdir({ recursive: true }) used to spin here forever at 100% CPU, deaf to SIGTERM.
  { name: 'an output under /proc', args: ['run', '--songs', udacitySongs, '--logs', udacityLogs, '--out', '/proc/lake'], code: 1, stderr: /cannot write to the output \/proc\/lake\/: cannot create folder \/proc\/lake\/_lake\/runs\/\S+: \/proc exists but refuses new folders/ },
  { name: 'an output holding the inputs', args: ['run', '--songs', join(root, 'raw', 'song_data'), '--logs', join(root, 'raw', 'log_data'), '--out', join(root, 'raw')], code: 2, stderr: /^sparkify-lake run: --out \S+\/raw and --songs \S+\/raw\/song_data overlap \(--out contains --songs\): the lake would be written into its input/ },
  { name: 'an output inside an S3 input', args: ['run', '--songs', 's3://raw/song_data', '--logs', 's3://raw/log_data/', '--out', 's3://raw/log_data/lake'], code: 2, stderr: /^sparkify-lake run: --out s3:\/\/raw\/log_data\/lake and --logs s3:\/\/raw\/log_data\/ overlap \(--logs contains --out\)/ },
  { name: 'an output reached through a symbolic link to an input', args: ['run', '--songs', join(root, 'raw', 'song_data'), '--logs', join(root, 'raw', 'log_data'), '--out', join(root, 'link-to-songs', 'lake')], code: 2, stderr: /--out \S+\/link-to-songs\/lake and --songs \S+\/raw\/song_data overlap \(--songs contains --out\)/ },
  { name: 'help', args: ['run', '--help'], code: 0, stderr: /^$/, stdout: new RegExp(`usage: sparkify-lake run --songs <uri> --logs <uri> --out <uri>[\\s\\S]*${SHARDS_DEFAULT.source}`) },
  { name: 'shard without an index', args: ['shard', '--out', root, '--run-id', 'x1', '--stage', 'scan'], code: 3, stderr: /^$/, stdout: /"level":"error".*no shard index: pass --index N or set JOB_COMPLETION_INDEX/ },
  { name: 'shard of a run that does not exist', args: ['shard', '--out', root, '--run-id', 'nope', '--stage', 'build', '--index', '0'], code: 3, stderr: /^$/, stdout: /"exitCode":3.*run spec .*_lake\/runs\/nope\/run\.json does not exist|run spec .*does not exist.*"exitCode":3/ },
];

for (const c of cases) {
  test(`cli: ${c.name}`, async () => {
    const r = await cli(c.args);
    assert.equal(r.code, c.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, c.stderr);
    if (c.stdout) assert.match(r.stdout, c.stdout);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('cli: without --shards a local run makes the stated default, a multiple of --parallel', async () => {
  // The Udacity sample is ~4 MB in 101 objects: far under 1 GiB a lane, so one shard per lane.
  for (const parallel of [1, 3]) {
    const r = await cli(['run', '--songs', udacitySongs, '--logs', udacityLogs, '--out', join(root, `lake-p${parallel}`), '--parallel', String(parallel), '--executor', 'thread', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson<{ shards: { scan: number } }>(r.stdout).shards.scan, parallel);
  }
});

test('cli: an overlapping output is refused before anything is written', async () => {
  const r = await cli(['run', '--songs', join(root, 'raw2', 'song_data'), '--logs', udacityLogs, '--out', join(root, 'raw2')]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(existsSync(join(root, 'raw2')), false, 'no folder made, no run started');
});

test('cli: no S3 credentials at all is said as such, not as credentials S3 rejected', async () => {
  const home = join(root, 'empty-home');
  mkdirSync(home);
  // No AWS_* credential anywhere (env, ~/.aws), and an endpoint where nothing listens: had a request
  // been sent, the message would be "cannot reach S3 endpoint".
  const env: Record<string, string | undefined> = { HOME: home, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const k of Object.keys(process.env)) if (/^AWS_/.test(k) && !(k in env)) env[k] = undefined;
  const r = await cli(['run', '--songs', 's3://raw/song_data', '--logs', 's3://raw/log_data', '--out', 's3://lake/sparkify'], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^sparkify-lake run: no S3 credentials for s3:\/\/raw\/(song|log)_data\/ \(no request was sent\): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or a profile in ~\/\.aws\/credentials\n$/);
  assert.doesNotMatch(r.stderr, /rejected the credentials|Secret/);
});
