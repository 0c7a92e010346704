import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from './cleanup.js';
import { httpRequest, type HttpAnswer } from './http.js';
import { groupAlive, isAlive, killGroup } from './proc.js';
import { sleep } from './stats.js';

/** The project root, from dist/bench/lib/. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = path.join(ROOT, 'bin', 'viaduct.js');

/** The Hello service, exactly as the benchmarks specify it. */
export const HELLO_SOURCE = `import { Service } from 'viaduct';

export default class Hello extends Service {
  static serviceName = 'demo.hello';

  async handle() {
    const name = (this.request.payload as { name?: string } | undefined)?.name ?? 'partner';
    this.response.payload = { hello: name };
  }
}
`;

/** A port nothing listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `viaduct` program to completion (`env` adds to this process's environment). */
export function cli(args: readonly string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`viaduct ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function cliOk(args: readonly string[]): Promise<CliResult> {
  const result = await cli(args);
  if (result.code !== 0)
    throw new Error(`viaduct ${args.join(' ')} exited with ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

export interface WorkerInfo {
  readonly id: number;
  readonly pid: number;
}

/**
 * A quickstart environment in a temp directory with a free port, made and started by the real
 * CLI. `destroy()` stops it and removes the directory; both also happen on failure or Ctrl-C.
 */
export class BenchEnv {
  readonly root: string;
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  #auth = '';
  #primaryPid: number | undefined;
  readonly #unregister: () => void;

  private constructor(root: string, port: number) {
    this.root = root;
    this.dir = path.join(root, 'env');
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#unregister = registerCleanup({
      run: () => this.destroy(),
      runSync: () => {
        if (this.#primaryPid !== undefined) killGroup(this.#primaryPid);
        rmSync(this.root, { recursive: true, force: true });
      },
    });
  }

  static async create(options: { workers: number }): Promise<BenchEnv> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'viaduct-bench-'));
    const env = new BenchEnv(root, await freePort());
    try {
      await cliOk(['quickstart', env.dir, '--port', String(env.port), '--workers', String(options.workers)]);
      const password = (await readFile(path.join(env.dir, 'secrets', 'admin.password'), 'utf8')).trim();
      env.#auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    } catch (error) {
      await env.destroy();
      throw error;
    }
    return env;
  }

  get authorization(): string {
    return this.#auth;
  }

  get primaryPid(): number | undefined {
    return this.#primaryPid;
  }

  /** The started server's processes, the primary and its workers: what its CPU time per request is read from. */
  async serverPids(): Promise<number[]> {
    if (this.#primaryPid === undefined) throw new Error('The server is not started');
    return [this.#primaryPid, ...(await this.workers()).map((w) => w.pid)];
  }

  /** `viaduct start DIR` (in the background, as a user would). */
  async start(): Promise<void> {
    await cliOk(['start', this.dir]);
    this.#primaryPid = Number((await readFile(path.join(this.dir, 'run', 'server1.pid'), 'utf8')).trim());
  }

  /** `viaduct stop DIR`, then makes sure nothing of the server is left. */
  async stop(): Promise<void> {
    const pid = this.#primaryPid;
    if (pid === undefined) return;
    await cli(['stop', this.dir], 60_000).catch(() => undefined);
    // The primary leads its process group (started detached); anything left in it goes too.
    if (isAlive(pid) || groupAlive(pid)) killGroup(pid);
    this.#primaryPid = undefined;
  }

  /**
   * Records the pid of a server started some other way (e.g. `start --fg` spawned by a
   * benchmark), so cleanup can kill it.
   */
  adopt(pid: number | undefined): void {
    this.#primaryPid = pid;
  }

  async destroy(): Promise<void> {
    this.#unregister();
    await this.stop();
    await rm(this.root, { recursive: true, force: true });
  }

  /** The workers as the primary wrote them into run/server1.json. */
  async workers(): Promise<WorkerInfo[]> {
    // The primary rewrites the file as workers come and go; a read may catch it half-written.
    for (let attempt = 0; ; attempt++) {
      try {
        const run = JSON.parse(await readFile(path.join(this.dir, 'run', 'server1.json'), 'utf8')) as {
          workers: WorkerInfo[];
        };
        return run.workers;
      } catch (error) {
        if (attempt >= 50) throw error;
        await sleep(20);
      }
    }
  }

  /** POST /viaduct/api/invoke/SERVICE; throws unless the answer is 2xx. */
  async admin<T = unknown>(service: string, payload: unknown = {}): Promise<T> {
    const answer = await this.adminRaw(service, payload);
    if (answer.status < 200 || answer.status >= 300)
      throw new Error(`${service}: HTTP ${answer.status}: ${answer.body}`);
    return JSON.parse(answer.body) as T;
  }

  adminRaw(service: string, payload: unknown = {}): Promise<HttpAnswer> {
    return httpRequest(`${this.url}/viaduct/api/invoke/${service}`, {
      headers: { authorization: this.#auth },
      body: JSON.stringify(payload),
      timeoutMs: 120_000,
    });
  }

  /** Deploys with the real `viaduct deploy FILE --env DIR`. */
  async deployWithCli(fileName: string, source: string): Promise<void> {
    const file = path.join(this.root, fileName);
    await writeFile(file, source);
    await cliOk(['deploy', file, '--env', this.dir]);
  }

  async createRestChannel(name: string, channelPath: string, service: string): Promise<void> {
    await this.admin('viaduct.channel.rest.create', { name, path: channelPath, service });
  }

  /** Waits until GET /viaduct/ping answers (after a start by other means than the CLI). */
  async waitForPing(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await httpRequest(`${this.url}/viaduct/ping`, { agent: false, timeoutMs: 2_000 }).then(
        (a) => a.status === 200,
        () => false,
      );
      if (ok) return;
      await sleep(20);
    }
    throw new Error(`${this.url} did not answer within ${timeoutMs} ms`);
  }
}
