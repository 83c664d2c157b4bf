// The demo's pure parts, table-driven: the progress line drawn from a status, the live line on a
// terminal and in a log, and the lake job file pointed at the demo's S3.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { prepareLakeJob } from '../../cli/src/demo/lakeJobFile.js';
import { LiveLine, progressLine, progressOf } from '../../cli/src/demo/progress.js';
import { demoSummary } from '../../cli/src/demo/summary.js';
import type { LakeJobStatus } from '../../operator/src/crd/types.js';
import { repoRoot } from '../helpers/paths.js';

test('progress line from a status', async (t) => {
  const cases: { name: string; status: LakeJobStatus | undefined; want: string }[] = [
    { name: 'no status yet', status: undefined, want: 'Pending   ' },
    { name: 'planning', status: { phase: 'Planning' }, want: 'Planning  ' },
    {
      name: 'scanning: shards and records',
      status: { phase: 'Scanning', stages: [{ name: 'scan', total: 6, completed: 2 }], records: { read: 6496, rejected: 3 } },
      want: 'Scanning     scan 2/6 shards   records 6,496 read, 3 rejected',
    },
    {
      name: 'building: the last stage, partitions landed over every table, rows',
      status: {
        phase: 'Building',
        stages: [{ name: 'scan', total: 6, completed: 6 }, { name: 'build', total: 2, completed: 1 }],
        tables: [{ name: 'songs', partitions: 132, partitionsLanded: 70, rows: 80 }, { name: 'time', partitions: 2, partitionsLanded: 1, rows: 371 }],
        records: { read: 20150, rejected: 0 },
      },
      want: 'Building     build 1/2 shards   partitions 71/134 landed   rows 451   records 20,150 read, 0 rejected',
    },
    {
      name: 'status.rows wins over the tables sum',
      status: { phase: 'Succeeded', rows: 33074, tables: [{ name: 'songs', partitions: 1, partitionsLanded: 1, rows: 1 }] },
      want: 'Succeeded    partitions 1/1 landed   rows 33,074',
    },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(progressLine(progressOf(c.status)), c.want));
});

test('live line: redrawn in place on a terminal, one line per change elsewhere', () => {
  const tty: string[] = [];
  const onTty = new LiveLine({ isTTY: true, columns: 30, write: (s) => tty.push(s) });
  onTty.update('[1 s] Scanning', 'Scanning');
  onTty.update('[1 s] Scanning', 'Scanning');
  onTty.update('[2 s] Scanning and a line far too long for the terminal', 'Scanning');
  onTty.end();
  assert.deepEqual(tty, ['\r\x1b[2K[1 s] Scanning', '\r\x1b[2K[2 s] Scanning and a line fa…', '\n']);

  const log: string[] = [];
  const inLog = new LiveLine({ write: (s) => log.push(s) });
  inLog.update('[1 s] Scanning', 'Scanning');
  inLog.update('[2 s] Scanning', 'Scanning');
  inLog.update('[3 s] Building', 'Building');
  inLog.end();
  assert.deepEqual(log, ['[1 s] Scanning\n', '[3 s] Building\n']);
});

test('examples/lakejob.yaml is applied as written, or pointed at the S3 the demo got', async (t) => {
  const text = readFileSync(join(repoRoot, 'examples', 'lakejob.yaml'), 'utf8');
  await t.test('same endpoint: the file itself', () => {
    const got = prepareLakeJob(text, 'http://127.0.0.1:4568');
    assert.equal(got.text, text);
    assert.deepEqual([got.name, got.namespace, got.output, got.rewroteEndpoint], ['sample', undefined, 's3://lake/sparkify/', undefined]);
  });
  await t.test('another port: only spec.storage.endpoint changes', () => {
    const got = prepareLakeJob(text, 'http://127.0.0.1:39999');
    assert.equal(got.rewroteEndpoint, 'http://127.0.0.1:4568');
    const before = parseAllDocuments(text).map((d) => d.toJS());
    const after = parseAllDocuments(got.text).map((d) => d.toJS());
    before[1].spec.storage.endpoint = 'http://127.0.0.1:39999';
    assert.deepEqual(after, before);
  });
  const bad: [string, string, RegExp][] = [
    ['no lake job', 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n', /expected exactly one SparkifyLakeJob, found 0/],
    ['not YAML', 'kind: [', /lakejob\.yaml: /],
    ['no output', 'kind: SparkifyLakeJob\nmetadata: {name: x}\nspec: {}\n', /needs metadata\.name and spec\.output/],
  ];
  for (const [name, input, want] of bad) await t.test(name, () => assert.throws(() => prepareLakeJob(input, 'http://x:1'), want));
});

test("the summary points at the leading operator's logs (from its Lease), not at any replica", () => {
  const text = demoSummary({
    inspect: 'tables …',
    output: 's3://lake/sparkify/',
    lakeDir: '/tmp/lake',
    files: 3,
    query: 'SELECT 1',
    kubeconfig: '/tmp/kubeconfig',
    binDir: '/tmp/bin',
    lakeJob: { name: 'sample' },
    operator: { namespace: 'sparkify-system', deployment: 'lake-operator', release: 'lake', lease: 'lake-operator' },
    s3: { endpoint: 'http://127.0.0.1:4568', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stays: true,
  });
  assert.match(text, /kubectl -n sparkify-system logs \$\(kubectl -n sparkify-system get lease lake-operator -o jsonpath='\{\.spec\.holderIdentity\}'\)/);
  assert.doesNotMatch(text, /logs deploy/, 'a Deployment with a standby replica may show the wrong log');
  assert.match(text, /Press Ctrl-C/);
});
