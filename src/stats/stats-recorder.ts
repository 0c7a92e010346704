import { BUCKET_COUNT, bucketOf, toSparse, type SparseBuckets } from './histogram.js';

/** What statistics are kept for: a channel, a service, an outgoing connection, a scheduler job. */
export type StatsKind = 'channel' | 'service' | 'outgoing' | 'job';

/** One object's figures over one period, as a worker reports them. */
export interface StatsEntry {
  readonly kind: StatsKind;
  readonly name: string;
  readonly count: number;
  readonly errors: number;
  /** Failures by error code (a channel's by HTTP status class and code). */
  readonly codes: Record<string, number>;
  /** A channel's answers by HTTP status, those other than 200 (200 is the rest of count). */
  readonly statuses: Record<string, number>;
  readonly sumMs: number;
  readonly maxMs: number;
  readonly buckets: SparseBuckets;
}

class Figures {
  count = 0;
  errors = 0;
  codes: Map<string, number> | undefined;
  statuses: Map<number, number> | undefined;
  sumMs = 0;
  maxMs = 0;
  readonly buckets = new Uint32Array(BUCKET_COUNT);
}

/**
 * A worker's statistics for the period under way: one map per kind, figures per object, a
 * bucket count per latency. Recording is a map look-up and a few additions, nothing allocated
 * once an object has been seen in the period; `take()` hands the period over and starts the next.
 */
export class StatsRecorder {
  #periods: Record<StatsKind, Map<string, Figures>> = StatsRecorder.#empty();

  static #empty(): Record<StatsKind, Map<string, Figures>> {
    return { channel: new Map(), service: new Map(), outgoing: new Map(), job: new Map() };
  }

  /**
   * One call, request or run of `name` that took `ms`; `code` names its failure, if it failed;
   * `status`, a channel's answer when it is not 200 (a 200 costs nothing more).
   */
  record(kind: StatsKind, name: string, ms: number, code?: string, status?: number): void {
    const period = this.#periods[kind];
    let figures = period.get(name);
    if (figures === undefined) {
      figures = new Figures();
      period.set(name, figures);
    }
    figures.count++;
    figures.sumMs += ms;
    if (ms > figures.maxMs) figures.maxMs = ms;
    figures.buckets[bucketOf(ms)]!++;
    if (status !== undefined) {
      figures.statuses ??= new Map();
      figures.statuses.set(status, (figures.statuses.get(status) ?? 0) + 1);
    }
    if (code !== undefined) {
      figures.errors++;
      figures.codes ??= new Map();
      figures.codes.set(code, (figures.codes.get(code) ?? 0) + 1);
    }
  }

  /** The period's figures; the next period starts empty. */
  take(): StatsEntry[] {
    const periods = this.#periods;
    this.#periods = StatsRecorder.#empty();
    const entries: StatsEntry[] = [];
    for (const kind of Object.keys(periods) as StatsKind[]) {
      for (const [name, f] of periods[kind]) {
        entries.push({
          kind,
          name,
          count: f.count,
          errors: f.errors,
          codes: f.codes === undefined ? {} : Object.fromEntries(f.codes),
          statuses: f.statuses === undefined ? {} : Object.fromEntries(f.statuses),
          sumMs: f.sumMs,
          maxMs: f.maxMs,
          buckets: toSparse(f.buckets),
        });
      }
    }
    return entries;
  }
}
