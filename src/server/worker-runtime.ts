import type { Logger } from 'pino';
import { BROKER_RESYNC, type Broker, type BrokerMessage } from '../broker/broker.js';
import { ConfigAdmin } from '../config/config-admin.js';
import { ConfigManager } from '../config/config-manager.js';
import { ConfigRepository } from '../config/config-repository.js';
import { ConfigWriter } from '../config/config-writer.js';
import type { EnvironmentConfig } from '../config/environment.js';
import { platformProvision, type Platform } from '../feature/admin-service.js';
import type { Feature } from '../feature/feature.js';
import { BodyBudget } from '../http/body-budget.js';
import { Readiness } from '../feature/readiness.js';
import type { ServerInfo } from '../feature/server-info.js';
import type { PrimaryLink } from '../feature/server-part.js';
import type { ControlHandler, WorkerContext, WorkerPart } from '../feature/worker-context.js';
import * as platformModule from '../index.js';
import type { OdbHandle } from '../odb/database.js';
import { odbVersion } from '../odb/write-lock.js';
import { Invoker } from '../service/invoker.js';
import { serviceNameOf } from '../service/service.js';
import { serviceRepository } from '../service/service-repository.js';
import { ServiceStore } from '../service/service-store.js';
import { bodyOf, type Body, type Envelope } from '../util/process-link/envelope.js';
import { SecretBox } from '../util/secret-box.js';
import { StatsRecorder } from '../stats/stats-recorder.js';
import { ActionTable } from './action-table.js';
import { Convergence } from './convergence.js';
import { adminServicesOf, configRegistryOf } from './feature-set.js';
import { FEATURES } from './features.js';
import { HttpFrontend } from './http-frontend.js';

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
  /** Told each time the version of the configuration and deployed code in force here moves on. */
  readonly onVersion?: (version: number) => void;
  /**
   * The ODB is a read-only snapshot (the real one was away when the worker started): changes
   * broadcast meanwhile are not applied from it, and the worker is replaced once the ODB is back.
   */
  readonly fromSnapshot?: boolean;
  /** The line to this server's primary, for features' messages. */
  readonly primary?: PrimaryLink;
  /** The platform's features; every one by default. */
  readonly features?: readonly Feature[];
}

/**
 * One worker, wired: the core every feature shares (ODB, config manager, service store, invoker),
 * then each feature attached to it, their broker actions in one closed table and their HTTP
 * routes in the frontend. Decisions belong to the features; this only connects them.
 */
