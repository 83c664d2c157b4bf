// Deterministic randomness. Two kinds, for two jobs:
// - `Rng`, a seeded stream (sfc32): the simulation draws from it in event order, so the same seed
//   gives the same bytes;
// - `hash32`/`unit`, stateless hashes of (seed, entity, attribute): a song's or a user's attributes
//   are a pure function of its index, so nothing about the catalog or the users is kept in memory
//   and any part of the output can be regenerated on its own.

/** A 32-bit integer hash with good avalanche (the "lowbias32" finalizer). */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of a seed and up to three integers. */
export function hash32(seed: number, a: number, b = 0, c = 0): number {
  let h = mix32(seed ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul(a >>> 0, 0x85ebca6b));
  h = mix32(h ^ Math.imul((a / 0x100000000) >>> 0, 0xc2b2ae35) ^ b);
  return mix32(h ^ Math.imul(c >>> 0, 0x27d4eb2f));
}

/** A uniform number in [0, 1) from a hash. */
export function unit(seed: number, a: number, b = 0, c = 0): number {
  return hash32(seed, a, b, c) / 0x100000000;
}

/** Small Fast Counter (sfc32): fast, 128-bit state, passes PractRand far beyond our needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = mix32(seed ^ 0xa5a5a5a5);
    this.b = mix32(seed ^ 0x5a5a5a5a);
    this.c = mix32(seed + 0x12345);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Geometric number of trials ≥ 1 with the given mean. */
  geometric(mean: number): number {
    if (mean <= 1) return 1;
    return 1 + Math.floor(Math.log(1 - this.next()) / Math.log(1 - 1 / mean));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/**
 * Zipf(1)-like ranks in [0, n): the continuous law with density ∝ 1/(x+1), by inversion
 * (rank = (n+1)^u − 1). Constant memory for any n, unlike a CDF table; rank 0 is the most popular.
 */
export function zipfRank(u: number, n: number): number {
  const r = Math.floor(Math.exp(u * Math.log(n + 1))) - 1;
  return r < 0 ? 0 : r >= n ? n - 1 : r;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * A bijection of [0, n) that scatters consecutive ranks (i → (i·step + offset) mod n), so the most
 * popular songs are not the first ones written.
 */
export function scatter(n: number, seed: number): (i: number) => number {
  if (n <= 1) return () => 0;
  let step = (Math.floor(n * 0.6180339887) + (hash32(seed, n) % 97)) % n || 1;
  while (gcd(step, n) !== 1) step = (step + 1) % n || 1;
  const offset = hash32(seed, n, 1) % n;
  // i·step + offset is exact in a double below 2^53, i.e. for n < 2^26; beyond, BigInt (slow, rare).
  if (n < 2 ** 26) return (i) => (i * step + offset) % n;
  return (i) => Number((BigInt(i) * BigInt(step) + BigInt(offset)) % BigInt(n));
}
