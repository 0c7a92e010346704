import type { ConfigObject } from '../../config/config-kind.js';
import type { Feature } from '../../feature/feature.js';
import { restChannelKind, type RestChannel } from './rest-channel-type.js';
import { createRestPipeline } from './rest-pipeline.js';
import { RestRouter } from './rest-router.js';

/** REST channels: every request path the admin API does not claim, routed to services. */
export const restChannelFeature: Feature = {
  name: 'rest-channels',
  kinds: [restChannelKind],
  attach(worker) {
    const { configManager } = worker;
    const router = new RestRouter();
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
        }),
      },
    };
  },
};