export async function createWorkerRuntime(options: WorkerRuntimeOptions) {
  const { odb, broker, logger, config } = options;
  const features = options.features ?? FEATURES;
  const registry = configRegistryOf(features);
  const secrets = new SecretBox(options.secretKey);
  const repository = new ConfigRepository(secrets, registry);
  const configManager = new ConfigManager(odb.db, repository, logger);
  const store = new ServiceStore();
  const stats = config.stats.enabled ? new StatsRecorder() : undefined;
  // Loaded only when on: with tracing off, not one module of OpenTelemetry is in the worker.
  const tracing = config.tracing.enabled
    ? (await import('../trace/otel-tracing.js')).createOtelTracing({
        endpoint: config.tracing.endpoint,
        sampleRatio: config.tracing.sample_ratio,
        serviceName: config.tracing.service_name,
        instance: `${options.serverName}/${process.pid}`,
      })
    : undefined;
  const invoker = new Invoker(store, logger, config.limits.service_timeout_ms, {
    servicesMayInvokeAdmin: config.admin.services_may_invoke_admin,
    stats,
    tracing,
  });
  const adminServices = adminServicesOf(features, registry);
  // Deployed services may not take the admin services' names; channels may refer to either.
  const internalNames = new Set(adminServices.map(serviceNameOf));
  const writer = new ConfigWriter(
    odb.db,
    repository,
    registry,
    async (db) => {
      const names = await serviceRepository.names(db);
      for (const name of internalNames) names.add(name);
      return names;
    },
    { deadlineMs: config.limits.odb_write_timeout_ms, logger },
  );
  const configAdmin = new ConfigAdmin(writer, broker, { confirmMs: config.limits.change_confirm_timeout_ms, logger });
  const platform: Platform = {
    registry,
    config: configAdmin,
    store,
    db: odb.db,
    snapshot: () => configManager.snapshot,
    serverInfo: options.serverInfo,
  };
  invoker.provide(platformProvision, platform);
  for (const cls of adminServices)
    store.addInternal({ name: serviceNameOf(cls), cls, file: undefined, timeout: cls.timeout });

  const bodyBudget = new BodyBudget(config.limits.max_buffered_bodies_size);
  // The core's own: the ODB answers (one single-row query) and the broker is connected.
  const readiness = new Readiness();
  readiness.add({
    name: 'odb',
    critical: true,
    check: async () => {
      await odbVersion(odb.db);
      return { ok: true };
    },
  });
  readiness.add({
    name: 'broker',
    critical: true,
    check: () => ((broker.connected?.() ?? true) ? { ok: true } : { ok: false, reason: 'not connected' }),
  });
  const context: WorkerContext = {
    envDir: options.envDir,
    config,
    serverName: options.serverName,
    primaryPid: options.primaryPid,
    odb,
    broker,
    logger,
    registry,
    configManager,
    configAdmin,
    store,
    invoker,
    bodyBudget,
    stats,
    tracing,
    secrets,
    platformModule,
    readiness,
    serverInfo: options.serverInfo,
    primary: options.primary,
  };
  const parts: Array<{ readonly feature: Feature; readonly part: WorkerPart }> = [];
  for (const feature of features)
    if (feature.attach !== undefined) parts.push({ feature, part: await feature.attach(context) });

  const actions = new ActionTable();
  const control = new Map<string, ControlHandler>();
  for (const { feature, part } of parts) {
    for (const [action, handle] of Object.entries(part.actions ?? {})) actions.add(feature.name, action, handle);
    for (const handler of part.control ?? []) {
      if (control.has(handler.name))
        throw new Error(`The control message ${handler.name} is claimed twice (${feature.name})`);
      control.set(handler.name, handler);
    }
  }
  const convergence = new Convergence({
    readVersion: () => odbVersion(odb.db),
    // Every feature catches up from the ODB, in order.
    resync: async () => {
      for (const { part } of parts) await part.resync?.();
    },
    intervalMs: config.convergence_check_ms,
    logger,
    onApplied: options.onVersion,
  });
  // The broker lost messages (an outage): re-read everything, whatever the versions say.
  actions.add('server', BROKER_RESYNC, () => convergence.catchUp('the broker lost messages', true));
  actions.close();
  const onMessage = async (message: BrokerMessage): Promise<unknown> => {
    // A change made elsewhere cannot be read from the snapshot: this worker's successor applies it.
    if (options.fromSnapshot === true && typeof message.version === 'number') return undefined;
    const result = await actions.handle(message);
    // A change broadcast with its ODB version: one that skips a version makes this worker catch up.
    if (typeof message.version === 'number') convergence.noteApplied(message.version);
    return result;
  };

  const frontend = new HttpFrontend(
    parts.flatMap(({ part }) => (part.http === undefined ? [] : [part.http])),
    logger,
    config.http,
  );

  return {
    frontend,
    store,
    configManager,
    bodyBudget,
    invoker,
    readiness,
    /** The version of the configuration and deployed code in force in this worker. */
    get version(): number {
      return convergence.applied;
    },
    /** A message from this server's primary for a feature (the singleton work's orders). */
    control(message: Envelope): void {
      control.get(message.t)?.handle(bodyOf(message) as Body);
    },
    /** Loads everything from the ODB, then takes broker messages held back meanwhile. */
    async start(): Promise<void> {
      const link = options.link !== undefined && options.link !== broker ? options.link : undefined;
      await broker.start(onMessage);
      await link?.start(onMessage);
      await convergence.begin();
      await configManager.load();
      for (const { part } of parts) await part.start?.();
      await broker.ready();
      await link?.ready();
      convergence.watch();
      const services = store.list().filter((entry) => entry.file !== undefined).length;
      logger.info({ services, channels: configManager.snapshot.list('channel.rest').length }, 'Worker loaded');
    },
    async stop(drainTimeoutMs: number): Promise<void> {
      convergence.stop();
      await frontend.drain(drainTimeoutMs);
      for (const { part } of [...parts].reverse()) await part.stop?.(drainTimeoutMs);
      await broker.close();
      if (options.link !== undefined && options.link !== broker) await options.link.close();
      await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'Spans could not be sent'));
      await odb.close();
    },
  };
}

export type WorkerRuntime = Awaited<ReturnType<typeof createWorkerRuntime>>;
