import type { Feature } from '../feature/feature.js';
import { onRequest } from '../feature/server-part.js';
import { metricsProvision, statsAdminServices } from './stats-admin-services.js';
import { METRICS } from './stats-messages.js';
import { StatsReporter } from './stats-reporter.js';
import { ServerStats } from './server-stats.js';

/**
 * Statistics and metrics (docs/observability.md): each worker counts its channels, services,
 * outgoing connections and jobs (src/stats/) and reports to its primary every 10 s; the primary
 * sums its workers' figures, writes them to the ODB per minute and answers the Prometheus scrape;
 * the admin API merges every server's minutes.
 */
export const observabilityFeature: Feature = {
  name: 'observability',
  adminServices: () => statsAdminServices,
  server(primary) {
    const stats = new ServerStats(primary);
    return {
      requests: [onRequest(METRICS, () => stats.metrics())],
      start: (odb) => stats.start(odb),
      stop: () => stats.stop(),
    };
  },
  attach(worker) {
    const { primary, stats } = worker;
    if (primary === undefined) return {};
    worker.invoker.provide(metricsProvision, () => primary.request(METRICS, {}));
    const reporter = stats === undefined ? undefined : new StatsReporter(stats, primary, worker.logger);
    return {
      start: async () => reporter?.start(),
      stop: async () => reporter?.stop(),
    };
  },
};
