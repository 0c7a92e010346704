/**
 * Latencies in milliseconds, counted in fixed buckets: each bound 10 % above the last, from
 * 0.01 ms to 10 minutes, with Prometheus's usual bounds among them so that a Prometheus
 * histogram is read off exactly. A percentile is the upper bound of the bucket it falls in, so it
 * is never under the truth and at most 10 % over it (capped by the largest value seen).
 */

/** The Prometheus histogram's bounds, in seconds (`le`). */
export const PROMETHEUS_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function makeBounds(): Float64Array {
  const bounds = new Set<number>(PROMETHEUS_BOUNDS_S.map((s) => s * 1000));
  for (let bound = 0.01; bound < 600_000; bound *= 1.1) bounds.add(Number(bound.toPrecision(6)));
  return Float64Array.from([...bounds].sort((a, b) => a - b));
}

/** The upper bound of each bucket but the last, which takes everything above the largest bound. */
export const BUCKET_BOUNDS_MS = makeBounds();
export const BUCKET_COUNT = BUCKET_BOUNDS_MS.length + 1;

/** The bucket of `ms`: the first whose bound is at least `ms`. */
export function bucketOf(ms: number): number {
  let low = 0;
  let high = BUCKET_BOUNDS_MS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (BUCKET_BOUNDS_MS[middle]! < ms) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Non-empty buckets as [bucket, count] pairs: how a histogram travels and is stored. */
export type SparseBuckets = Array<[number, number]>;

export function toSparse(buckets: Uint32Array | Float64Array): SparseBuckets {
  const sparse: SparseBuckets = [];
  for (let i = 0; i < buckets.length; i++) if (buckets[i]! > 0) sparse.push([i, buckets[i]!]);
  return sparse;
}

export function addSparse(into: Float64Array, sparse: SparseBuckets): void {
  for (const [bucket, count] of sparse) if (bucket >= 0 && bucket < into.length) into[bucket]! += count;
}

/** The `q` quantile (0 < q ≤ 1) of the counted values, capped by `maxMs`; undefined when none were counted. */
export function quantile(buckets: Float64Array, q: number, maxMs: number): number | undefined {
  let total = 0;
  for (const count of buckets) total += count;
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return Math.min(BUCKET_BOUNDS_MS[i] ?? maxMs, maxMs);
  }
  return maxMs;
}

/** For each Prometheus bound, how many values were at or under it (cumulative, as Prometheus wants). */
export function prometheusCounts(buckets: Float64Array): number[] {
  const counts: number[] = [];
  let cumulative = 0;
  let bucket = 0;
  for (const seconds of PROMETHEUS_BOUNDS_S) {
    const limit = seconds * 1000;
    while (bucket < BUCKET_BOUNDS_MS.length && BUCKET_BOUNDS_MS[bucket]! <= limit) cumulative += buckets[bucket++]!;
    counts.push(cumulative);
  }
  return counts;
}
