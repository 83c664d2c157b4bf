// Pod faults for reliability tests. A killed pod behaves as when its node kills it (OOM, eviction,
// preemption): its containers die from the signal (exit 128+N), it gets a DisruptionTarget
// condition, and it ends Failed whatever its restartPolicy — its controller replaces it.
import type { Pod } from '../client/types.js';
import { matchesSelector } from '../client/labels.js';
import type { PodWorker } from './podWorker.js';

export interface PodFilter {
  namespace?: string;
  labels?: Record<string, string>;
  /** Pods of this Job (batch.kubernetes.io/job-name). */
  jobName?: string;
}

export interface PodFaults {
  /** Kills a running pod now; resolves once its terminal status is written. */
  killPod(namespace: string, name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Kills the running pod of a Job's completion index; resolves to its name. */
  killJobIndex(namespace: string, job: string, index: number, signal?: NodeJS.Signals): Promise<string>;
  /** After `ms`, kills one running pod chosen at random among those matching; `done` resolves to its name (undefined if none ran). */
  killRandomPodAfter(ms: number, filter?: PodFilter, signal?: NodeJS.Signals): { done: Promise<string | undefined>; cancel(): void };
}

const DISRUPTION = (signal: string) => ({ reason: 'TerminationByKubelet', message: `Pod was killed by the dev cluster's fault injection (${signal})` });

export function podFaults(deps: { workers: () => PodWorker[]; random: () => number }): PodFaults {
  const running = (filter: PodFilter = {}): PodWorker[] =>
    deps.workers().filter((w) => {
      const p: Pod = w.pod;
      if (!w.isRunning()) return false;
      if (filter.namespace && p.metadata.namespace !== filter.namespace) return false;
      if (filter.jobName && p.metadata.labels?.['batch.kubernetes.io/job-name'] !== filter.jobName) return false;
      if (filter.labels && !matchesSelector({ matchLabels: filter.labels }, p.metadata.labels)) return false;
      return true;
    });

  const killPod = async (namespace: string, name: string, signal: NodeJS.Signals = 'SIGKILL') => {
    const w = deps.workers().find((x) => x.pod.metadata.namespace === namespace && x.pod.metadata.name === name);
    if (!w) throw new Error(`pod ${namespace}/${name} is not running on the dev cluster's node`);
    await w.kill(signal, DISRUPTION(signal));
  };

  return {
    killPod,
    async killJobIndex(namespace, job, index, signal = 'SIGKILL') {
      const w = running({ namespace, jobName: job }).find((x) => x.pod.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] === String(index));
      if (!w) throw new Error(`no running pod for index ${index} of job ${namespace}/${job}`);
      await w.kill(signal, DISRUPTION(signal));
      return w.pod.metadata.name!;
    },
    killRandomPodAfter(ms, filter, signal = 'SIGKILL') {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settle: (v: string | undefined) => void = () => undefined;
      const done = new Promise<string | undefined>((resolve) => {
        settle = resolve;
        timer = setTimeout(() => {
          const candidates = running(filter);
          if (candidates.length === 0) return resolve(undefined);
          const w = candidates[Math.floor(deps.random() * candidates.length) % candidates.length]!;
          void w.kill(signal, DISRUPTION(signal)).then(() => resolve(w.pod.metadata.name));
        }, ms);
      });
      return {
        done,
        cancel() {
          if (timer) clearTimeout(timer);
          settle(undefined);
        },
      };
    },
  };
}
