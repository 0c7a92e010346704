import { rmSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { registerCleanup } from './cleanup.js';
import { cli, freePort, type CliResult, type WorkerInfo } from './env.js';
import { httpRequest, type HttpAnswer } from './http.js';
import { groupAlive, isAlive, killGroup } from './proc.js';
import { sleep } from './stats.js';

/** Debian puts haproxy in /usr/sbin, which a non-root PATH often lacks; the CLI looks for it on PATH. */
const CLI_ENV = {
  PATH: [
    ...new Set([
      ...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''),
      '/usr/sbin',
      '/usr/local/sbin',
    ]),
  ].join(path.delimiter),
};

async function cliOk(args: readonly string[]): Promise<CliResult> {
  const result = await cli(args, 120_000, CLI_ENV);
  if (result.code !== 0)
    throw new Error(`viaduct ${args.join(' ')} exited with ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive ports nothing listens on now (quickstart gives servers --port, --port+1 ...). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`No ${count} consecutive free ports found`);
}

export interface ClusterServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly pickupDir: string;
  readonly logFile: string;
}

/**
 * A quickstart cluster (`--servers N --broker redis://...`, HAProxy in front) in a temp
 * directory, made, started and stopped by the real CLI. `destroy()` stops everything, removes the
 * cluster's keys from Redis and the directory; that also happens on failure or Ctrl-C.
 */
export class ClusterEnv {
  readonly root: string;
  readonly dir: string;
  readonly broker: string;
  readonly servers: readonly ClusterServer[];
  readonly lbPort: number;
  readonly lbUrl: string;
  #cluster = '';
  #auth = '';
  /** Primaries (each leads its process group, spare and serving workers included) and HAProxy's master. */
  #groups: number[] = [];
  readonly #unregister: () => void;

  private constructor(root: string, basePort: number, count: number, lbPort: number, broker: string) {
    this.root = root;
    this.dir = path.join(root, 'env');
    this.broker = broker;
    this.lbPort = lbPort;
    this.lbUrl = `http://127.0.0.1:${lbPort}`;
    this.servers = Array.from({ length: count }, (_, i) => ({
      name: `server${i + 1}`,
      port: basePort + i,
      url: `http://127.0.0.1:${basePort + i}`,
      pickupDir: path.join(this.dir, 'pickup', `server${i + 1}`),
      logFile: path.join(this.dir, 'logs', `server${i + 1}.log`),
    }));
    this.#unregister = registerCleanup({
      run: () => this.destroy(),
      runSync: () => {
        for (const pid of this.#groups) killGroup(pid);
        rmSync(this.root, { recursive: true, force: true });
      },
    });
  }

  static async create(options: { servers: number; workers: number; broker: string }): Promise<ClusterEnv> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'viaduct-bench-cluster-'));
    const env = new ClusterEnv(
      root,
      await freePortRange(options.servers),
      options.servers,
      await freePort(),
      options.broker,
    );
    try {
      await cliOk([
        'quickstart',
        env.dir,
        '--servers',
        String(options.servers),
        '--port',
        String(env.servers[0]!.port),
        '--lb-port',
        String(env.lbPort),
        '--workers',
        String(options.workers),
        '--broker',
        options.broker,
      ]);
      const password = (await readFile(path.join(env.dir, 'secrets', 'admin.password'), 'utf8')).trim();
      env.#auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
      const cluster = /^cluster:\s*(\S+)\s*$/m.exec(await readFile(path.join(env.dir, 'viaduct.yaml'), 'utf8'));
      if (cluster === null) throw new Error(`No cluster name in ${env.dir}/viaduct.yaml`);
      env.#cluster = cluster[1]!.replace(/^["']|["']$/g, '');
    } catch (error) {
      await env.destroy();
      throw error;
    }
    return env;
  }

  get authorization(): string {
    return this.#auth;
  }

  get cluster(): string {
    return this.#cluster;
  }

  /** `viaduct start DIR`: every server in the background, then HAProxy. */
  async start(): Promise<void> {
    try {
      await cliOk(['start', this.dir]);
    } finally {
      // Whatever did start must be stopped, even if start failed half-way.
      await this.#readGroups();
    }
  }

  async #readGroups(): Promise<void> {
    const pids: number[] = [];
    for (const file of [...this.servers.map((s) => `${s.name}.pid`), 'haproxy.pid']) {
      const pid = Number((await readFile(path.join(this.dir, 'run', file), 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0) pids.push(pid);
    }
    this.#groups = [...new Set([...this.#groups, ...pids])];
  }

  /** `viaduct stop DIR`, then makes sure nothing of the cluster is left. */
  async stop(): Promise<void> {
    if (this.#groups.length === 0) return;
    await cli(['stop', this.dir], 90_000, CLI_ENV).catch(() => undefined);
    for (const pid of this.#groups) if (isAlive(pid) || groupAlive(pid)) killGroup(pid);
    this.#groups = [];
  }

  async destroy(): Promise<void> {
    this.#unregister();
    await this.stop();
    await this.#deleteRedisKeys().catch((error: unknown) =>
      process.stderr.write(`cleanup: Redis keys of ${this.#cluster}: ${(error as Error).message}\n`),
    );
    await rm(this.root, { recursive: true, force: true });
  }

  /** The broker keys all start with viaduct:CLUSTER: (the dispatch stream has no expiry). */
  async #deleteRedisKeys(): Promise<void> {
    if (this.#cluster === '') return;
    const { Redis } = await import('ioredis');
    const redis = new Redis(this.broker, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
    try {
      await redis.connect();
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `viaduct:${this.#cluster}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  }

  /** The serving workers of a server, as its primary wrote them into run/NAME.json. */
  async workers(server: ClusterServer): Promise<WorkerInfo[]> {
    return (await this.runFile(server)).workers;
  }

  async runFile(server: ClusterServer): Promise<{ primaryPid: number; workers: WorkerInfo[]; spare?: number }> {
    // The primary rewrites the file as workers come and go; a read may catch it half-written.
    for (let attempt = 0; ; attempt++) {
      try {
        return JSON.parse(await readFile(path.join(this.dir, 'run', `${server.name}.json`), 'utf8')) as {
          primaryPid: number;
          workers: WorkerInfo[];
          spare?: number;
        };
      } catch (error) {
        if (attempt >= 50) throw error;
        await sleep(20);
      }
    }
  }

  /** HAProxy's master and worker pids (the master leads its process group). */
  async haproxyPids(): Promise<number[]> {
    const master = Number((await readFile(path.join(this.dir, 'run', 'haproxy.pid'), 'utf8')).trim());
    const pids = [master];
    try {
      const children = await readFile(`/proc/${master}/task/${master}/children`, 'utf8');
      pids.push(
        ...children
          .split(/\s+/)
          .filter((p) => p !== '')
          .map(Number),
      );
    } catch {
      // no /proc children file: the master's own CPU only
    }
    return pids;
  }

  /** HAProxy's `show stat` on its runtime socket: per backend server, the 2xx answers so far. */
  async haproxyServerAnswers(): Promise<Record<string, number>> {
    const csv = await new Promise<string>((resolve, reject) => {
      const socket = connect(path.join(this.dir, 'run', 'haproxy.sock'));
      let data = '';
      socket.setTimeout(5_000, () => socket.destroy(new Error('haproxy stats socket: no answer')));
      socket.on('connect', () => socket.write('show stat\n'));
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    const lines = csv.split('\n').filter((l) => l.trim() !== '');
    const header = lines[0]!.replace(/^#\s*/, '').split(',');
    const [px, sv, hrsp] = ['pxname', 'svname', 'hrsp_2xx'].map((name) => header.indexOf(name));
    const answers: Record<string, number> = {};
    for (const line of lines.slice(1)) {
      const fields = line.split(',');
      if (fields[px!] === 'viaduct_servers' && fields[sv!] !== 'BACKEND') answers[fields[sv!]!] = Number(fields[hrsp!]);
    }
    return answers;
  }

  /** POST /viaduct/api/invoke/SERVICE on the first server; throws unless the answer is 2xx. */
  async admin<T = unknown>(service: string, payload: unknown = {}): Promise<T> {
    const answer = await this.adminRaw(service, payload);
    if (answer.status < 200 || answer.status >= 300)
      throw new Error(`${service}: HTTP ${answer.status}: ${answer.body}`);
    return JSON.parse(answer.body) as T;
  }

  adminRaw(service: string, payload: unknown = {}): Promise<HttpAnswer> {
    return httpRequest(`${this.servers[0]!.url}/viaduct/api/invoke/${service}`, {
      headers: { authorization: this.#auth },
      body: JSON.stringify(payload),
      timeoutMs: 120_000,
    });
  }

  async createRestChannel(name: string, channelPath: string, service: string): Promise<void> {
    await this.admin('viaduct.channel.rest.create', { name, path: channelPath, service });
  }

  /** Writes a service file into a server's pickup directory and waits for its "Deployed from pickup" line. */
  async deployThroughPickup(
    server: ClusterServer,
    fileName: string,
    source: string,
    timeoutMs = 60_000,
  ): Promise<void> {
    const log = new LogTail(server.logFile);
    await log.skipToEnd();
    await writeFile(path.join(server.pickupDir, fileName), source);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const line of await log.read()) {
        if (line.file !== fileName) continue;
        if (line.msg === 'Deployed from pickup') return;
        if (line.msg === 'Pickup deployment failed' || line.msg === 'Deployment refused')
          throw new Error(`${fileName} in ${server.pickupDir}: ${JSON.stringify(line)}`);
      }
      await sleep(20);
    }
    throw new Error(`${fileName} in ${server.pickupDir} was not deployed within ${timeoutMs} ms`);
  }
}

export interface LogLine {
  readonly msg?: string;
  readonly time?: number;
  readonly file?: string;
  readonly ms?: number;
  readonly [key: string]: unknown;
}

/** Reads the JSON lines (pino) appended to a log file since the last read. */
export class LogTail {
  readonly #file: string;
  #offset = 0;
  #partial = '';

  constructor(file: string) {
    this.#file = file;
  }

  async skipToEnd(): Promise<void> {
    await this.read();
  }

  async read(): Promise<LogLine[]> {
    let handle;
    try {
      handle = await open(this.#file, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = await handle.stat();
      if (size <= this.#offset) return [];
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      const text = this.#partial + buffer.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      const parsed: LogLine[] = [];
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          parsed.push(JSON.parse(line) as LogLine);
        } catch {
          // not a JSON line
        }
      }
      return parsed;
    } finally {
      await handle.close();
    }
  }
}
