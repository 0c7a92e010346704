import { addSparse, BUCKET_COUNT, quantile, toSparse, type SparseBuckets } from '../stats/histogram.js';
import type { StatsKind } from '../stats/stats-recorder.js';

/** One object's figures summed over reports, workers, servers or minutes. */
export class Figures {
  count = 0;
  errors = 0;
  readonly codes = new Map<string, number>();
  /** Answers other than 200 by status (channels); kept since the start for Prometheus, not in the ODB. */
  readonly statuses = new Map<string, number>();
  sumMs = 0;
  maxMs = 0;
  readonly buckets = new Float64Array(BUCKET_COUNT);

  add(other: {
    count: number;
    errors: number;
    codes: Record<string, number>;
    statuses?: Record<string, number>;
    sumMs: number;
    maxMs: number;
    buckets: SparseBuckets;
  }): void {
    this.count += other.count;
    this.errors += other.errors;
    for (const [code, n] of Object.entries(other.codes)) this.codes.set(code, (this.codes.get(code) ?? 0) + n);
    for (const [status, n] of Object.entries(other.statuses ?? {}))
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + n);
    this.sumMs += other.sumMs;
    this.maxMs = Math.max(this.maxMs, other.maxMs);
    addSparse(this.buckets, other.buckets);
  }

  /** In the form add() takes (and a stats_minute row holds). */
  toEntry(): {
    count: number;
    errors: number;
    codes: Record<string, number>;
    sumMs: number;
    maxMs: number;
    buckets: SparseBuckets;
  } {
    return {
      count: this.count,
      errors: this.errors,
      codes: Object.fromEntries(this.codes),
      sumMs: this.sumMs,
      maxMs: this.maxMs,
      buckets: toSparse(this.buckets),
    };
  }
}

/** One object's statistics as the admin API answers them. */
export interface StatsSummary {
  readonly kind: StatsKind;
  readonly name: string;
  readonly count: number;
  readonly errors: number;
  /** Failures by error code. */
  readonly codes: Record<string, number>;
  /** Calls a second over the window. */
  readonly rate: number;
  readonly meanMs: number | null;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

const round = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms * 1000) / 1000);

export function summarize(kind: StatsKind, name: string, figures: Figures, windowSeconds: number): StatsSummary {
  const none = figures.count === 0;
  return {
    kind,
    name,
    count: figures.count,
    errors: figures.errors,
    codes: Object.fromEntries(figures.codes),
    rate: Math.round((figures.count / windowSeconds) * 1000) / 1000,
    meanMs: none ? null : round(figures.sumMs / figures.count),
    p50Ms: round(quantile(figures.buckets, 0.5, figures.maxMs)),
    p90Ms: round(quantile(figures.buckets, 0.9, figures.maxMs)),
    p99Ms: round(quantile(figures.buckets, 0.99, figures.maxMs)),
    maxMs: none ? null : round(figures.maxMs),
  };
}
