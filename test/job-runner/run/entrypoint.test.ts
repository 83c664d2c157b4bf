// The job-runner image's entrypoint itself (dist/job-runner/src/main.js), as a pod runs it:
// `--help` prints the usage and exits 0; on Node < 22 the AWS SDK's NodeVersionSupportWarning stays
// out of the pod's log unless the environment asks for it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/paths.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';

const MAIN = join(repoRoot, 'dist', 'job-runner', 'src', 'main.js');

function runMain(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  delete env.JOB_COMPLETION_INDEX;
  return env;
};

for (const args of [['--help'], ['-h'], ['shard', '--help']]) {
  test(`entrypoint: ${args.join(' ')} prints the usage and exits 0`, async () => {
    const r = await runMain(args, baseEnv());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^usage: shard --out <uri> --run-id <id> --stage scan\|build \[--index N\]/);
    assert.match(r.stdout, /JOB_COMPLETION_INDEX/);
    assert.equal(r.stderr, '');
  });
}

let s3: TestS3;
before(async () => {
  s3 = await startTestS3();
  await s3.createBucket('lake');
});
after(async () => {
  await s3?.stop();
});

test('entrypoint: no NodeVersionSupportWarning in the log; an explicit setting in the environment still wins', async () => {
  // A shard of a run that does not exist: the S3 client is built and used, then exit 3.
  const args = ['shard', '--out', 's3://lake/x', '--run-id', 'nope', '--stage', 'scan', '--index', '0'];
  const env = { ...baseEnv(), ...s3.env, AWS_ENDPOINT_URL: s3.endpoint };
  const quiet = await runMain(args, env);
  assert.equal(quiet.code, 3, quiet.stdout + quiet.stderr);
  assert.match(quiet.stdout, /run spec .*does not exist/);
  assert.doesNotMatch(quiet.stderr + quiet.stdout, /NodeVersionSupportWarning/);
  if (Number(process.versions.node.split('.')[0]) < 22) {
    // The control: the SDK does warn on this Node when the variable says so, so the check above can fail.
    const loud = await runMain(args, { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    assert.equal(loud.code, 3);
    assert.match(loud.stderr, /NodeVersionSupportWarning/);
  }
});
