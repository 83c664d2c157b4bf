// Assembles a running operator: config → REST client → informers + queue + reconciler → leader
// election → probe/metrics server. `sparkify-lake operator` and the image entrypoint
// (operator/src/main.ts) both start it through runOperatorProcess (process.ts), which calls this.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Controller } from './control/controller.js';
import { systemClock, type Clock } from './control/clock.js';
import { Observer } from './control/observe.js';
import { Reconciler } from './control/reconciler.js';
import { KubeCluster } from './kube/cluster.js';
import { loadKubeConfig } from './kube/config.js';
import { LeaderElector, type LeaderTimings } from './kube/leader.js';
import { KubeRest } from './kube/rest.js';
import { createLogger, type Logger } from './log.js';
import { OperatorMetrics } from './metrics/operatorMetrics.js';
import { startProbeServer, type ProbeServer } from './http/server.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig } from './run/decide.js';
import { EngineRunActions } from './s3/runActions.js';
import { RunReader } from './s3/runReader.js';
import { StorageCache } from './s3/storages.js';
import type { StorageDefaults } from './run/storage.js';
import { defaultRunnerImagePatterns } from './run/validity.js';

export const COMPONENT = 'sparkify-lake-operator';
export const RUNNER_IMAGE = 'ghcr.io/sparkify/sparkify-lake-job-runner';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Namespaces to watch; empty = all. */
  namespaces?: string[];
  /** Port of /healthz, /readyz, /metrics (0 = any free port). */
  metricsPort?: number;
  metricsHost?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  identity?: string;
  leaderTimings?: LeaderTimings;
  defaultImage?: string;
  /** Runner images a lake job may name (run/validity.ts); default: any tag or digest of defaultImage's repository. */
  allowedRunnerImages?: string[];
  /** S3 endpoint origins a lake job may name; default (absent or empty): any. */
  allowedS3Endpoints?: string[];
  /** S3 settings for lake jobs whose spec.storage leaves them out (run/storage.ts). */
  storageDefaults?: StorageDefaults;
  workers?: number;
  resyncMs?: number;
  decide?: Partial<Omit<DecideConfig, 'defaultImage' | 'allowedRunnerImages' | 'allowedS3Endpoints'>>;
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface RunningOperator {
  identity: string;
  probes: ProbeServer;
  controller: Controller;
  metrics: OperatorMetrics;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function defaultRunnerImage(): string {
  return `${RUNNER_IMAGE}:${packageVersion()}`;
}

export async function startOperator(o: OperatorOptions = {}): Promise<RunningOperator> {
  const env = o.env ?? process.env;
  const clock = o.clock ?? systemClock;
  const log = o.log ?? createLogger();
  const loaded = loadKubeConfig(o.kubeconfig, env);
  const identity = o.identity ?? env.POD_NAME ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  const rest = new KubeRest(loaded.kubeConfig);
  const metrics = new OperatorMetrics();
  const cluster = new KubeCluster(rest, COMPONENT, identity);
  const namespaces = o.namespaces ?? [];
  const now = () => new Date(clock.now());
  log.info('starting', { identity, config: loaded.source, server: rest.server, namespaces: namespaces.length ? namespaces : 'all', leaderElect: Boolean(o.leaderElect), storageDefaults: o.storageDefaults ?? {} });

  const controller = new Controller({
    kubeConfig: loaded.kubeConfig,
    rest,
    namespaces,
    clock,
    metrics,
    log,
    workers: o.workers ?? 4,
    resyncMs: o.resyncMs ?? 5 * 60_000,
  });
  const runs = new RunReader();
  const storages = new StorageCache();
  const storageDefaults = o.storageDefaults ?? {};
  const allowedS3Endpoints = o.allowedS3Endpoints ?? [];
  const observer = new Observer({ cluster, jobsOf: (ns, uid) => controller.jobsOf(ns, uid), runs, storages, now, secretTtlMs: 10_000, storageDefaults, allowedS3Endpoints });
  const defaultImage = o.defaultImage ?? defaultRunnerImage();
  const allowedRunnerImages = o.allowedRunnerImages ?? defaultRunnerImagePatterns(defaultImage);
  const config: DecideConfig = { ...DEFAULT_DECIDE_CONFIG, ...o.decide, defaultImage, allowedRunnerImages, allowedS3Endpoints, storageDefaults };
  log.info('policy', { allowedRunnerImages, allowedS3Endpoints: allowedS3Endpoints.length ? allowedS3Endpoints : 'any' });
  controller.setReconciler(
    new Reconciler({ cluster, cached: (ns, name) => controller.cachedLakeJob(ns, name), observer, actions: new EngineRunActions(runs, now), config, now, metrics, log }),
  );

  metrics.queueDepth.set({}, 0);
  const probes = await startProbeServer(
    {
      healthy: () => ({ ok: true, detail: `${controller.informerErrors} informer restarts` }),
      ready: () => (controller.synced ? { ok: true, detail: 'caches synced' } : { ok: false, detail: 'waiting for the informers to list' }),
      metrics: () => {
        metrics.queueDepth.set({}, controller.queue.depth);
        metrics.queueDelayed.set({}, controller.queue.delayedCount);
        metrics.leader.set({}, elector ? (elector.isLeader ? 1 : 0) : 1);
        metrics.sampleMemory();
        metrics.activeRuns.reset();
        for (const lj of controller.allLakeJobs()) {
          const phase = lj.status?.phase;
          if (phase && phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Pending') metrics.activeRuns.set({ phase }, metrics.activeRuns.get({ phase }) + 1);
        }
        return metrics.registry.render();
      },
    },
    o.metricsPort ?? 8080,
    o.metricsHost,
  );

  log.info('serving /healthz, /readyz and /metrics', { url: probes.url });
  await controller.start();
  log.info('caches synced', { lakeJobs: controller.allLakeJobs().length });

  let elector: LeaderElector | undefined;
  if (o.leaderElect) {
    const leaseNamespace = o.leaseNamespace ?? env.POD_NAMESPACE ?? loaded.podNamespace ?? 'default';
    elector = new LeaderElector({
      rest,
      namespace: leaseNamespace,
      name: o.leaseName ?? 'sparkify-lake-operator',
      identity,
      clock,
      ...(o.leaderTimings ? { timings: o.leaderTimings } : {}),
      onStartedLeading: () => {
        log.info('became the leader', { identity, lease: `${leaseNamespace}/${o.leaseName ?? 'sparkify-lake-operator'}` });
        controller.activate();
      },
      onStoppedLeading: () => {
        log.warn('lost the leader lease; standing by', { identity });
        void controller.deactivate();
      },
      onNewLeader: (holder) => log.info('another replica leads', { leader: holder }),
      log: (msg, fields) => log.warn(msg, fields),
    });
    elector.start();
  } else {
    controller.activate();
  }

  let stopping: Promise<void> | undefined;
  return {
    identity,
    probes,
    controller,
    metrics,
    isLeader: () => (elector ? elector.isLeader : true),
    stop() {
      stopping ??= (async () => {
        log.info('shutting down');
        await controller.deactivate();
        await elector?.stop();
        await controller.stop();
        await probes.close();
        rest.close();
        storages.close(); // the shared S3 clients go with their last storage (keep-alive sockets closed)
        log.info('stopped');
      })();
      return stopping;
    },
  };
}
