import type { StatsEntry } from '../stats/stats-recorder.js';
import { notification, request } from '../util/process-link/message-definition.js';

/** A worker's figures of the last period, sent to its primary every REPORT_EVERY_MS. */
export const STATS_REPORT = notification<{
  /** Minutes since 1970 (UTC) of the period's start. */
  minute: number;
  entries: StatsEntry[];
  /** The worker process's memory and CPU time. */
  process: WorkerProcessFigures;
}>('vc:stats');

export interface WorkerProcessFigures {
  readonly residentBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly cpuUserSeconds: number;
  readonly cpuSystemSeconds: number;
}

/** The server's Prometheus exposition, from its primary. */
export const METRICS = request<Record<never, never>, string>('vc:metrics');

/** How often a worker reports: a divisor of a minute, so that each report falls within one minute. */
export const REPORT_EVERY_MS = 10_000;

export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}
