import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { errorTable, isErrorCode } from '../errors.js';
import { PROMETHEUS_BOUNDS_S, prometheusCounts } from '../stats/histogram.js';
import type { StatsKind } from '../stats/stats-recorder.js';
import type { Figures } from './stats-figures.js';
import type { WorkerProcessFigures } from './stats-messages.js';

/** A metric as prom-client's getMetricsAsJSON() gives it, and its AggregatorRegistry.aggregate() takes it. */
interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly values: Sample[];
  readonly aggregator: 'sum';
}

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** Per kind: the metrics' names and the label that names the object. */
const NAMES: Record<StatsKind, { prefix: string; label: string; what: string; duration: string }> = {
  channel: {
    prefix: 'viaduct_channel_requests',
    label: 'channel',
    what: 'Requests to a channel',
    duration: 'viaduct_channel_request_duration_seconds',
  },
  service: {
    prefix: 'viaduct_service_invocations',
    label: 'service',
    what: 'Invocations of a service',
    duration: 'viaduct_service_duration_seconds',
  },
  outgoing: {
    prefix: 'viaduct_outgoing_calls',
    label: 'connection',
    what: 'Calls through an outgoing connection',
    duration: 'viaduct_outgoing_call_duration_seconds',
  },
  job: {
    prefix: 'viaduct_scheduler_runs',
    label: 'job',
    what: 'Runs of a scheduler job',
    duration: 'viaduct_scheduler_run_duration_seconds',
  },
};

/** The HTTP status a failure's code stands for: its own for HTTP_503, the error table's for a VIA_ERR_ code. */
function statusOf(code: string): string {
  if (code.startsWith('HTTP_')) return code.slice(5);
  return isErrorCode(code) ? String(errorTable[code].status) : '500';
}

export interface ObjectTotals {
  readonly kind: StatsKind;
  readonly name: string;
  readonly figures: Figures;
}

/** The objects' totals since the server started, as Prometheus counters and histograms. */
export function objectMetrics(totals: readonly ObjectTotals[]): Metric[] {
  const metrics: Metric[] = [];
  for (const kind of Object.keys(NAMES) as StatsKind[]) {
    const names = NAMES[kind];
    const mine = totals.filter((t) => t.kind === kind);
    const counts: Sample[] = [];
    const errors: Sample[] = [];
    const responses: Sample[] = [];
    const histogram: Sample[] = [];
    for (const { name, figures } of mine) {
      const labels = { [names.label]: name };
      counts.push({ labels, value: figures.count });
      if (kind === 'channel') {
        let other = 0;
        for (const [status, n] of figures.statuses) {
          responses.push({ labels: { ...labels, status }, value: n });
          other += n;
        }
        if (figures.count > other)
          responses.push({ labels: { ...labels, status: '200' }, value: figures.count - other });
      }
      for (const [code, n] of figures.codes)
        errors.push({ labels: { ...labels, code, status: statusOf(code) }, value: n });
      const cumulative = prometheusCounts(figures.buckets);
      PROMETHEUS_BOUNDS_S.forEach((le, i) =>
        histogram.push({
          labels: { ...labels, le },
          value: cumulative[i]!,
          metricName: `${names.duration}_bucket`,
        }),
      );
      histogram.push(
        {
          labels: { ...labels, le: '+Inf' },
          value: figures.count,
          metricName: `${names.duration}_bucket`,
        },
        { labels, value: figures.sumMs / 1000, metricName: `${names.duration}_sum` },
        { labels, value: figures.count, metricName: `${names.duration}_count` },
      );
    }
    if (kind === 'channel')
      metrics.push({
        name: 'viaduct_channel_responses_total',
        help: 'Answers of a channel by HTTP status, since the server started',
        type: 'counter',
        values: responses,
        aggregator: 'sum',
      });
    metrics.push(
      {
        name: `${names.prefix}_total`,
        help: `${names.what}, since the server started`,
        type: 'counter',
        values: counts,
        aggregator: 'sum',
      },
      {
        name: `${names.prefix.replace(/_[a-z]+$/, '')}_errors_total`,
        help: `${names.what} that failed, by error code`,
        type: 'counter',
        values: errors,
        aggregator: 'sum',
      },
      {
        name: names.duration,
        help: `${names.what}: how long each took`,
        type: 'histogram',
        values: histogram,
        aggregator: 'sum',
      },
    );
  }
  return metrics;
}

/** A gauge or counter of one value. */
export function single(name: string, help: string, type: 'gauge' | 'counter', value: number): Metric {
  return { name, help, type, values: [{ labels: {}, value }], aggregator: 'sum' };
}

const WORKER_GAUGES: ReadonlyArray<[keyof WorkerProcessFigures, string, string, 'gauge' | 'counter']> = [
  ['residentBytes', 'viaduct_worker_resident_memory_bytes', "A worker's resident memory", 'gauge'],
  ['heapUsedBytes', 'viaduct_worker_heap_used_bytes', "A worker's V8 heap in use", 'gauge'],
  ['heapTotalBytes', 'viaduct_worker_heap_total_bytes', "A worker's V8 heap", 'gauge'],
  ['externalBytes', 'viaduct_worker_external_memory_bytes', "A worker's memory outside the V8 heap (buffers)", 'gauge'],
  ['cpuUserSeconds', 'viaduct_worker_cpu_user_seconds_total', "A worker's CPU time in user mode", 'counter'],
  ['cpuSystemSeconds', 'viaduct_worker_cpu_system_seconds_total', "A worker's CPU time in system mode", 'counter'],
];

/** Each worker's memory and CPU time, labelled with its pid, as of its last report. */
export function workerMetrics(
  workers: ReadonlyArray<{ readonly pid: number; readonly figures: WorkerProcessFigures }>,
): Metric[] {
  return WORKER_GAUGES.map(([key, name, help, type]) => ({
    name,
    help,
    type,
    values: workers.map((w) => ({ labels: { worker_pid: w.pid }, value: w.figures[key] })),
    aggregator: 'sum' as const,
  }));
}

/** The exposition text of every set of metrics, those of the same name aggregated as prom-client does for a cluster. */
export function render(sets: ReadonlyArray<readonly unknown[]>): Promise<string> {
  return AggregatorRegistry.aggregate(sets as Array<Array<MetricObjectWithValues<MetricValue<string>>>>).metrics();
}
