import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { cli, freePort, serverReachable, tempDir, waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/*
 * A real cluster whose ODB (PostgreSQL) and broker (Redis) are each reached through a TcpProxy,
 * so a test can cut or silence either while clients keep calling a REST channel.
 */

export const PG_PORT = 5432;
export const REDIS_PORT = 6379;
const PG_ADMIN_URL = `postgresql://postgres@127.0.0.1:${PG_PORT}/postgres`;

/** Answers with what it was sent: the REST channel the load calls, and the channels made during faults. */
export const ECHO_SOURCE = `import { Service } from 'viaduct';

export default class Echo extends Service {
  static serviceName = 'fault.echo';

  async handle() {
    this.response.payload = { echo: this.request.payload ?? null };
  }
}
`;

export interface ServerAddress {
  readonly name: string;
  readonly port: number;
  readonly url: string;
}

/** What an admin call answered: its HTTP status and error code, or why no answer came. */
export interface AdminAnswer {
  readonly status: number | string;
  readonly code: string | undefined;
  readonly ms: number;
}

interface RunFile {
  primaryPid: number;
  singleton?: { holder: boolean; generation: number | null };
  workers: Array<{ id: number; pid: number; version: number | null }>;
  spare?: number | null;
}

export interface FaultEnv {
  readonly dir: string;
  readonly servers: readonly ServerAddress[];
  /** The proxy in front of Redis (the broker). */
  readonly redis: TcpProxy;
  /** The proxy in front of PostgreSQL (the ODB). */
  readonly odb: TcpProxy;
  /** Calls an admin service on a server; never throws, never waits longer than `timeoutMs`. */
  admin(service: string, payload: unknown, timeoutMs?: number, server?: number): Promise<AdminAnswer>;
  /** Every Viaduct process: `server1/primary`, `server1/worker1`, `server1/spare` ... → pid. */
  processes(): Promise<Map<string, number>>;
  /** Log lines that say a process failed: fatal level, or an unhandled rejection or uncaught exception. */
  logProblems(): Promise<string[]>;
  /** Whether the ODB holds a configuration object (read past the proxy). */
  odbHas(type: string, name: string): Promise<boolean>;
  /** The ODB's configuration version (read past the proxy). */
  odbVersion(): Promise<number>;
  /** The lowest configuration version any worker of any server reports in force. */
  lowestWorkerVersion(): Promise<number>;
  /** The servers whose primary acts as singleton now, by their run files. */
  singletonHolders(): Promise<string[]>;
  /** Each server's workers (and spare) and the version each has in force, by the run files. */
  workerVersions(): Promise<string>;
  /** The singleton lease's row and each server's last presence (read past the proxy). */
  odbLiveness(): Promise<Liveness>;
  /** How often each warning, error and fatal message was logged: `server1 warn: message` → count. */
  logSummary(): Promise<Map<string, number>>;
}

export interface Liveness {
  readonly holder: string | null;
  readonly generation: number;
  readonly beat: number;
  /** Server name → its presence row's last_seen, in ms since the epoch. */
  readonly lastSeen: ReadonlyMap<string, number>;
  /** When the scheduler's job last started a run, in ms since the epoch (0 if never). */
  readonly lastRun: number;
}

/**
 * Starts a cluster of `servers` servers of `workers` workers each on a new PostgreSQL database,
 * with the Redis broker, both through a proxy; an echo service is deployed, a REST channel
 * `/echo` calls it, and a scheduler job runs it every second. Everything is stopped and removed when the test ends, failed or not.
 */
export async function startFaultEnv(
  t: TestContext,
  options: { servers?: number; workers?: number } = {},
): Promise<FaultEnv> {
  const servers = options.servers ?? 2;
  const database = `viaduct_faults_${randomBytes(4).toString('hex')}`;
  const redis = new TcpProxy('127.0.0.1', REDIS_PORT);
  const odb = new TcpProxy('127.0.0.1', PG_PORT);
  const dir = path.join(await tempDir('viaduct-faults-'), 'env');
  const state = { databaseMade: false, started: false, cluster: undefined as string | undefined };

  t.after(async () => {
    // The servers stop while Redis and the ODB are reachable, so they stop as they normally do.
    for (const proxy of [redis, odb]) {
      proxy.silence(false);
      if (proxy.port !== 0) await proxy.start().catch(() => undefined);
    }
    if (state.started) await cli(['stop', dir], { timeoutMs: 60_000 }).catch(() => undefined);
    await redis.stop();
    await odb.stop();
    if (state.databaseMade) await dropDatabase(database).catch(() => undefined);
    if (state.cluster !== undefined) await dropRedisKeys(state.cluster).catch(() => undefined);
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  await createDatabase(database);
  state.databaseMade = true;
  await redis.start();
  await odb.start();
  const port = await freePort();
  const created = await cli([
    'quickstart',
    dir,
    '--servers',
    String(servers),
    '--port',
    String(port),
    '--workers',
    String(options.workers ?? 2),
    '--broker',
    `redis://127.0.0.1:${redis.port}`,
    '--odb',
    `postgresql://postgres@127.0.0.1:${odb.port}/${database}`,
  ]);
  if (created.code !== 0) throw new Error(`quickstart failed: ${created.stderr}`);
  // The servers are called directly: no load balancer in front of them.
  const config = await readFile(path.join(dir, 'viaduct.yaml'), 'utf8');
  await writeFile(path.join(dir, 'viaduct.yaml'), config.replace(/^lb:\n(?: {2}.*\n)+/m, ''));
  state.cluster = /^cluster: (\S+)$/m.exec(config)?.[1];
  state.started = true;
  const started = await cli(['start', dir]);
  if (started.code !== 0) throw new Error(`start failed: ${started.stderr}${started.stdout}`);

  const password = (await readFile(path.join(dir, 'secrets', 'admin.password'), 'utf8')).trim();
  const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  const addresses = Array.from({ length: servers }, (_, i) => ({
    name: `server${i + 1}`,
    port: port + i,
    url: `http://127.0.0.1:${port + i}`,
  }));

  const readRun = async (server: string): Promise<RunFile> =>
    JSON.parse(await readFile(path.join(dir, 'run', `${server}.json`), 'utf8')) as RunFile;

  const env: FaultEnv = {
    dir,
    servers: addresses,
    redis,
    odb,
    async admin(service, payload, timeoutMs = 90_000, server = 0) {
      const started = Date.now();
      try {
        const response = await fetch(`${addresses[server]!.url}/viaduct/api/invoke/${service}`, {
          method: 'POST',
          headers: { authorization },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        const code = response.headers.get('x-viaduct-error') ?? undefined;
        return { status: response.status, code, ms: Date.now() - started };
      } catch (error) {
        return { status: (error as Error).name, code: undefined, ms: Date.now() - started };
      }
    },
    async processes() {
      const pids = new Map<string, number>();
      for (const { name } of addresses) {
        const run = await readRun(name);
        pids.set(`${name}/primary`, run.primaryPid);
        for (const worker of run.workers) pids.set(`${name}/worker${worker.id}`, worker.pid);
        if (typeof run.spare === 'number') pids.set(`${name}/spare`, run.spare);
      }
      return pids;
    },
    async logProblems() {
      const problems: string[] = [];
      for (const { name } of addresses) {
        const log = await readFile(path.join(dir, 'logs', `${name}.log`), 'utf8').catch(() => '');
        for (const line of log.split('\n'))
          if (line.includes('"level":60') || /unhandled|uncaught/i.test(line)) problems.push(`${name}: ${line}`);
      }
      return problems;
    },
    odbHas: (type, name) =>
      withOdb(database, async (client) => {
        const result = await client.query('SELECT 1 FROM config_item WHERE type = $1 AND name = $2', [type, name]);
        return result.rowCount === 1;
      }),
    odbVersion: () =>
      withOdb(database, async (client) => {
        const result = await client.query<{ counter: string }>('SELECT counter FROM write_lock WHERE id = 1');
        return Number(result.rows[0]?.counter);
      }),
    async workerVersions() {
      const parts: string[] = [];
      for (const { name } of addresses) {
        const run = await readRun(name);
        parts.push(`${name}: ${run.workers.map((w) => `worker${w.id} v${w.version}`).join(', ')}`);
      }
      return parts.join('; ');
    },
    async singletonHolders() {
      const holders: string[] = [];
      for (const { name } of addresses) if ((await readRun(name)).singleton?.holder === true) holders.push(name);
      return holders;
    },
    odbLiveness: () =>
      withOdb(database, async (client) => {
        const lease = await client.query<{ holder: string | null; generation: string; beat: string }>(
          'SELECT holder, generation, beat FROM singleton_lease WHERE id = 1',
        );
        const presence = await client.query<{ name: string; last_seen: string }>('SELECT name, last_seen FROM server');
        const runs = await client.query<{ last: string | null }>('SELECT MAX(started_at) AS last FROM scheduler_run');
        const row = lease.rows[0]!;
        return {
          holder: row.holder,
          generation: Number(row.generation),
          beat: Number(row.beat),
          lastSeen: new Map(presence.rows.map((r) => [r.name, Date.parse(r.last_seen)])),
          lastRun: runs.rows[0]?.last == null ? 0 : Date.parse(runs.rows[0].last),
        };
      }),
    async logSummary() {
      const counts = new Map<string, number>();
      const levels: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };
      for (const { name } of addresses) {
        const log = await readFile(path.join(dir, 'logs', `${name}.log`), 'utf8').catch(() => '');
        for (const line of log.split('\n')) {
          const entry = parseLine(line);
          const level = entry === undefined ? undefined : levels[entry.level];
          if (level === undefined) continue;
          const key = `${name} ${level}: ${entry!.msg}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      return counts;
    },
    async lowestWorkerVersion() {
      let lowest = Number.POSITIVE_INFINITY;
      for (const { name } of addresses)
        for (const worker of (await readRun(name)).workers) lowest = Math.min(lowest, worker.version ?? -1);
      return lowest;
    },
  };

  const deployed = await env.admin('viaduct.service.deploy', { file: 'echo.ts', source: ECHO_SOURCE });
  if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed)}`);
  const channel = await env.admin('viaduct.channel.rest.create', {
    name: 'echo',
    path: '/echo',
    service: 'fault.echo',
  });
  if (channel.status !== 200) throw new Error(`channel create failed: ${JSON.stringify(channel)}`);
  // Work for the singleton: a job that runs the echo service every second, its runs written to the ODB.
  const job = await env.admin('viaduct.scheduler.job.create', {
    name: 'every-second',
    service: 'fault.echo',
    type: 'interval',
    interval: { seconds: 1 },
  });
  if (job.status !== 200) throw new Error(`job create failed: ${JSON.stringify(job)}`);
  for (const server of addresses) await waitFor(() => servedByEveryWorker(`${server.url}/echo`), 15_000, 100);
  // Each server starts its spare worker once its first workers serve; the processes are counted with it.
  for (const { name } of addresses)
    await waitFor(async () => typeof (await readRun(name)).spare === 'number', 30_000, 100);
  return env;
}

function parseLine(line: string): { level: number; msg: string } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return typeof entry.level === 'number' ? { level: entry.level, msg: String(entry.msg) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the suite cannot run here (PostgreSQL or Redis unreachable), or undefined. Under CI=true an
 * unreachable server fails instead.
 */
export async function unreachable(): Promise<string | undefined> {
  return (await serverReachable('PostgreSQL', PG_PORT)) ?? (await serverReachable('Redis', REDIS_PORT));
}

async function withOdb<T>(database: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${PG_PORT}/${database}` });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(database: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
}

async function dropDatabase(database: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** The cluster's keys in the shared Redis. */
async function dropRedisKeys(cluster: string): Promise<void> {
  const client = new Redis(REDIS_PORT, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const keys = await client.keys(`viaduct:${cluster}:*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}

/**
 * Whether `url` answers 200 on `times` fresh connections in a row. node:cluster hands each new
 * connection to the next worker in turn, so a run of them reaches every worker of the server.
 */
export async function servedByEveryWorker(url: string, times = 8): Promise<boolean> {
  for (let i = 0; i < times; i++) if ((await freshPost(url)) !== 200) return false;
  return true;
}

/** A POST on a connection of its own (no keep-alive); the status, or 0 when no answer came. */
function freshPost(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end('{}');
  });
}

/** What one window of the load saw. */
export interface WindowCounts {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly statuses: Readonly<Record<string, number>>;
}

interface Sent {
  readonly at: number;
  readonly outcome: Promise<string>;
}

/**
 * A steady open-loop load: `perSecond` POSTs a second on keep-alive connections, spread over the
 * URLs in turn, whatever the answers take (at most `maxInFlight` at once, beyond which a request
 * is counted as failed without being sent). Each request has a deadline, so none can hang.
 */
export class SteadyLoad {
  readonly #urls: readonly string[];
  readonly #perSecond: number;
  readonly #maxInFlight: number;
  readonly #sent: Sent[] = [];
  #inFlight = 0;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(urls: readonly string[], perSecond = 60, maxInFlight = 200) {
    this.#urls = urls;
    this.#perSecond = perSecond;
    this.#maxInFlight = maxInFlight;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#sent.map((s) => s.outcome));
  }

  /** The requests sent in [from, to), once each has settled. */
  async counts(from: number, to: number): Promise<WindowCounts> {
    const outcomes = await Promise.all(this.#sent.filter((s) => s.at >= from && s.at < to).map((s) => s.outcome));
    const statuses: Record<string, number> = {};
    let ok = 0;
    for (const outcome of outcomes) {
      if (outcome === '200') ok++;
      else statuses[outcome] = (statuses[outcome] ?? 0) + 1;
    }
    return { sent: outcomes.length, ok, failed: outcomes.length - ok, statuses };
  }

  async #run(): Promise<void> {
    const began = Date.now();
    let count = 0;
    while (this.#running) {
      const due = Math.floor(((Date.now() - began) * this.#perSecond) / 1000);
      for (; count < due; count++) this.#send(this.#urls[count % this.#urls.length]!);
      await delay(5);
    }
  }

  #send(url: string): void {
    const at = Date.now();
    if (this.#inFlight >= this.#maxInFlight) {
      this.#sent.push({ at, outcome: Promise.resolve('too many in flight') });
      return;
    }
    this.#inFlight++;
    const outcome = fetch(url, { method: 'POST', body: '{"n":1}', signal: AbortSignal.timeout(10_000) })
      .then(
        async (response) => (await response.arrayBuffer(), String(response.status)),
        (error: unknown) => (error instanceof Error ? error.name : 'error'),
      )
      .finally(() => this.#inFlight--);
    this.#sent.push({ at, outcome });
  }
}
