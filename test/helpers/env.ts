import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = path.join(ROOT, 'bin', 'viaduct.js');

export async function tempDir(prefix = 'viaduct-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * A port nothing listens on now, for a server a test starts later. It is taken below the
 * kernel's ephemeral range: a port from that range (what listen(0) gives) may meanwhile become the
 * local end of some client connection of a test running alongside, and the server then fails to
 * bind (seen with HAProxy's frontend).
 */
export async function freePort(): Promise<number> {
  const [low, high] = [20_000, Math.min(32_000, ephemeralLow() - 1)];
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The lowest port the kernel hands out to client connections (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 20_100 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `viaduct` program. */
export function cli(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`viaduct ${args.join(' ')} did not finish in time\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningEnv {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly adminAuth: string;
  admin<T = unknown>(service: string, payload?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** A quickstart environment started in the background by the real CLI; `stop()` stops and removes it. */
export async function startEnv(
  options: {
    workers?: number;
    odb?: string;
    extraArgs?: string[];
    /** Edits the environment (its viaduct.yaml, say) after quickstart, before the server starts. */
    configure?: (dir: string) => Promise<void>;
  } = {},
): Promise<RunningEnv> {
  const dir = path.join(await tempDir(), 'env');
  const port = await freePort();
  const args = [
    'quickstart',
    dir,
    '--port',
    String(port),
    '--workers',
    String(options.workers ?? 2),
    ...(options.odb ? ['--odb', options.odb] : []),
    ...(options.extraArgs ?? []),
  ];
  const created = await cli(args);
  if (created.code !== 0) throw new Error(`quickstart failed: ${created.stderr}`);
  await options.configure?.(dir);
  const started = await cli(['start', dir]);
  if (started.code !== 0) throw new Error(`start failed: ${started.stderr}${started.stdout}`);
  const password = (await readFile(path.join(dir, 'secrets', 'admin.password'), 'utf8')).trim();
  const adminAuth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  const url = `http://127.0.0.1:${port}`;
  return {
    dir,
    port,
    url,
    adminAuth,
    async admin<T>(service: string, payload?: unknown) {
      const response = await fetch(`${url}/viaduct/api/invoke/${service}`, {
        method: 'POST',
        headers: { authorization: adminAuth },
        body: JSON.stringify(payload ?? {}),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async stop() {
      await cli(['stop', dir]);
      await rm(path.dirname(dir), { recursive: true, force: true });
    },
  };
}

/**
 * Whether a real server (PostgreSQL, MariaDB ...) answers. On a developer's machine a test may
 * skip with the reason; under CI=true an unreachable server fails the test instead.
 */
export async function serverReachable(name: string, port: number, host = '127.0.0.1'): Promise<string | undefined> {
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.connect(port, host);
  });
  if (reachable) return undefined;
  const reason = `${name} is not reachable at ${host}:${port}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: this test may not skip)`);
  console.log(`# skipping: ${reason}`);
  return reason;
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`Condition not met within ${timeoutMs} ms`);
}

/** The pids of a running server's serving workers, from its run file, sorted. */
export async function workerPids(dir: string, server = 'server1'): Promise<number[]> {
  const run = JSON.parse(await readFile(path.join(dir, 'run', `${server}.json`), 'utf8')) as {
    workers: Array<{ pid: number }>;
  };
  return run.workers.map((w) => w.pid).sort();
}
