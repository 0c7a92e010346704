import cluster from 'node:cluster';
import { LocalBroker } from '../broker/local/local-broker.js';
import { createBroker } from '../broker/create-broker.js';
import type { Port } from '../broker/broker.js';
import { createLogger } from '../log.js';
import { parseOdbUrl } from '../odb/odb-url.js';
import { WORKER_READY } from '../feature/singleton-work.js';
import { ProcessLink } from '../util/process-link/process-link.js';
import {
  QUARANTINE,
  RELEASE,
  SERVER_INFO,
  SPARE_READY,
  WORKER_HELLO,
  WORKER_LISTEN,
  WORKER_RECYCLE,
  WORKER_SHUTDOWN,
  WORKER_START,
  WORKER_VERSION,
} from './control.js';
import { quarantineProvision } from '../deployment/service-admin-services.js';
import type { QuarantineEntry } from '../service/quarantine-list.js';
import { environmentPaths, readSecretKey, type EnvironmentConfig } from '../config/environment.js';
import { guardProcessExit } from './exit-guard.js';
import { guardServiceFaults } from './fault-guard.js';
import { watchHeap } from './heap-watch.js';
import { startWatchdog } from './watchdog-thread.js';
import { startHeartbeat } from './worker-heartbeat.js';
import { createWorkerRuntime, type WorkerRuntime } from './worker-runtime.js';
import { exitWith } from './fatal-errors.js';
import { snapshotFile } from './odb-snapshot.js';
import { openWorkerOdb, watchOdbReturn } from './worker-odb.js';

/**
 * Made before anything can fail, so that every line this process writes is JSON, a failure to
 * start included; its level is the configuration's once the primary has sent it.
 */
const logger = createLogger({
  name: 'viaduct',
  base: { server: process.env.VIADUCT_SERVER, worker: cluster.worker?.id },
});
// A service's stray error must not end the worker and every request in flight on it; the
// platform's own is logged as fatal and ends the worker (the primary starts another).
guardServiceFaults(logger);
guardProcessExit(process.ppid);

/** The share of its heap limit at which a worker asks to be replaced. */
const HEAP_RECYCLE_RATIO = 0.85;

/** A worker process: builds its runtime, listens on the server's shared port, drains on request. */
async function main(): Promise<void> {
  const envDir = process.env.VIADUCT_ENV!;
  const serverName = process.env.VIADUCT_SERVER!;
  const paths = environmentPaths(envDir);
  let config: EnvironmentConfig | undefined;

  const port: Port = { send: (m) => process.send?.(m), onMessage: (fn) => process.on('message', fn) };
  // One link to the primary for everything: the control messages below, the local broker, the scheduler's.
  const link = new ProcessLink(port);
  const serverInfo = () => link.request(SERVER_INFO, {});

  // Control messages are handled from the first moment: a shutdown that arrives while the
  // worker is still loading must not be lost (the primary would wait for it in vain).
  let runtime: WorkerRuntime | undefined;
  let serving = false;
  let stopping = false;
  let promoted: () => void = () => {};
  const listenOrder = new Promise<void>((resolve) => (promoted = resolve));
  let started: (config: EnvironmentConfig) => void = () => {};
  const startOrder = new Promise<EnvironmentConfig>((resolve) => (started = resolve));
  // The server's quarantine comes with the start order; later changes come as QUARANTINE.
  let quarantined: QuarantineEntry[] = [];
  link.on(WORKER_START, (message) => {
    quarantined = message.quarantine;
    started(message.config);
  });
  link.on(WORKER_LISTEN, () => promoted());
  link.on(QUARANTINE, ({ services }) => {
    quarantined = services;
    runtime?.invoker.quarantine.replace(services);
  });
  // A feature's own orders (the scheduler's start and stop); none is taken once stopping.
  link.onUnclaimed((message) => {
    if (!stopping) runtime?.control(message);
  });
  link.on(WORKER_SHUTDOWN, () => {
    if (stopping) return;
    stopping = true;
    // Nothing is in flight before the worker serves: it can go at once.
    if (runtime === undefined || !serving) process.exit(0);
    runtime.stop(config!.limits.drain_timeout_ms).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'Worker stop failed');
        process.exit(1);
      },
    );
  });
  // The primary says when to stop; a signal to the whole process group must not cut requests short.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});

  // The primary answers once the ODB schema is current (it migrates while workers load), with the
  // configuration the server started with.
  link.notify(WORKER_HELLO);
  config = await startOrder;
  const server = config.servers.find((s) => s.name === serverName)!;
  logger.level = config.log_level;

  // The link to this server's primary always exists (pickup deployments); the cluster broker is
  // the same object for a one-server environment, Redis across servers.
  const local = new LocalBroker(link);
  const broker =
    config.broker === 'local'
      ? local
      : createBroker(
          config.broker,
          link,
          { cluster: config.cluster, server: serverName, worker: cluster.worker?.id ?? process.pid },
          logger,
        );
  const location = parseOdbUrl(config.odb, paths.dir);
  const { odb, snapshotVersion } = await openWorkerOdb(location, snapshotFile(paths, serverName), logger);
  runtime = await createWorkerRuntime({
    envDir: paths.dir,
    config,
    serverName,
    odb,
    fromSnapshot: snapshotVersion !== undefined,
    broker,
    link: local,
    secretKey: await readSecretKey(paths),
    logger,
    serverInfo,
    primary: link,
    primaryPid: process.ppid,
    onVersion: (version) => link.notify(WORKER_VERSION, { version }),
  });

  runtime.invoker.quarantine.replace(quarantined);
  const { invoker } = runtime;
  invoker.provide(quarantineProvision, {
    get: (name) => invoker.quarantine.get(name),
    release: (name) => link.request(RELEASE, { name }),
  });
  await runtime.start();
  // Watched from now on: a service that blocks the event loop gets the worker replaced.
  startWatchdog(runtime.invoker.current, paths.run);
  startHeartbeat({
    link,
    invoker: runtime.invoker,
    store: runtime.store,
    configManager: runtime.configManager,
    defaultTimeoutMs: config.limits.service_timeout_ms,
    marginMs: config.limits.blocked_margin_ms,
  });
  // Replaced gracefully short of its heap limit, rather than aborted by V8 at it.
  watchHeap(link, runtime.invoker, config.limits.worker_heap_mb, HEAP_RECYCLE_RATIO);
  // Started from the snapshot: replaced by a worker that reads the real ODB as soon as it answers.
  if (snapshotVersion !== undefined) {
    watchOdbReturn(location, config.convergence_check_ms, () =>
      link.notify(WORKER_RECYCLE, {
        reason: 'The ODB is back; this worker started from its snapshot',
        details: { snapshotVersion },
      }),
    );
  }
  if (process.env.VIADUCT_ROLE === 'spare') {
    // Loaded and kept current by the broker; it listens only once it replaces a worker that died.
    link.notify(SPARE_READY);
    await listenOrder;
  }
  await runtime.frontend.listen(server.port, server.host);
  serving = true;
  link.notify(WORKER_READY);
}

main().catch((error: unknown) => exitWith(logger, error, 'Worker failed to start'));
