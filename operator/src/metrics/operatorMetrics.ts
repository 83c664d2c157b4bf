// The operator's metrics. Run-level numbers (runs by result, durations, shards, rows, rejects) are
// counted when the reconciler writes a status that changes them, so they follow what the resource
// reports; a restarted operator starts its counters from zero, as Prometheus expects.
import type { LakeJobStatus } from '../crd/types.js';
import { Counter, Gauge, Histogram, Registry } from './registry.js';

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = this.registry.register(new Counter('sparkify_lake_reconciles_total', 'Reconciles of lake jobs, by result (ok, error, conflict).'));
  readonly reconcileErrors = this.registry.register(new Counter('sparkify_lake_reconcile_errors_total', 'Failed reconciles, by kind of error (kubernetes, storage, other).'));
  readonly reconcileSeconds = this.registry.register(new Histogram('sparkify_lake_reconcile_duration_seconds', 'Time of one reconcile.', RECONCILE_BUCKETS));
  readonly runs = this.registry.register(new Counter('sparkify_lake_runs_total', 'Finished runs, by result (succeeded, failed).'));
  readonly runsStarted = this.registry.register(new Counter('sparkify_lake_runs_started_total', 'Runs started.'));
  readonly runSeconds = this.registry.register(new Histogram('sparkify_lake_run_duration_seconds', 'Wall time of a run from start to commit or failure, by result.', DURATION_BUCKETS));
  readonly stageSeconds = this.registry.register(new Histogram('sparkify_lake_stage_duration_seconds', 'Wall time of a stage Job, by stage (scan, build).', DURATION_BUCKETS));
  readonly shards = this.registry.register(new Counter('sparkify_lake_shards_completed_total', 'Shards whose receipt landed, by stage.'));
  readonly rows = this.registry.register(new Counter('sparkify_lake_rows_committed_total', 'Rows committed to the lake, by table.'));
  readonly recordsRead = this.registry.register(new Counter('sparkify_lake_records_read_total', 'Raw records read by finished scans.'));
  readonly recordsRejected = this.registry.register(new Counter('sparkify_lake_records_rejected_total', 'Raw records quarantined by finished scans.'));
  readonly events = this.registry.register(new Counter('sparkify_lake_events_total', 'Kubernetes Events recorded, by type and reason.'));
  readonly queueDepth = this.registry.register(new Gauge('sparkify_lake_workqueue_depth', 'Lake jobs waiting in the work queue.'));
  readonly queueDelayed = this.registry.register(new Gauge('sparkify_lake_workqueue_delayed', 'Lake jobs waiting for a timed requeue (poll, backoff).'));
  readonly activeRuns = this.registry.register(new Gauge('sparkify_lake_active_runs', 'Lake jobs with a run in progress, by phase.'));
  readonly leader = this.registry.register(new Gauge('sparkify_lake_leader', 'Whether this replica holds the leader lease (1) or stands by (0).'));
  readonly informerErrors = this.registry.register(new Counter('sparkify_lake_informer_restarts_total', 'Informer restarts after watch or list errors, by resource.'));
  // The process's memory, under the names Prometheus' client libraries use, so the usual dashboards
  // and alerts apply; the heap figures tell a leak in JS objects from Buffers or code (docs/operator.md "Scale").
  readonly residentMemory = this.registry.register(new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.'));
  readonly heapUsed = this.registry.register(new Gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.'));
  readonly heapTotal = this.registry.register(new Gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved, in bytes.'));
  readonly externalMemory = this.registry.register(new Gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JS objects (Buffers included), in bytes.'));

  constructor() {
    // Every label value known in advance is exported from the start (see Counter.zero).
    this.reconciles.zero({ result: 'ok' }, { result: 'error' }, { result: 'conflict' });
    this.reconcileErrors.zero({ kind: 'kubernetes' }, { kind: 'storage' }, { kind: 'other' });
    this.runs.zero({ result: 'succeeded' }, { result: 'failed' });
    this.runsStarted.zero({});
    this.shards.zero({ stage: 'scan' }, { stage: 'build' });
    this.recordsRead.zero({});
    this.recordsRejected.zero({});
    this.informerErrors.zero({ resource: 'sparkifylakejobs' }, { resource: 'jobs' });
  }

  /** Sets the memory gauges from the process, right before a scrape. */
  sampleMemory(): void {
    const m = process.memoryUsage();
    this.residentMemory.set({}, m.rss);
    this.heapUsed.set({}, m.heapUsed);
    this.heapTotal.set({}, m.heapTotal);
    this.externalMemory.set({}, m.external);
  }

  /** Counts what a status write changed: a finished stage or run, newly landed shards. */
  observeTransition(prev: LakeJobStatus | undefined, next: LakeJobStatus): void {
    const p = prev ?? {};
    if (next.runId && next.runId !== p.runId) this.runsStarted.inc();
    const sameRun = p.runId === next.runId;
    for (const stage of next.stages ?? []) {
      const before = sameRun ? p.stages?.find((s) => s.name === stage.name) : undefined;
      const landed = (stage.completed ?? 0) - (before?.completed ?? 0);
      if (landed > 0) this.shards.inc({ stage: stage.name }, landed);
      if (stage.completionTime && !before?.completionTime && stage.startTime) {
        this.stageSeconds.observe({ stage: stage.name }, (Date.parse(stage.completionTime) - Date.parse(stage.startTime)) / 1000);
      }
    }
    if ((next.phase === 'Succeeded' || next.phase === 'Failed') && (p.phase !== next.phase || !sameRun)) {
      const result = next.phase === 'Succeeded' ? 'succeeded' : 'failed';
      this.runs.inc({ result });
      if (next.startTime && next.completionTime) this.runSeconds.observe({ result }, (Date.parse(next.completionTime) - Date.parse(next.startTime)) / 1000);
      if (next.records) {
        this.recordsRead.inc({}, next.records.read ?? 0);
        this.recordsRejected.inc({}, next.records.rejected ?? 0);
      }
      if (next.phase === 'Succeeded') for (const t of next.tables ?? []) this.rows.inc({ table: t.name }, t.rows ?? 0);
    }
  }
}
