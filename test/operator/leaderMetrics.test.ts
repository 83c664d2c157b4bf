// Leader-election decisions over lease states, and the Prometheus text the operator serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseStep, microTime, type Lease } from '../../operator/src/kube/leader.js';
import { OperatorMetrics } from '../../operator/src/metrics/operatorMetrics.js';
import { Counter, Histogram, Registry } from '../../operator/src/metrics/registry.js';

const T = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const now = Date.parse('2026-03-01T12:00:00.000Z');
const lease = (spec: Lease['spec']): Lease => ({ metadata: { name: 'l', namespace: 'ns', resourceVersion: '7' }, spec });

test('leaseStep: create, renew, wait, take over', () => {
  const table: [string, Lease | null, string, string][] = [
    ['no lease yet', null, 'a', 'create'],
    ['I hold it', lease({ holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: microTime(now - 1000) }), 'a', 'renew'],
    ['another holds a fresh lease', lease({ holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(now - 14_000) }), 'a', 'wait'],
    ['another holds an expired lease', lease({ holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(now - 15_001) }), 'a', 'takeover'],
    ['released lease (empty holder)', lease({ holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) }), 'a', 'takeover'],
    ['lease without times', lease({ holderIdentity: 'b' }), 'a', 'takeover'],
  ];
  for (const [name, l, me, want] of table) assert.equal(leaseStep(l, me, now, T).kind, want, name);
  const take = leaseStep(lease({ holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(now - 20_000), leaseTransitions: 4 }), 'a', now, T);
  assert.equal(take.kind, 'takeover');
  if (take.kind === 'takeover') {
    assert.equal(take.spec.leaseTransitions, 5);
    assert.equal(take.spec.holderIdentity, 'a');
  }
  const wait = leaseStep(lease({ holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(now - 5000) }), 'a', now, T);
  assert.deepEqual(wait, { kind: 'wait', holder: 'b', expiresInMs: 10_000 });
});

test('MicroTime has exactly six fractional digits', () => {
  assert.equal(microTime(Date.parse('2026-03-01T12:00:00.123Z')), '2026-03-01T12:00:00.123000Z');
});

test('registry renders the Prometheus text format', () => {
  const r = new Registry();
  const c = r.register(new Counter('x_total', 'Things.'));
  c.inc({ result: 'ok' });
  c.inc({ result: 'ok' }, 2);
  c.inc({ result: 'a"b\\c' });
  const h = r.register(new Histogram('d_seconds', 'Durations.', [0.1, 1]));
  h.observe({}, 0.05);
  h.observe({}, 0.5);
  h.observe({}, 5);
  assert.equal(
    r.render(),
    [
      '# HELP x_total Things.',
      '# TYPE x_total counter',
      'x_total{result="ok"} 3',
      'x_total{result="a\\"b\\\\c"} 1',
      '# HELP d_seconds Durations.',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{le="0.1"} 1',
      'd_seconds_bucket{le="1"} 2',
      'd_seconds_bucket{le="+Inf"} 3',
      'd_seconds_sum 5.55',
      'd_seconds_count 3',
      '',
    ].join('\n'),
  );
  assert.throws(() => c.inc({}, -1));
});

test('operator metrics count transitions from statuses, once', () => {
  const m = new OperatorMetrics();
  const base = { runId: 'r1', startTime: '2026-03-01T11:00:00.000Z' };
  m.observeTransition(undefined, { ...base, phase: 'Planning' });
  m.observeTransition({ ...base, phase: 'Planning' }, { ...base, phase: 'Scanning', stages: [{ name: 'scan', completed: 3, total: 8 }] });
  m.observeTransition({ ...base, phase: 'Scanning', stages: [{ name: 'scan', completed: 3 }] }, { ...base, phase: 'Building', stages: [{ name: 'scan', completed: 8, startTime: '2026-03-01T11:01:00.000Z', completionTime: '2026-03-01T11:03:00.000Z' }] });
  const done = { ...base, phase: 'Succeeded' as const, completionTime: '2026-03-01T11:10:00.000Z', records: { read: 100, rejected: 2 }, tables: [{ name: 'songplays', rows: 50 }] };
  m.observeTransition({ ...base, phase: 'Committing' }, done);
  m.observeTransition(done, { ...done, observedGeneration: 2 });
  assert.equal(m.runsStarted.get(), 1);
  assert.equal(m.shards.get({ stage: 'scan' }), 8);
  assert.equal(m.stageSeconds.count({ stage: 'scan' }), 1);
  assert.equal(m.runs.get({ result: 'succeeded' }), 1);
  assert.equal(m.runSeconds.count({ result: 'succeeded' }), 1);
  assert.equal(m.rows.get({ table: 'songplays' }), 50);
  assert.equal(m.recordsRejected.get(), 2);
  const text = m.registry.render();
  for (const name of ['sparkify_lake_reconciles_total', 'sparkify_lake_runs_total', 'sparkify_lake_run_duration_seconds', 'sparkify_lake_stage_duration_seconds', 'sparkify_lake_shards_completed_total', 'sparkify_lake_rows_committed_total', 'sparkify_lake_records_rejected_total', 'sparkify_lake_workqueue_depth']) {
    assert.match(text, new RegExp(`# TYPE ${name} `));
  }
});

test('a fresh operator exports its counters at 0, so increase() sees the first failure after a restart', () => {
  const text = new OperatorMetrics().registry.render();
  for (const series of [
    'sparkify_lake_runs_total{result="failed"} 0',
    'sparkify_lake_runs_total{result="succeeded"} 0',
    'sparkify_lake_reconcile_errors_total{kind="storage"} 0',
    'sparkify_lake_reconciles_total{result="conflict"} 0',
    'sparkify_lake_runs_started_total 0',
    'sparkify_lake_shards_completed_total{stage="build"} 0',
  ]) assert.ok(text.split('\n').includes(series), `${series} in:\n${text}`);
  // Names follow the Prometheus conventions: counters end in _total, durations are _seconds histograms.
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    if (type === 'counter') assert.match(name!, /_total$/, name);
    else assert.doesNotMatch(name!, /_total$/, name);
    if (/duration/.test(name!)) assert.deepEqual([type, name!.endsWith('_seconds')], ['histogram', true], name);
  }
});
