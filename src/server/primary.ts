import cluster, { type Worker } from 'node:cluster';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ServerInfo } from '../feature/server-info.js';
import { LocalBrokerHub } from '../broker/local/local-broker-hub.js';
import { createLogger } from '../log.js';
import type { OdbHandle } from '../odb/database.js';
import { hostname } from 'node:os';
import { ClusterPresence } from './cluster-presence.js';
import { superviseLoadBalancer } from './environment-lb.js';
import type { LbSupervisor } from '../lb/index.js';
import { SingletonLease } from './singleton-lease.js';
import { parseOdbUrl } from '../odb/odb-url.js';
import { SERVER_INFO, SPARE_READY, WORKER_HELLO, WORKER_LISTEN, WORKER_SHUTDOWN, WORKER_START } from './control.js';
import { WORKER_READY } from '../feature/singleton-work.js';
import { ProcessLink } from '../util/process-link/process-link.js';
import { PICKUP_DEPLOY } from '../deployment/pickup-deploy.js';
import { pickupDir, readEnvironment, type EnvironmentConfig, type EnvironmentPaths, type ServerConfig } from '../config/environment.js';
import { PickupWatcher } from './pickup-watcher.js';
import { WORKER_SCRIPT } from './worker-script.js';
import type { SingletonWork } from '../feature/singleton-work.js';
import { singletonWorkOf } from './feature-set.js';
import { FEATURES } from './features.js';

/** A worker that dies sooner than this after starting is restarted with a growing delay. */
const CRASH_LOOP_MS = 2_000;
/** Workers that fail this many times in a row before any was ever ready mean the server cannot start. */
const MAX_BOOT_FAILURES = 5;

export interface RunFile {
  readonly server: string;
  readonly primaryPid: number;
  readonly port: number;
  readonly host: string;
  readonly startedAt: string;
  readonly workers: ReadonlyArray<{ id: number; pid: number; startedAt: string }>;
  /** The pid of the loaded spare worker waiting to replace one that dies, if any. */
  readonly spare: number | null;
  /** Whether this server holds the singleton lease, and under which generation. */
  readonly singleton: { readonly holder: boolean; readonly generation: number | null };
}

export function pidFile(paths: EnvironmentPaths, server: string): string {
  return path.join(paths.run, `${server}.pid`);
}

export function runFile(paths: EnvironmentPaths, server: string): string {
  return path.join(paths.run, `${server}.json`);
}

/**
 * A server's primary process: no user code. It runs migrations, forks the workers and replaces
 * any that dies, relays the local broker, watches the pickup directory, and on SIGTERM/SIGINT
 * has every worker drain before it exits.
 */
export async function runPrimary(envDir: string, serverName?: string): Promise<void> {
  const { paths, config } = await readEnvironment(envDir);
  const server = config.servers.find((s) => s.name === serverName) ?? config.servers[0]!;
  const logger = createLogger({ name: 'viaduct', level: config.log_level, base: { server: server.name, role: 'primary' } });
  const primary = new Primary(paths, config, server, logger);
  await primary.start();
}

class Primary {
  readonly #paths: EnvironmentPaths;
  readonly #config: EnvironmentConfig;
  readonly #server: ServerConfig;
  readonly #logger: Logger;
  readonly #hub = new LocalBrokerHub();
  readonly #startedAt = new Date();
  readonly #workerStarted = new Map<number, Date>();
  /** Serving workers listen on the port; the spare is loaded and current but waits to be promoted. */
  readonly #roles = new Map<number, 'serving' | 'spare'>();
  /** Each worker's one link: control messages and the local broker share it. */
  readonly #links = new Map<number, ProcessLink>();
  #spareReady: Worker | undefined;
  readonly #watcher: PickupWatcher;
  #stopping = false;
  #restartDelay = 0;
  #everReady = false;
  #runFileWrites = 0;
  #odb: OdbHandle | undefined;
  #lease!: SingletonLease;
  #presence!: ClusterPresence;
  #lbSupervisor: LbSupervisor | undefined;
  /** Work that must run once in the cluster: started on acquiring the lease, stopped on losing it. */
  readonly #singletonHooks: SingletonWork[] = [];
  #bootFailures = 0;
  #firstReady: Promise<void>;
  #resolveFirstReady!: () => void;
  /** Resolves once the ODB schema is current: workers may use the ODB from then on. */
  readonly #odbCurrent: Promise<void>;
  #resolveOdbCurrent!: () => void;

  constructor(paths: EnvironmentPaths, config: EnvironmentConfig, server: ServerConfig, logger: Logger) {
    this.#paths = paths;
    this.#config = config;
    this.#server = server;
    this.#logger = logger;
    this.#firstReady = new Promise((resolve) => (this.#resolveFirstReady = resolve));
    this.#odbCurrent = new Promise((resolve) => (this.#resolveOdbCurrent = resolve));
    this.#singletonHooks.push(...singletonWorkOf(FEATURES, { cluster, logger }));
    this.#watcher = new PickupWatcher(pickupDir(paths, server), logger, (file, source) => this.#deployFromPickup(file, source));
  }

