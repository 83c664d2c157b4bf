// The command line's failure modes, each with a message a person can act on: bad usage (exit 2), no
// input, an output that cannot be written, too many rejects (exit 1); and the shard entrypoint's
// permanent failures (exit 3, JSON log line).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
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

/** What the usage says --shards defaults to on this machine (job-runner/src/local/runLocal.ts, localScanShards). */
const SHARDS_DEFAULT = /--shards N +scan shards \(default: a multiple of --parallel with about 1 GiB of input\s+each, K × ceil\(input \/ \(K × 1Gi\)\)/;

const cases: { name: string; args: string[]; code: number; stderr: RegExp; stdout?: RegExp }[] = [
  { name: 'missing --out', args: ['run', '--songs', udacitySongs, '--logs', udacityLogs], code: 2, stderr: /--out is required[\s\S]*usage: sparkify-lake run/ },
  { name: 'an unknown flag', args: ['run', '--sogns', 'x'], code: 2, stderr: new RegExp(`Unknown option '--sogns'[\\s\\S]*${SHARDS_DEFAULT.source}`) },
  { name: 'a bad size', args: ['run', '--songs', 'a', '--logs', 'b', '--out', 'c', '--target-shard-bytes', '12 parsecs'], code: 2, stderr: /invalid --target-shard-bytes "12 parsecs": want a number of bytes with an optional suffix, e.g. 256Mi/ },
  { name: 'no input', args: ['run', '--songs', empty, '--logs', udacityLogs, '--out', join(root, 'lake1')], code: 1, stderr: /no song input found under .*empty\/ \(looked for \*\.json/ },
  { name: 'an output that cannot be written', args: ['run', '--songs', udacitySongs, '--logs', udacityLogs, '--out', join(notAFolder, 'lake')], code: 1, stderr: /cannot write to the output .*file\/lake/ },
  { name: 'too many rejects', args: ['run', '--songs', hostile.songs, '--logs', hostile.logs, '--out', join(root, 'lake2')], code: 1, stderr: /rejected \d+ of \d+ records \(\d+%\), over the limit of 1% \(quality\.maxRejectRatio\)\. Top reasons: .*fix the input, or raise the limit/ },
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
