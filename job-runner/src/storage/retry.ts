// Retries with capped exponential backoff and full jitter (the AWS architecture blog's
// recommendation: spreads retries of many clients hit by the same throttling).
//
//   delay(n) = random() * min(maxDelayMs, baseDelayMs * 2^(n-1))      n = 1, 2, … retries
//
// The decision is pure (retryDelay); only withRetry sleeps, through an injected clock, so tests
// run a whole retry schedule in no time and assert the exact delays.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** 8 attempts: worst case 0.1+0.2+0.4+0.8+1.6+3.2+5 = 11.3 s of waiting, half that on average. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 };

export interface RetryClock {
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
  now(): number;
}

export const systemClock: RetryClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
};

/** The wait before retry number `retry` (1-based), or null when the attempts are used up. */
export function retryDelay(retry: number, policy: RetryPolicy, random: number): number | null {
  if (retry >= policy.maxAttempts) return null;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random * ceiling);
}

export interface RetryOutcome {
  attempts: number;
  /** Time from the first attempt to giving up, by the injected clock. */
  elapsedMs: number;
}

/**
 * Runs `attempt` until it succeeds, `isTransient` says an error is permanent, or the policy's
 * attempts run out; then calls `fail` with the last error and what was tried, and throws its result.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  isTransient: (err: unknown) => boolean,
  policy: RetryPolicy,
  clock: RetryClock,
  fail: (err: unknown, outcome: RetryOutcome) => Error,
): Promise<T> {
  const started = clock.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const delay = isTransient(err) ? retryDelay(n, policy, clock.random()) : null;
      if (delay === null) throw fail(err, { attempts: n, elapsedMs: clock.now() - started });
      await clock.sleep(delay);
    }
  }
}
