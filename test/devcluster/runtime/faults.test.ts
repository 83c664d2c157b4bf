// The runtime is an ordinary API client, so API faults must not change outcomes: with a share of
// pod writes answered 500, Job status updates answered 409, watches dropped every few hundred
// milliseconds and the watch history compacted (410 Gone → re-list), an Indexed Job still runs each
// index exactly once and reports the exact status.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Job } from '../../../devcluster/src/client/types.js';
import { namespace, nodeContainer, sharedDir, startTestCluster, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startTestCluster();
});
after(async () => {
  await c?.stop();
});

test('an Indexed Job completes exactly once per index through 500s, 409s, dropped watches and 410s', async () => {
  await c.kOk(['apply', '-f', '-'], namespace('faults'));
  const out = sharedDir('slake-faults-');
  const script = `require('fs').appendFileSync(process.env.OUT+'/'+process.env.JOB_COMPLETION_INDEX,'x');setTimeout(()=>{},200)`;
  const stops = [
    c.faults.api.failRequests({ status: 500, fraction: 0.25, resource: 'pods', verbs: ['create', 'patch', 'update', 'list', 'delete'], seed: 3 }),
    c.faults.api.failRequests({ status: 409, fraction: 0.3, resource: 'jobs/status', verbs: ['update'], seed: 4 }),
    c.faults.api.failRequests({ status: 429, count: 3, resource: 'pods', verbs: ['get'], seed: 5 }),
  ];
  let dropped = 0;
  const dropper = setInterval(() => (dropped += c.faults.api.dropWatches()), 250);
  const compactor = setTimeout(() => c.api.compactWatchHistory(), 600);
  try {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'sturdy', namespace: 'faults' },
      spec: { completionMode: 'Indexed', completions: 6, parallelism: 3, template: { spec: { restartPolicy: 'Never', containers: [nodeContainer(script, { env: [{ name: 'OUT', value: out }] })] } } },
    };
    await c.kOk(['apply', '-f', '-'], job);
    await c.kOk(['wait', '--for=condition=complete', 'job/sturdy', '-n', 'faults', '--timeout=90s']);
  } finally {
    clearInterval(dropper);
    clearTimeout(compactor);
    for (const s of stops) s();
  }
  assert.ok(dropped > 0, 'watches were dropped');
  for (const i of [0, 1, 2, 3, 4, 5]) assert.equal(readFileSync(join(out, String(i)), 'utf8'), 'x', `index ${i} ran exactly once`);
  const st = (await c.getJson<Job>(['get', 'job', 'sturdy', '-n', 'faults'])).status!;
  assert.deepEqual([st.completedIndexes, st.succeeded, st.failed ?? 0, st.active, st.uncountedTerminatedPods], ['0-5', 6, 0, 0, {}]);
});
