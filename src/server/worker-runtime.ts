import type { Logger } from 'pino';
import { platformProvision, type Platform, type ServerInfo } from '../admin/admin-service.js';
import { adminServices } from '../admin/index.js';
import { createAdminHttp } from '../admin/admin-http.js';
import { BROKER_RESYNC, type Broker, type BrokerMessage } from '../broker/broker.js';
import { createRestPipeline } from '../channel/rest/rest-pipeline.js';
import type { RestChannel } from '../channel/rest/rest-channel-type.js';
import { RestRouter } from '../channel/rest/rest-router.js';
import { ConfigAdmin, CONFIG_CHANGED } from '../config/config-admin.js';
import type { ConfigObject } from '../config/config-kind.js';
import type { ConfigChange } from '../config/config-writer.js';
import { ConfigWriter } from '../config/config-writer.js';
import { createConfigRegistry } from '../config/kinds.js';
import type { ConfigRegistry } from '../config/config-registry.js';
import type { ConfigSnapshot } from '../config/config-snapshot.js';
import { ConfigRepository } from '../odb/config-repository.js';
import type { OdbHandle } from '../odb/database.js';
import { serviceRepository } from '../odb/service-repository.js';
import { findSecurity } from '../security/registry.js';
import { SecretBox } from '../security/secret-box.js';
import { Deployer } from '../service/deployer.js';
import { Invoker } from '../service/invoker.js';
import { serviceNameOf } from '../service/service.js';
import { ServiceStore } from '../service/service-store.js';
import { ConfigManager } from './config-manager.js';
import { ConnectionManager } from '../outgoing/connection-manager.js';
import { outgoingTypes } from '../outgoing/registry.js';
import { connectionsProvision } from '../outgoing/service-out.js';
import { schedulerProvision } from '../scheduler/scheduler-admin-services.js';
import { SCHEDULER_RUN } from '../scheduler/run-order.js';
import { createWorkerScheduler } from '../scheduler/worker-scheduler.js';
import { environmentPaths, type EnvironmentConfig } from './environment.js';
import { environmentLoadBalancer } from './environment-lb.js';
import { HttpFrontend } from './http-frontend.js';
import { PICKUP_DEPLOY } from './control.js';

export interface WorkerRuntimeOptions {
  readonly envDir: string;
  readonly config: EnvironmentConfig;
  readonly serverName: string;
  readonly odb: OdbHandle;
  /** Cluster messaging: config changes and deployments reach every worker of every server through it. */
  readonly broker: Broker;
  /** The link to this server's own primary (pickup deployments); the broker itself when it is the local one. */
  readonly link?: Broker;
  readonly secretKey: Buffer;
  readonly logger: Logger;
  readonly serverInfo: () => Promise<ServerInfo>;
  readonly primaryPid: number;
}


/**
 * One worker's platform, wired: ODB, config manager, service store, invoker, deployer, REST
 * router, admin API, broker handlers. It holds no logic of its own; each part does one thing.
 */
