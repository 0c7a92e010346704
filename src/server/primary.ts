import cluster, { type Worker } from 'node:cluster';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { ownerOnlyUmask, restrictEnvironmentFiles } from './environment-files.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { LocalBrokerHub } from '../broker/local/local-broker-hub.js';
import {
  pickupDir,
  readEnvironment,
  type EnvironmentConfig,
  type EnvironmentPaths,
  type ServerConfig,
} from '../config/environment.js';
import type { SingletonWork } from '../feature/singleton-work.js';
import type { LbSupervisor } from '../lb/index.js';
import { createLogger } from '../log.js';
import type { OdbHandle } from '../odb/database.js';
import type { OdbSnapshotKeeper } from './odb-snapshot.js';
import { parseOdbUrl } from '../odb/odb-url.js';
import type { ProcessLink } from '../util/process-link/process-link.js';
import { ClusterPresence } from './cluster-presence.js';
import { exitWith, logFatalErrors } from './fatal-errors.js';
import { QUARANTINE, RELEASE, SERVER_INFO, WORKER_HELLO, WORKER_START } from './control.js';
import { QuarantineBook } from './quarantine-book.js';
import type { QuarantineEntry } from '../service/quarantine-list.js';
import { superviseLoadBalancer } from './environment-lb.js';
import { PickupDeployment } from './pickup-deployment.js';
import { pidFile, runFile, RunFileWriter } from './run-file.js';
import { serverInfoOf } from './server-state.js';
import { serverPartsOf, singletonWorkOf } from './feature-set.js';
import type { ServerPart } from '../feature/server-part.js';
import { FEATURES } from './features.js';
import { SingletonRole } from './singleton-role.js';
import { WorkerPool } from './worker-pool.js';

/**
 * A server's primary process: no user code. It runs migrations, forks the workers and replaces
 * any that dies, relays the local broker, watches the pickup directory, and on SIGTERM/SIGINT
 * has every worker drain before it exits.
 */
export async function runPrimary(envDir: string, serverName?: string): Promise<void> {
  ownerOnlyUmask();
  const { paths, config } = await readEnvironment(envDir);
  await restrictEnvironmentFiles(paths, config);
  const server = config.servers.find((s) => s.name === serverName) ?? config.servers[0]!;
  const logger = createLogger({
    name: 'viaduct',
    level: config.log_level,
    base: { server: server.name, role: 'primary' },
  });
  // From here on every line of this process's output is JSON: its log is the server's log file.
  logFatalErrors(logger);
  try {
    // What must run once in the cluster, from every feature that has some.
    const singletonWork = singletonWorkOf(FEATURES, { cluster, logger });
    await new Primary(paths, config, server, logger, singletonWork).start();
  } catch (error) {
    exitWith(logger, error, 'Server failed to start');
  }
}

/** Wires the primary's parts together and runs the start and stop sequences. */
class Primary {
  readonly #paths: EnvironmentPaths;
  readonly #config: EnvironmentConfig;
  readonly #server: ServerConfig;
  readonly #logger: Logger;
  readonly #startedAt = new Date();
  readonly #hub = new LocalBrokerHub();
  readonly #pool: WorkerPool;
  readonly #singleton: SingletonRole;
  readonly #pickup: PickupDeployment;
  readonly #runFile: RunFileWriter;
  readonly #quarantine: QuarantineBook;
  #stopping = false;
  #odb: OdbHandle | undefined;
  #presence: ClusterPresence | undefined;
  #lbSupervisor: LbSupervisor | undefined;
  /** What the features run in this primary. */
  readonly #serverParts: ServerPart[];
  /** The local copy replacement workers start from while the ODB is away; none for SQLite. */
  #snapshot: OdbSnapshotKeeper | undefined;
  #resolveOdbCurrent!: () => void;
  /** Resolves once the ODB schema is current: workers may use the ODB from then on. */
  readonly #odbCurrent = new Promise<void>((resolve) => (this.#resolveOdbCurrent = resolve));

