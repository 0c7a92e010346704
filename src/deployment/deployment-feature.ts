import { newCid } from '../util/cid.js';
import type { BrokerMessage } from '../broker/broker.js';
import { whoUses } from '../config/who-uses.js';
import type { Feature } from '../feature/feature.js';
import { Deployer } from '../service/deployer.js';
import { serviceRepository } from '../service/service-repository.js';
import { PICKUP_DEPLOY } from './pickup-deploy.js';
import {
  deployerProvision,
  quarantineProvision,
  releaseRedeployed,
  serviceAdminServices,
} from './service-admin-services.js';

/**
 * Hot deployment of service files: the admin services, the broadcast every worker applies, the
 * primary's pickup hand-off, and loading every deployed file when a worker starts.
 */
export const deploymentFeature: Feature = {
  name: 'deployment',
  adminServices: () => serviceAdminServices,
  attach(worker) {
    const { configManager, registry, store } = worker;
    const deployer = new Deployer({
      db: worker.odb.db,
      envDir: worker.envDir,
      store,
      broker: worker.broker,
      logger: worker.logger,
      inUse: (service) => whoUses(registry, configManager.snapshot, service),
      platformModule: worker.platformModule,
      deadlines: {
        writeMs: worker.config.limits.odb_write_timeout_ms,
        confirmMs: worker.config.limits.change_confirm_timeout_ms,
      },
    });
    worker.invoker.provide(deployerProvision, deployer);
    const apply = (message: BrokerMessage) => deployer.apply(message);
    return {
      actions: {
        'service.deploy': apply,
        'service.undeploy': apply,
        [PICKUP_DEPLOY]: async (message) => {
          // A file dropped into the pickup directory: no admin user, a cid of its own.
          const actor = { user: undefined, cid: newCid() };
          const result = await deployer.deploy(String(message.file), String(message.source), actor, {
            skipUnchanged: true,
            from: 'pickup',
          });
          if (result.changed) await releaseRedeployed(worker.invoker.provided(quarantineProvision), result.services);
          return result;
        },
      },
      async start() {
        await deployer.loadAll();
      },
      async resync() {
        // Services undeployed while the broker was away go; loadAll() brings in new and changed files.
        const deployed = await serviceRepository.names(worker.odb.db);
        for (const entry of store.list())
          if (entry.file !== undefined && !deployed.has(entry.name)) store.remove(entry.name);
        await deployer.loadAll();
      },
    };
  },
};
