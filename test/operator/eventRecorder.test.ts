// Event aggregation against the dev cluster's API server, read back with the real kubectl: a repeat
// of the same (reason, message without timings) bumps count on one Event — also from a fresh
// recorder (a restarted operator) — while another message makes another Event, and an Event gone
// (TTL, deleted) is created anew.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster } from '../../devcluster/src/index.js';
import { CRD_FILE } from '../../operator/src/crd/crd.js';
import type { SparkifyLakeJob } from '../../operator/src/crd/types.js';
import { EventRecorder } from '../../operator/src/kube/eventRecorder.js';
import { KubeRest } from '../../operator/src/kube/rest.js';
import { kubectl } from '../helpers/kube.js';
import { repoRoot } from '../helpers/paths.js';
import { baseSpec } from './fixtures.js';

let dev: DevCluster;
let rest: KubeRest;

async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(dev.kubeconfigPath, args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dev = await startDevCluster({ images: {} });
  const kc = new KubeConfig();
  kc.loadFromFile(dev.kubeconfigPath);
  rest = new KubeRest(kc);
  await k(['apply', '-f', join(repoRoot, 'crds', CRD_FILE)]);
  await k(['wait', '--for=condition=Established', 'crd/sparkifylakejobs.lake.sparkify.io', '--timeout=30s']);
  await k(['create', 'namespace', 'ev']);
});

after(async () => {
  await dev?.stop();
});

interface EventList {
  items: { metadata: { name: string }; reason: string; message: string; count: number; firstTimestamp: string; lastTimestamp: string }[];
}

test('a repeat counts on one Event, across a restart; another message is another Event; a deleted Event is created anew', async () => {
  await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'lake.sparkify.io/v1alpha1', kind: 'SparkifyLakeJob', metadata: { name: 'nightly', namespace: 'ev' }, spec: baseSpec }));
  const lj = JSON.parse(await k(['get', 'slj', 'nightly', '-n', 'ev', '-o', 'json'])) as SparkifyLakeJob;
  const t0 = Date.now() - 60_000;
  const at = (s: number) => new Date(t0 + s * 1000);
  const unreachable = (attempts: number, secs: string) => ({ type: 'Warning' as const, reason: 'StorageUnreachable', message: `cannot reach S3 endpoint http://127.0.0.1:9: connect ECONNREFUSED (list s3://raw/song_data/ after ${attempts} attempts over ${secs} s)` });

  const first = new EventRecorder(rest, 'sparkify-lake-operator', 'a');
  const r1 = await first.record(lj.metadata, unreachable(8, '5.6'), at(0));
  const r2 = await first.record(lj.metadata, unreachable(7, '5.3'), at(30));
  assert.equal(r1.kind, 'created');
  assert.deepEqual(r2, { kind: 'counted', name: r1.name, count: 2 });
  // A restarted operator knows nothing of it: AlreadyExists, then the count from the API.
  const restarted = new EventRecorder(rest, 'sparkify-lake-operator', 'b');
  assert.deepEqual(await restarted.record(lj.metadata, unreachable(8, '5.1'), at(60)), { kind: 'counted', name: r1.name, count: 3 });
  const other = await restarted.record(lj.metadata, { type: 'Warning', reason: 'StorageUnreachable', message: 'cannot reach S3 endpoint http://other:9: getaddrinfo ENOTFOUND other' }, at(60));
  assert.equal(other.kind, 'created');
  assert.notEqual(other.name, r1.name);

  const list = JSON.parse(await k(['get', 'events', '-n', 'ev', '--field-selector', 'involvedObject.name=nightly', '-o', 'json'])) as EventList;
  assert.equal(list.items.length, 2, JSON.stringify(list.items.map((e) => e.message)));
  const agg = list.items.find((e) => e.metadata.name === r1.name)!;
  assert.equal(agg.count, 3);
  // (metav1.Time has whole seconds on a real API server.)
  assert.ok(Math.abs(Date.parse(agg.firstTimestamp) - at(0).getTime()) < 1000, agg.firstTimestamp);
  assert.ok(Math.abs(Date.parse(agg.lastTimestamp) - at(60).getTime()) < 1000, agg.lastTimestamp);
  assert.match(agg.message, /after 8 attempts over 5\.1 s/, 'the latest wording is kept');
  const describe = await k(['describe', 'slj', 'nightly', '-n', 'ev']);
  assert.match(describe, /Warning\s+StorageUnreachable\s+\S+ \(x3 over \S+\)\s+sparkify-lake-operator\s+cannot reach S3 endpoint http:\/\/127/, describe);

  // Gone (the API server's event TTL, or deleted): the cached count must not resurrect it.
  await k(['delete', 'event', r1.name, '-n', 'ev']);
  assert.deepEqual(await first.record(lj.metadata, unreachable(8, '5.0'), at(90)), { kind: 'created', name: r1.name });
  const again = JSON.parse(await k(['get', 'event', r1.name, '-n', 'ev', '-o', 'json'])) as EventList['items'][number];
  assert.equal(again.count, 1);
});
