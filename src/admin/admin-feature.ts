import { CONFIG_CHANGED } from '../config/config-admin.js';
import type { ConfigChange } from '../config/config-writer.js';
import type { Feature } from '../feature/feature.js';
import { adminCredentialsKind } from './admin-credentials.js';
import { createAdminHttp } from './admin-http.js';
import { adminUserServices } from './admin-user-services.js';
import { auditServices } from './audit-services.js';
import { pruneAudit } from '../odb/audit-log.js';
import { configServices } from './config-services.js';
import { enmasseServices } from './enmasse-services.js';
import { serverServices } from './server-services.js';

/**
 * The admin core: the admin API over HTTP (/viaduct/...), its credentials, the generic admin
 * services of every configuration kind, enmasse, server info, and keeping each worker's
 * configuration in step with the ODB.
 */
const DAY_MS = 86_400_000;
const AUDIT_PRUNE_EVERY_MS = 3_600_000;

export const adminFeature: Feature = {
  name: 'admin',
  kinds: [adminCredentialsKind],
  replaceableAdminServices: (registry) =>
    registry
      .all()
      .filter((kind) => kind.internal !== true)
      .flatMap(configServices),
  adminServices: () => [...serverServices, ...enmasseServices, ...adminUserServices, ...auditServices],
  server(primary) {
    // Every primary prunes the audit log (the same rows: whichever comes first deletes them).
    let timer: NodeJS.Timeout | undefined;
    return {
      start(odb) {
        const prune = (): void => {
          const before = new Date(Date.now() - primary.config.audit.retention_days * DAY_MS).toISOString();
          pruneAudit(odb.db, before).catch((error: unknown) =>
            primary.logger.warn({ err: error }, 'Old audit log entries could not be deleted; tried again later'),
          );
        };
        prune();
        timer = setInterval(prune, AUDIT_PRUNE_EVERY_MS);
        timer.unref();
      },
      stop: async () => clearInterval(timer),
    };
  },
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
