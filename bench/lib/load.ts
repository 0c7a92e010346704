import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import { percentileSorted, round } from './stats.js';

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly connections: number;
  readonly pipelining: number;
  readonly durationS: number;
}

export interface LoadResult {
  /** Completed 2xx responses per second over the measured duration. */
  readonly rps: number;
  readonly requests: number;
  readonly durationS: number;
  /** Latencies in ms, from each response's own timing (fractional, unlike autocannon's 1 ms buckets). */
  readonly latency: {
    readonly mean: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** autocannon's own p99 (whole milliseconds), for reference. */
  readonly autocannonP99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

/** One autocannon run in this process. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    method: options.method ?? 'POST',
    body: options.body,
    headers: { 'content-type': 'application/json', ...options.headers },
    connections: options.connections,
    pipelining: options.pipelining,
    duration: options.durationS,
  });
  // The 'response' event carries (client, statusCode, bytes, responseTimeMs); @types has it without the client.
  (instance as unknown as EventEmitter).on(
    'response',
    (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
    },
  );
  const result = await instance;
  const sorted = Float64Array.from(latencies).sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  const completed = result['2xx'];
  return {
    rps: round(completed / result.duration, 1),
    requests: completed,
    durationS: round(result.duration, 2),
    latency: {
      mean: round(sum / Math.max(1, sorted.length), 3),
      p50: round(percentileSorted(sorted, 50), 3),
      p90: round(percentileSorted(sorted, 90), 3),
      p99: round(percentileSorted(sorted, 99), 3),
      max: round(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN, 3),
    },
    autocannonP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