  async start(): Promise<void> {
    const location = parseOdbUrl(this.#config.odb, this.#paths.dir);
    await mkdir(this.#paths.run, { recursive: true });
    await writeFile(pidFile(this.#paths, this.#server.name), `${process.pid}\n`);

    // The workers start first: they load their code while this process brings the ODB schema up
    // to date, and none touches the ODB before it is (each says vc:hello, vc:start answers).
    cluster.setupPrimary({ exec: WORKER_SCRIPT, args: [], silent: false });
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    for (let i = 0; i < this.#server.workers; i++) this.#fork('serving');

    process.on('SIGTERM', () => void this.stop('SIGTERM'));
    process.on('SIGINT', () => void this.stop('SIGINT'));

    let odb: OdbHandle;
    try {
      // Loaded only now, so the workers are forked without waiting for the database modules.
      const [{ openOdb, logIdleErrors }, { migrateToLatest }] = await Promise.all([import('../odb/database.js'), import('../odb/migrator.js')]);
      odb = openOdb(location, { poolSize: 2, onIdleError: logIdleErrors(this.#logger) });
      this.#odb = odb;
      const applied = await migrateToLatest(odb.db, odb.location.dialect);
      if (applied.length > 0) this.#logger.info({ migrations: applied }, 'ODB migrated');
    } catch (error) {
      if (this.#stopping) return; // stop() ends the process
      await this.#abortStart();
      throw error;
    }
    this.#resolveOdbCurrent();
    // Sent ahead to the workers forked so far, so that one done loading need not wait for the answer to vc:hello.
    for (const link of this.#links.values()) this.#sendStart(link);
    const timing = { intervalMs: this.#config.singleton.renew_interval_ms, staleMs: this.#config.singleton.stale_after_ms };
    this.#presence = new ClusterPresence(odb.db, this.#server);
    this.#lease = new SingletonLease(
      odb.db,
      `${this.#server.name}@${hostname()}/${process.pid}`,
      timing,
      {
        acquired: (generation) => {
          for (const hook of this.#singletonHooks) hook.start(generation);
          void this.#writeRunFile();
        },
        lost: () => {
          for (const hook of this.#singletonHooks) hook.stop();
          void this.#writeRunFile();
        },
      },
      this.#logger,
    );

    await this.#firstReady;
    await this.#presence.start(timing.intervalMs);
    this.#lease.start();
    this.#lbSupervisor = superviseLoadBalancer(this.#paths, this.#config, odb.db, this.#logger);
    if (this.#config.spare_worker) this.#fork('spare');
    await this.#writeRunFile();
    this.#logger.info({ url: `http://${this.#server.host}:${this.#server.port}`, workers: this.#server.workers }, 'Server started');
    await this.#watcher.start();
  }

  async stop(signal: string): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#logger.info({ signal }, 'Stopping: draining workers');
    this.#watcher.stop();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const worker of workers) this.#links.get(worker.id)?.notify(WORKER_SHUTDOWN);
    const deadline = setTimeout(() => {
      this.#logger.warn('Workers did not stop in time; killing them');
      for (const worker of workers) worker.process.kill('SIGKILL');
    }, this.#config.limits.drain_timeout_ms + 5_000);
    await Promise.all(exited);
    clearTimeout(deadline);
    this.#lbSupervisor?.stop();
    await this.#lease?.stop();
    await this.#presence?.stop();
    await this.#odb?.close().catch(() => undefined);
    await rm(pidFile(this.#paths, this.#server.name), { force: true });
    await rm(runFile(this.#paths, this.#server.name), { force: true });
    this.#logger.info('Stopped');
    this.#logger.flush();
    setTimeout(() => process.exit(process.exitCode ?? 0), 50);
  }

  /** The ODB could not be opened or migrated: the workers (still waiting for vc:start) go, and so does the pid file. */
  async #abortStart(): Promise<void> {
    this.#stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    const exited = workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    for (const worker of workers) this.#links.get(worker.id)?.notify(WORKER_SHUTDOWN);
    const deadline = setTimeout(() => {
      for (const worker of workers) worker.process.kill('SIGKILL');
    }, 5_000);
    await Promise.all(exited);
    clearTimeout(deadline);
    await this.#odb?.close().catch(() => undefined);
    await rm(pidFile(this.#paths, this.#server.name), { force: true });
  }

  #fork(role: 'serving' | 'spare'): void {
    const worker = cluster.fork({ VIADUCT_ENV: this.#paths.dir, VIADUCT_SERVER: this.#server.name, VIADUCT_ROLE: role });
    this.#workerStarted.set(worker.id, new Date());
    this.#roles.set(worker.id, role);
    const link = new ProcessLink({ send: (m) => void (worker.isConnected() && worker.send(m as object)), onMessage: (fn) => worker.on('message', fn) });
    this.#links.set(worker.id, link);
    this.#hub.attach(String(worker.id), link);
    link.on(WORKER_HELLO, () => void this.#odbCurrent.then(() => this.#sendStart(link)));
    link.on(SPARE_READY, () => {
      this.#spareReady = worker;
      this.#logger.info({ workerId: worker.id, pid: worker.process.pid }, 'Spare worker ready');
      void this.#writeRunFile();
    });
    link.on(WORKER_READY, () => {
      const started = this.#workerStarted.get(worker.id);
      this.#logger.info({ workerId: worker.id, pid: worker.process.pid, readyInMs: started === undefined ? undefined : Date.now() - started.getTime() }, 'Worker ready');
      this.#everReady = true;
      this.#resolveFirstReady();
      void this.#writeRunFile();
    });
    link.handle(SERVER_INFO, () => this.#info());
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const started = this.#workerStarted.get(worker.id);
    const role = this.#roles.get(worker.id);
    this.#workerStarted.delete(worker.id);
    this.#roles.delete(worker.id);
    if (this.#spareReady === worker) this.#spareReady = undefined;
    this.#hub.detach(String(worker.id));
    this.#links.get(worker.id)?.close();
    this.#links.delete(worker.id);
    if (this.#stopping) return;
    if (!this.#everReady && ++this.#bootFailures >= MAX_BOOT_FAILURES) {
      this.#logger.fatal({ code, signal, failures: this.#bootFailures }, 'Workers cannot start; the server stops (see the errors above)');
      void this.stop('boot failure');
      process.exitCode = 1;
      return;
    }
    const spare = this.#spareReady;
    if (role === 'serving' && spare !== undefined) {
      // The loaded spare takes the dead worker's place at once; a new spare boots behind it.
      this.#spareReady = undefined;
      this.#roles.set(spare.id, 'serving');
      this.#links.get(spare.id)?.notify(WORKER_LISTEN);
      this.#logger.error({ workerId: worker.id, pid: worker.process.pid, code, signal, promoted: spare.process.pid }, 'Worker died; the spare worker took its place');
      this.#scheduleFork('spare', started);
      return;
    }
    this.#logger.error({ workerId: worker.id, pid: worker.process.pid, code, signal, role }, 'Worker died; starting a new one');
    this.#scheduleFork(role ?? 'serving', started);
    void this.#writeRunFile();
  }

  /** Forks at once, or with a growing delay when workers die soon after starting (a crash loop). */
  #scheduleFork(role: 'serving' | 'spare', diedStartedAt: Date | undefined): void {
    const lived = diedStartedAt === undefined ? 0 : Date.now() - diedStartedAt.getTime();
    this.#restartDelay = lived < CRASH_LOOP_MS ? Math.min(Math.max(this.#restartDelay * 2, 100), 5_000) : 0;
    setTimeout(() => {
      if (!this.#stopping) this.#fork(role);
    }, this.#restartDelay);
  }

  async #deployFromPickup(file: string, source: string): Promise<void> {
    await this.#firstReady;
    try {
      const result = (await this.#hub.dispatch({ action: PICKUP_DEPLOY, file, source })) as { services: string[]; changed: boolean };
      if (result.changed) this.#logger.info({ file, services: result.services }, 'Deployed from pickup');
    } catch (error) {
      this.#logger.error({ file, code: (error as { code?: string }).code, reason: (error as Error).message }, 'Pickup deployment failed');
    }
  }

  #info(): ServerInfo {
    return {
      server: this.#server.name,
      cluster: this.#config.cluster,
      host: this.#server.host,
      port: this.#server.port,
      primaryPid: process.pid,
      workers: this.#workers(),
      startedAt: this.#startedAt.toISOString(),
      singleton: this.#singletonState(),
      uptimeSeconds: Math.round((Date.now() - this.#startedAt.getTime()) / 1000),
    };
  }

  #singletonState(): { holder: boolean; generation: number | null } {
    const generation = this.#lease?.generation;
    return { holder: generation !== undefined, generation: generation ?? null };
  }

  #workers(): RunFile['workers'] {
    return Object.values(cluster.workers ?? {})
      .filter((w): w is Worker => w !== undefined && !w.isDead() && this.#roles.get(w.id) === 'serving')
      .map((w) => ({ id: w.id, pid: w.process.pid ?? 0, startedAt: (this.#workerStarted.get(w.id) ?? this.#startedAt).toISOString() }));
  }

  async #writeRunFile(): Promise<void> {
    if (this.#stopping) return;
    const run: RunFile = {
      server: this.#server.name,
      primaryPid: process.pid,
      port: this.#server.port,
      host: this.#server.host,
      startedAt: this.#startedAt.toISOString(),
      workers: this.#workers(),
      spare: this.#spareReady?.process.pid ?? null,
      singleton: this.#singletonState(),
    };
    // Written aside and renamed into place, so a reader (the CLI, a test) never sees half a file.
    const file = runFile(this.#paths, this.#server.name);
    const temp = `${file}.${++this.#runFileWrites}.tmp`;
    await writeFile(temp, JSON.stringify(run, null, 2))
      .then(() => rename(temp, file))
      .catch(() => rm(temp, { force: true }));
  }

  /** The configuration this server started with is every worker's, also of one started later. */
  #sendStart(link: ProcessLink): void {
    link.notify(WORKER_START, { config: this.#config });
  }
}
