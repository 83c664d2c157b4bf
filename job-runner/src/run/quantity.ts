// Sizes as people and Kubernetes write them: `256Mi`, `1Gi`, `100M`, `64k`, `1e9`, or a plain number.
// The CLI flags and the custom resource's sharding fields share this one parser.

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?\s*$/;

/** Bytes of a quantity, rounded up to an integer. Throws with the accepted forms on bad input. */
export function parseQuantity(value: string | number, what = 'size'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid ${what} ${value}: want a non-negative number`);
    return Math.ceil(value);
  }
  const m = QUANTITY.exec(value);
  if (!m) throw new Error(`invalid ${what} ${JSON.stringify(value)}: want a number of bytes with an optional suffix, e.g. 256Mi, 1Gi, 500M, 64k`);
  const bytes = Number(m[1]) * SUFFIX[m[2] ?? '']!;
  if (!Number.isFinite(bytes) || bytes > Number.MAX_SAFE_INTEGER) throw new Error(`invalid ${what} ${JSON.stringify(value)}: too large`);
  return Math.ceil(bytes);
}

/** `268435456` → `256.0 MiB`: for messages and progress lines. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
