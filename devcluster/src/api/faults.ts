// Fault injection for reliability tests: failed requests (500, 429 + Retry-After, 409) answered with the
// Status a real apiserver sends, dropped watch streams, and a paused server that holds requests.
// Randomness is seeded, so a failing run replays exactly.
import { conflict, internalError, tooManyRequests, type ApiError } from './errors.js';
import type { RequestInfo } from './requestInfo.js';

export interface FailRule {
  status: 500 | 429 | 409;
  /** Probability of failing each matching request (seeded). */
  fraction?: number;
  /** Fail (at most) this many matching requests, then stop. */
  count?: number;
  /** Kubernetes verbs: get list watch create update patch delete deletecollection. */
  verbs?: string[];
  /** Resource plural (`jobs`), optionally with a subresource (`jobs/status`). */
  resource?: string;
  seed?: number;
}

export interface ApiFaults {
  /** Answer a seeded fraction (or the next `count`) of matching requests with an error status (500, 429 with Retry-After, 409 Conflict), as a real apiserver would format it. */
  failRequests(rule: FailRule): () => void;
  /** Close open watch streams now (all, or those of one resource plural); returns how many. */
  dropWatches(filter?: { resource?: string }): number;
  /** Hold all requests while paused. */
  pause(): void;
  resume(): void;
  /** Remove every rule and resume. */
  clear(): void;
}

/** mulberry32: a tiny seeded PRNG, enough to make fault schedules reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveRule {
  rule: FailRule;
  remaining: number;
  random: () => number;
}

export interface OpenWatch {
  resource: string;
  close(): void;
}

export class Faults implements ApiFaults {
  private rules: ActiveRule[] = [];
  private paused: { promise: Promise<void>; release: () => void } | undefined;
  readonly watches = new Set<OpenWatch>();

  failRequests(rule: FailRule): () => void {
    const active: ActiveRule = { rule, remaining: rule.count ?? Infinity, random: seededRandom(rule.seed ?? 1) };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  /** The injected error for this request, if a rule fires. Only resource requests are failed. */
  check(info: RequestInfo): ApiError | undefined {
    if (!info.isResourceRequest) return undefined;
    const combined = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    for (const r of this.rules) {
      const { rule } = r;
      if (r.remaining <= 0) continue;
      if (rule.verbs && !rule.verbs.includes(info.verb)) continue;
      if (rule.resource && rule.resource !== info.resource && rule.resource !== combined) continue;
      if (rule.fraction !== undefined && r.random() >= rule.fraction) continue;
      r.remaining--;
      switch (rule.status) {
        case 429:
          return tooManyRequests(1);
        case 409:
          return conflict({ group: info.group, resource: info.resource }, info.name);
        default:
          return internalError('injected fault (devcluster)');
      }
    }
    return undefined;
  }

  dropWatches(filter: { resource?: string } = {}): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (filter.resource && filter.resource !== w.resource) continue;
      w.close();
      n++;
    }
    return n;
  }

  pause(): void {
    if (this.paused) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.paused = { promise, release };
  }

  resume(): void {
    const p = this.paused;
    this.paused = undefined;
    p?.release();
  }

  /** Resolves when the server is not paused (undefined if it is not). */
  gate(): Promise<void> | undefined {
    return this.paused?.promise;
  }

  clear(): void {
    this.rules = [];
    this.resume();
  }
}
