import type { ConfigObject } from '../../config/config-kind.js';
import type { Feature } from '../../feature/feature.js';
import { restChannelKind, type RestChannel } from './rest-channel-type.js';
import { createRestPipeline } from './rest-pipeline.js';
import { RestRouter } from './rest-router.js';
import { captureProvision, captureServices } from './capture-services.js';
import { RequestCapture } from './request-capture.js';
import { pruneCaptures } from '../../odb/capture-log.js';

const PRUNE_EVERY_MS = 600_000;

/** REST channels: every request path the admin API does not claim, routed to services. */
export const restChannelFeature: Feature = {
  name: 'rest-channels',
  kinds: [restChannelKind],
  adminServices: () => captureServices,
  server(primary) {
    // Every primary prunes the captures (the same rows: whichever comes first deletes them).
    let timer: NodeJS.Timeout | undefined;
    return {
      start(odb) {
        const prune = (): void => {
          const hours = primary.config.audit.capture_retention_hours;
          pruneCaptures(odb.db, new Date(Date.now() - hours * 3_600_000).toISOString()).catch((error: unknown) =>
            primary.logger.warn({ err: error }, 'Old captured requests could not be deleted; tried again later'),
          );
        };
        prune();
        timer = setInterval(prune, PRUNE_EVERY_MS);
        timer.unref();
      },
      stop: async () => clearInterval(timer),
    };
  },
  attach(worker) {
    const { configManager } = worker;
    const router = new RestRouter();
    const capture = new RequestCapture(worker.odb.db, worker.secrets, worker.logger);
    worker.invoker.provide(captureProvision, { capture, router, invoker: worker.invoker });
    configManager.on(restChannelKind.type, ({ before, after }) => {
      if (after !== undefined) router.set(after as ConfigObject<RestChannel>);
      else if (before !== undefined) router.remove(before.id);
    });
    return {
      http: {
        prefix: '',
        handle: createRestPipeline({
          router,
          invoker: worker.invoker,
          snapshot: () => configManager.snapshot,
          logger: worker.logger,
          bodyBudget: worker.bodyBudget,
          bodyTimeoutMs: worker.config.limits.body_timeout_ms,
          stats: worker.stats,
          tracing: worker.tracing,
          capture,
        }),
      },
      stop: () => capture.stop(),
    };
  },
};
