import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Broker, Port } from '../../src/broker/broker.js';
import { LocalBroker } from '../../src/broker/local/local-broker.js';
import { LocalBrokerHub } from '../../src/broker/local/local-broker-hub.js';
import { createLogger } from '../../src/log.js';
import { openOdb } from '../../src/odb/database.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import { createQuickstart } from '../../src/server/create-environment.js';
import { readEnvironment, readSecretKey, type EnvironmentConfig } from '../../src/config/environment.js';
import { createWorkerRuntime, type WorkerRuntime } from '../../src/server/worker-runtime.js';
import type { Feature } from '../../src/feature/feature.js';
import pino, { type Logger } from 'pino';
import { freePort, tempDir } from './env.js';

/** Two ports joined in memory; messages are cloned and delivered asynchronously, as over IPC. */
export function portPair(): [Port, Port] {
  const listeners: [Array<(m: unknown) => void>, Array<(m: unknown) => void>] = [[], []];
  const make = (self: 0 | 1): Port => ({
    send: (message) => {
      const copy = structuredClone(message);
      setImmediate(() => listeners[self === 0 ? 1 : 0].forEach((fn) => fn(copy)));
    },
    onMessage: (fn) => listeners[self].push(fn),
  });
  return [make(0), make(1)];
}

export interface TestCluster {
  readonly dir: string;
  readonly workers: WorkerRuntime[];
  readonly urls: string[];
  readonly hub: LocalBrokerHub;
  readonly adminAuth: string;
  admin<T = unknown>(service: string, payload?: unknown, worker?: number): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * A server's workers booted in this process: real SQLite ODB in a temp environment, the local
 * broker's hub and worker ends joined in memory, each worker on its own port.
 */
export async function bootWorkers(
  count = 2,
  options: {
    serviceTimeoutMs?: number;
    brokers?: (port: Port) => Broker;
    features?: readonly Feature[];
    convergenceCheckMs?: number;
    /** Changes to viaduct.yaml's settings, as read from the file. */
    config?: (config: EnvironmentConfig) => EnvironmentConfig;
    logger?: Logger;
    limits?: Partial<EnvironmentConfig['limits']>;
  } = {},
): Promise<TestCluster> {
  const dir = path.join(await tempDir(), 'env');
  await createQuickstart(dir, { port: await freePort() });
  const { paths, config } = await readEnvironment(dir);
  const effective = (options.config ?? ((c) => c))({
    ...config,
    limits: {
      ...config.limits,
      service_timeout_ms: options.serviceTimeoutMs ?? config.limits.service_timeout_ms,
      ...options.limits,
    },
    convergence_check_ms: options.convergenceCheckMs ?? config.convergence_check_ms,
  });
  const { migrateToLatest } = await import('../../src/odb/migrator.js');
  const location = parseOdbUrl(config.odb, paths.dir);
  const setup = openOdb(location);
  await migrateToLatest(setup.db, location.dialect);
  await setup.close();

  const hub = new LocalBrokerHub();
  const logger =
    options.logger ??
    (process.env.VIADUCT_TEST_LOGS === '1' ? createLogger({ name: 'test' }) : pino({ level: 'silent' }));
  const workers: WorkerRuntime[] = [];
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const [workerEnd, hubEnd] = portPair();
    hub.attach(String(i), hubEnd);
    const runtime = await createWorkerRuntime({
      envDir: paths.dir,
      config: effective,
      serverName: 'server1',
      odb: openOdb(location),
      broker: options.brokers?.(workerEnd) ?? new LocalBroker(workerEnd),
      secretKey: await readSecretKey(paths),
      logger,
      primaryPid: process.pid,
      features: options.features,
      serverInfo: async () => ({
        server: 'server1',
        cluster: 'test',
        host: '127.0.0.1',
        port: 0,
        primaryPid: process.pid,
        workers: [],
        startedAt: new Date().toISOString(),
        singleton: { holder: false, generation: null },
        uptimeSeconds: 0,
      }),
    });
    await runtime.start();
    const port = await freePort();
    await runtime.frontend.listen(port, '127.0.0.1');
    workers.push(runtime);
    urls.push(`http://127.0.0.1:${port}`);
  }
  const password = (await readFile(paths.adminPassword, 'utf8')).trim();
  const adminAuth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  return {
    dir,
    workers,
    urls,
    hub,
    adminAuth,
    async admin<T>(service: string, payload?: unknown, worker = 0) {
      const response = await fetch(`${urls[worker]}/viaduct/api/invoke/${service}`, {
        method: 'POST',
        headers: { authorization: adminAuth },
        body: JSON.stringify(payload ?? {}),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async close() {
      for (const worker of workers) await worker.stop(1000);
      await rm(path.dirname(dir), { recursive: true, force: true });
    },
  };
}

export const HELLO_SOURCE = `import { Service } from 'viaduct';

export default class Hello extends Service {
  static serviceName = 'demo.hello';

  async handle() {
    const name = (this.request.payload as { name?: string } | undefined)?.name ?? 'partner';
    this.response.payload = { hello: name };
  }
}
`;
