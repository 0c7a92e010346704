import { request as httpRequest } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { findHaproxy } from '../../src/lb/haproxy-binary.js';
import type { LbServer } from '../../src/lb/lb-server.js';
import { LoadBalancer } from '../../src/lb/load-balancer.js';
import { freePort, tempDir } from '../helpers/env.js';
import { KeepAliveClient } from './keep-alive-client.js';
import { WhoServer } from './who-server.js';

/**
 * Why the real-HAProxy tests cannot run here, or undefined when they can. On a developer's
 * machine without HAProxy they skip with the reason; under CI=true they fail instead.
 */
export function haproxySkipReason(): string | undefined {
  try {
    findHaproxy();
    return undefined;
  } catch (error) {
    const reason = `HAProxy is not installed: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: these tests may not skip)`, { cause: error });
    console.log(`# skipping: ${reason}`);
    return reason;
  }
}

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** The name of the server that answered, from /who and /slow. */
  readonly server: string | undefined;
}

/** A request on a connection of its own, closed after the response. */
export function send(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { connection: 'close', ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, server: serverOf(body) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export function serverOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

export function asLbServer(server: WhoServer): LbServer {
  return { name: server.name, host: '127.0.0.1', port: server.port };
}

/** A load balancer on a free port in front of WhoServers, in a temporary run directory. */
export class LbFixture {
  readonly lb: LoadBalancer;
  readonly port: number;
  readonly servers: WhoServer[];
  readonly runDir: string;
  readonly #clients: KeepAliveClient[] = [];

  private constructor(lb: LoadBalancer, port: number, servers: WhoServer[], runDir: string) {
    this.lb = lb;
    this.port = port;
    this.servers = servers;
    this.runDir = runDir;
  }

  /** Starts the servers named, then HAProxy in front of those listed in `behind` (all by default). */
  static async start(
    names: readonly string[],
    behind: readonly string[] = names,
    settings: { readonly adminApi?: boolean } = {},
  ): Promise<LbFixture> {
    const servers = await Promise.all(names.map((name) => new WhoServer(name).start()));
    const runDir = await tempDir('viaduct-lb-');
    const lb = new LoadBalancer(runDir);
    const fixture = new LbFixture(lb, await freePort(), servers, runDir);
    live.add(fixture);
    try {
      await lb.start({
        ...settings,
        bind: { host: '127.0.0.1', port: fixture.port },
        servers: servers.filter((s) => behind.includes(s.name)).map(asLbServer),
      });
      await fixture.waitUntilUp(...behind);
    } catch (error) {
      await fixture.dispose();
      throw error;
    }
    return fixture;
  }

  server(name: string): WhoServer {
    const server = this.servers.find((s) => s.name === name);
    if (server === undefined) throw new Error(`No test server ${name}`);
    return server;
  }

  get(path: string): Promise<Reply> {
    return send(this.port, 'GET', path);
  }

  /** A client on one keep-alive connection to the load balancer, closed by dispose at the latest. */
  async connect(): Promise<KeepAliveClient> {
    const client = await KeepAliveClient.connect(this.port);
    this.#clients.push(client);
    return client;
  }

  /** Until HAProxy has passed a health check of each server named. */
  async waitUntilUp(...names: string[]): Promise<void> {
    await this.waitForStates(Object.fromEntries(names.map((n) => [n, 'UP'])));
  }

  /** Until each named server is in the given state, as `show stat` tells it. */
  async waitForStates(states: Record<string, string>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = '';
    while (Date.now() < deadline) {
      const servers = await this.lb.servers();
      seen = servers.map((s) => `${s.name}=${s.haproxyStatus}/${s.checkStatus}`).join(' ');
      const matches = Object.entries(states).every(([name, state]) => {
        const status = servers.find((s) => s.name === name);
        return state === 'ABSENT'
          ? status === undefined
          : status?.state === state && (state !== 'UP' || status.checkStatus === 'L7OK');
      });
      if (matches) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`Servers not ${JSON.stringify(states)} within ${timeoutMs} ms; HAProxy shows: ${seen}`);
  }

  /** Stops HAProxy (hard, after a short grace), the servers, and removes the run directory. */
  async dispose(): Promise<void> {
    live.delete(this);
    for (const client of this.#clients) client.close();
    await this.lb.stop(2_000).catch(() => undefined);
    await Promise.all(this.servers.map((s) => s.crash()));
    await rm(this.runDir, { recursive: true, force: true });
  }
}

/** Waits for a condition, and fails (instead of hanging) when it does not come. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Fixtures not yet disposed: if the test process ends first, their HAProxy ends with it. */
const live = new Set<LbFixture>();

function killLive(): void {
  for (const fixture of live) {
    try {
      // Synchronous, as 'exit' allows: the whole process group HAProxy leads.
      process.kill(-Number(readFileSync(fixture.lb.files.pid, 'utf8')), 'SIGKILL');
    } catch {
      // not running
    }
    rmSync(fixture.runDir, { recursive: true, force: true });
  }
  live.clear();
}

process.once('exit', killLive);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLive();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}