  constructor(
    paths: EnvironmentPaths,
    config: EnvironmentConfig,
    server: ServerConfig,
    logger: Logger,
    singletonWork: readonly SingletonWork[],
  ) {
    this.#paths = paths;
    this.#config = config;
    this.#server = server;
    this.#logger = logger;
    this.#pool = new WorkerPool({
      size: server.workers,
      env: { VIADUCT_ENV: paths.dir, VIADUCT_SERVER: server.name },
      logger,
      attached: (worker, link) => this.#attach(worker, link),
      detached: (worker) => this.#hub.detach(String(worker.id)),
      changed: () => {
        void this.#writeRunFile();
        this.#snapshot?.want(this.#pool.newestVersion);
      },
      runDir: paths.run,
      heapMb: config.limits.worker_heap_mb,
      blocked: (report) => report.service !== undefined && this.#incident(report.service, 'blocked its worker'),
      diedIn: (service) => this.#incident(service, 'brought its worker down'),
      cannotStart: () => {
        void this.stop('boot failure');
        process.exitCode = 1;
      },
    });
    this.#singleton = new SingletonRole(singletonWork, () => void this.#writeRunFile());
    this.#pickup = new PickupDeployment(pickupDir(paths, server), this.#hub, this.#pool.firstReady, logger);
    this.#runFile = new RunFileWriter(runFile(paths, server.name));
    this.#serverParts = serverPartsOf(FEATURES, {
      cluster,
      logger,
      config,
      serverName: server.name,
      state: () => ({
        workers: this.#pool.serving().length,
        restarts: this.#pool.restarts,
        singletonGeneration: this.#singleton.state.generation,
      }),
    });
    this.#quarantine = new QuarantineBook({
      after: config.limits.quarantine_after,
      windowMs: config.limits.quarantine_window_ms,
    });
  }

  async start(): Promise<void> {
    const location = parseOdbUrl(this.#config.odb, this.#paths.dir);
    await mkdir(this.#paths.run, { recursive: true });
    await writeFile(pidFile(this.#paths, this.#server.name), `${process.pid}\n`);

    // The workers start first: they load their code while this process brings the ODB schema up
    // to date, and none touches the ODB before it is (each says hello, WORKER_START answers).
    this.#pool.start();
    process.on('SIGTERM', () => void this.stop('SIGTERM'));
    process.on('SIGINT', () => void this.stop('SIGINT'));

    let odb: OdbHandle;
    try {
      // Loaded only now, so the workers are forked without waiting for the database modules.
      const [{ openOdb, logIdleErrors }, { migrateToLatest }] = await Promise.all([
        import('../odb/database.js'),
        import('../odb/migrator.js'),
      ]);
      odb = openOdb(location, { poolSize: 2, onIdleError: logIdleErrors(this.#logger) });
      this.#odb = odb;
      const applied = await migrateToLatest(odb.db, odb.location.dialect);
      if (applied.length > 0) this.#logger.info({ migrations: applied }, 'ODB migrated');
    } catch (error) {
      if (this.#stopping) return; // stop() ends the process
      await this.#abortStart();
      throw error;
    }
    if (location.dialect !== 'sqlite') {
      const { OdbSnapshotKeeper, snapshotFile } = await import('./odb-snapshot.js');
      this.#snapshot = new OdbSnapshotKeeper(odb.db, snapshotFile(this.#paths, this.#server.name), this.#logger);
      this.#snapshot.want(0);
    }
    for (const part of this.#serverParts) part.start?.(odb);
    this.#resolveOdbCurrent();
    // Sent ahead to the workers forked so far, so that one done loading need not wait for the answer to its hello.
    this.#pool.notifyAll(WORKER_START, this.#startOrder());
    const timing = {
      intervalMs: this.#config.singleton.renew_interval_ms,
      staleMs: this.#config.singleton.stale_after_ms,
    };
    this.#presence = new ClusterPresence(odb.db, this.#server);

    await this.#pool.firstReady;
    await this.#presence.start(timing.intervalMs);
    this.#singleton.start(odb.db, `${this.#server.name}@${hostname()}/${process.pid}`, timing, this.#logger);
    this.#lbSupervisor = superviseLoadBalancer(this.#paths, this.#config, odb.db, this.#logger);
    if (this.#config.spare_worker) this.#pool.addSpare();
    await this.#writeRunFile();
    this.#logger.info(
      { url: `http://${this.#server.host}:${this.#server.port}`, workers: this.#server.workers },
      'Server started',
    );
    await this.#pickup.start();
  }

  async stop(signal: string): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#logger.info({ signal }, 'Stopping: draining workers');
    this.#pickup.stop();
    await this.#pool.drain(this.#config.limits.drain_timeout_ms + 5_000, () =>
      this.#logger.warn('Workers did not stop in time; killing them'),
    );
    // A poll under way reads the ODB: it finishes before the ODB closes.
    await this.#lbSupervisor?.stop();
    await this.#singleton.stop();
    await this.#presence?.stop();
    for (const part of this.#serverParts) await part.stop?.();
    await this.#snapshot?.stop();
    await this.#odb?.close().catch(() => undefined);
    await rm(pidFile(this.#paths, this.#server.name), { force: true });
    await rm(runFile(this.#paths, this.#server.name), { force: true });
    this.#logger.info('Stopped');
    this.#logger.flush();
    setTimeout(() => process.exit(process.exitCode ?? 0), 50);
  }

  /** The ODB could not be opened or migrated: the workers (still waiting for WORKER_START) go, and so does the pid file. */
  async #abortStart(): Promise<void> {
    this.#stopping = true;
    await this.#pool.drain(5_000);
    await this.#odb?.close().catch(() => undefined);
    await rm(pidFile(this.#paths, this.#server.name), { force: true });
  }

  #startOrder(): { config: EnvironmentConfig; quarantine: QuarantineEntry[] } {
    return { config: this.#config, quarantine: this.#quarantine.list() };
  }

  /** What a new worker asks of the primary, and its end of the local broker. */
  #attach(worker: Worker, link: ProcessLink): void {
    this.#hub.attach(String(worker.id), link);
    // The configuration this server started with, and its quarantine, are every worker's, also
    // of one started later; they come in answer to its hello, once it listens for them.
    link.on(WORKER_HELLO, () => void this.#odbCurrent.then(() => link.notify(WORKER_START, this.#startOrder())));
    link.handle(RELEASE, ({ name }) => {
      const released = this.#quarantine.release(name);
      if (released) {
        this.#logger.warn({ service: name }, 'Service released from quarantine');
        this.#pool.notifyAll(QUARANTINE, { services: this.#quarantine.list() });
      }
      return released;
    });
    for (const part of this.#serverParts)
      for (const request of part.requests ?? []) link.handle(request.definition, request.handle);
    link.handle(SERVER_INFO, () =>
      serverInfoOf({
        server: this.#server,
        cluster: this.#config.cluster,
        startedAt: this.#startedAt,
        workers: this.#pool.serving(),
        singleton: this.#singleton.state,
      }),
    );
  }

  /** A service blocked or brought down a worker; once too often, no worker of this server runs it. */
  #incident(service: string, why: string): void {
    if (!this.#quarantine.incident(service, why)) return;
    const entry = this.#quarantine.list().find((e) => e.name === service);
    this.#logger.error({ service, why: entry?.why }, `Service ${service} quarantined`);
    this.#pool.notifyAll(QUARANTINE, { services: this.#quarantine.list() });
  }

  async #writeRunFile(): Promise<void> {
    if (this.#stopping) return;
    await this.#runFile.write({
      server: this.#server.name,
      primaryPid: process.pid,
      port: this.#server.port,
      host: this.#server.host,
      startedAt: this.#startedAt.toISOString(),
      workers: this.#pool.serving(),
      spare: this.#pool.sparePid,
      singleton: this.#singleton.state,
    });
  }
}
