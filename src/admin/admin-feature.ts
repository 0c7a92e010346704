import { CONFIG_CHANGED } from '../config/config-admin.js';
import type { ConfigChange } from '../config/config-writer.js';
import type { Feature } from '../feature/feature.js';
import { adminCredentialsKind } from './admin-credentials.js';
import { createAdminHttp } from './admin-http.js';
import { adminUserServices } from './admin-user-services.js';
import { configServices } from './config-services.js';
import { enmasseServices } from './enmasse-services.js';
import { serverServices } from './server-services.js';

/**
 * The admin core: the admin API over HTTP (/viaduct/...), its credentials, the generic admin
 * services of every configuration kind, enmasse, server info, and keeping each worker's
 * configuration in step with the ODB.
 */
export const adminFeature: Feature = {
  name: 'admin',
  kinds: [adminCredentialsKind],
  replaceableAdminServices: (registry) =>
    registry
      .all()
      .filter((kind) => kind.internal !== true)
      .flatMap(configServices),
  adminServices: () => [...serverServices, ...enmasseServices, ...adminUserServices],
  attach(worker) {
    const { configManager, config } = worker;
    return {
      actions: {
        [CONFIG_CHANGED]: (message) => configManager.apply(message.changes as ConfigChange[]),
      },
      http: {
        prefix: '/viaduct/',
        handle: createAdminHttp({
          invoker: worker.invoker,
          snapshot: () => configManager.snapshot,
          logger: worker.logger,
          maxBodySize: config.limits.admin_max_body_size,
          bodyBudget: worker.bodyBudget,
          bodyTimeoutMs: config.limits.body_timeout_ms,
          serverName: worker.serverName,
          primaryPid: worker.primaryPid,
          readiness: worker.readiness,
          loginThrottle: {
            maxFailures: config.admin.max_failed_logins,
            windowMs: config.admin.failed_login_window_ms,
          },
        }),
      },
      // Catching up after lost broadcasts: only what differs from this worker's snapshot is applied.
      resync: () => configManager.reload(),
    };
  },
};