export async function createWorkerRuntime(options: WorkerRuntimeOptions) {
  const { odb, broker, logger, config } = options;
  const registry = createConfigRegistry();
  const repository = new ConfigRepository(new SecretBox(options.secretKey), registry);
  const configManager = new ConfigManager(odb.db, repository, logger);
  const store = new ServiceStore();
  const invoker = new Invoker(store, logger, config.limits.service_timeout_ms);
  const deployer = new Deployer(odb.db, options.envDir, store, broker, logger, (service) => whoUses(registry, configManager.snapshot, service));
  // Connections read security definitions from the current snapshot on every use, so an edit applies at once.
  const connections = new ConnectionManager(outgoingTypes, options.envDir, logger, (name) => findSecurity(configManager.snapshot, name));
  const internalNames = new Set<string>();
  const writer = new ConfigWriter(odb.db, repository, registry, async (db) => {
    const names = await serviceRepository.names(db);
    for (const name of internalNames) names.add(name);
    return names;
  });
  const platform: Platform = {
    registry,
    config: new ConfigAdmin(writer, broker),
    deployer,
    store,
    connections,
    db: odb.db,
    loadBalancer: config.lb === undefined ? undefined : environmentLoadBalancer(environmentPaths(options.envDir)),
    snapshot: () => configManager.snapshot,
    serverInfo: options.serverInfo,
  };

  for (const cls of adminServices(registry)) {
    const name = serviceNameOf(cls);
    internalNames.add(name);
    store.addInternal({ name, cls, file: undefined, timeout: cls.timeout });
  }
  invoker.provide(platformProvision, platform);
  invoker.provide(connectionsProvision, connections);
  const scheduler = createWorkerScheduler({ odb, broker, invoker, configManager, logger, worker: `${options.serverName}/${process.pid}` });
  invoker.provide(schedulerProvision, scheduler.facade);
  for (const type of connections.types) configManager.on(type, connections.onChange);

  const router = new RestRouter();
  configManager.on('channel.rest', ({ before, after }) => {
    if (after !== undefined) router.set(after as ConfigObject<RestChannel>);
    else if (before !== undefined) router.remove(before.id);
  });

  const frontend = new HttpFrontend(
    {
      admin: createAdminHttp({ invoker, snapshot: () => configManager.snapshot, logger, maxBodySize: config.limits.admin_max_body_size, serverName: options.serverName, primaryPid: options.primaryPid }),
      rest: createRestPipeline({ router, invoker, snapshot: () => configManager.snapshot, logger }),
    },
    logger,
  );

  async function onMessage(message: BrokerMessage): Promise<unknown> {
    switch (message.action) {
      case CONFIG_CHANGED:
        return configManager.apply(message.changes as ConfigChange[]);
      case 'service.deploy':
      case 'service.undeploy':
        return deployer.apply(message);
      case SCHEDULER_RUN:
        return scheduler.handleRun(message);
      case PICKUP_DEPLOY:
        return deployer.deploy(String(message.file), String(message.source), { skipUnchanged: true });
      case BROKER_RESYNC: {
        // The broker lost messages (a Redis outage): catch up from the ODB. Re-reading the objects
        // this worker knows applies their edits and deletions; load() brings in the new ones.
        await configManager.apply(configManager.snapshot.all().map((o) => ({ type: o.type, id: o.id, op: 'updated' as const, name: o.name })));
        await configManager.load();
        const deployed = await serviceRepository.names(odb.db);
        for (const entry of store.list()) if (entry.file !== undefined && !deployed.has(entry.name)) store.remove(entry.name);
        await deployer.loadAll();
        return undefined;
      }
      default:
        logger.warn({ action: message.action }, 'Unknown broker message');
        return undefined;
    }
  }

  return {
    frontend,
    scheduler,
    invoker,
    store,
    configManager,
    deployer,
    connections,
    /** Loads everything from the ODB, then takes broker messages held back meanwhile. */
    async start(): Promise<void> {
      const link = options.link !== undefined && options.link !== broker ? options.link : undefined;
      await broker.start(onMessage);
      await link?.start(onMessage);
      await configManager.load();
      const count = await deployer.loadAll();
      await broker.ready();
      await link?.ready();
      logger.info({ services: count, channels: configManager.snapshot.list('channel.rest').length }, 'Worker loaded');
    },
    async stop(drainTimeoutMs: number): Promise<void> {
      await frontend.drain(drainTimeoutMs);
      await scheduler.close(drainTimeoutMs);
      await connections.closeAll();
      await broker.close();
      if (options.link !== undefined && options.link !== broker) await options.link.close();
      await odb.close();
    },
  };
}

export type WorkerRuntime = Awaited<ReturnType<typeof createWorkerRuntime>>;

/** The first configuration object that refers to the service, as "the REST channel hello". */
function whoUses(registry: ConfigRegistry, snapshot: ConfigSnapshot, service: string): string | undefined {
  for (const object of snapshot.all()) {
    const kind = registry.get(object.type);
    if (kind.references?.(object.data).some((r) => r.to === 'service' && r.name === service)) return `the ${kind.label} ${object.name}`;
  }
  return undefined;
}
