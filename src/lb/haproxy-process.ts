import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ViaductError } from '../errors.js';
import { assertHaproxyVersion, checkHaproxyConfig, findHaproxy } from './haproxy-binary.js';
import { FRONTEND } from './haproxy-config.js';
import type { HaproxyFiles } from './haproxy-files.js';
import { HaproxyMasterCli, type HaproxyProcesses } from './haproxy-master-cli.js';
import { isRunning, runningPidFrom, sleep } from '../util/pid-liveness.js';
import { sendSocketCommand } from './unix-socket-command.js';

export interface HaproxyProcessOptions {
  /** Where to look for the haproxy program; PATH by default. */
  readonly searchPath?: string;
  /** How long start and reload wait for a serving worker. */
  readonly readyTimeoutMs?: number;
}

/**
 * How a stop ended. killed: the grace ran out with requests under way, or HAProxy had to be
 * killed; requests may have been cut.
 */
export type StopOutcome = 'stopped' | 'killed' | 'not-running';

const POLL_MS = 25;
/** After a hard stop (SIGTERM), how long HAProxy gets before SIGKILL. */
const HARD_STOP_MS = 2_000;

/**
 * One HAProxy in master-worker mode, known by its run directory: any process can start it,
 * reload it or stop it, and it outlives the short-lived CLI that started it.
 */
export class HaproxyProcess {
  readonly #files: HaproxyFiles;
  readonly #searchPath: string | undefined;
  readonly #readyTimeoutMs: number;
  readonly #master: HaproxyMasterCli;

  constructor(files: HaproxyFiles, options: HaproxyProcessOptions = {}) {
    this.#files = files;
    this.#searchPath = options.searchPath ?? process.env.PATH;
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
    this.#master = new HaproxyMasterCli(files.masterSocket);
  }

  /** The master's pid while HAProxy runs. */
  pid(): Promise<number | undefined> {
    return runningPidFrom(this.#files.pid, 'haproxy');
  }

  processes(): Promise<HaproxyProcesses> {
    return this.#master.processes();
  }

  /** Fails with the install command when haproxy is missing, and when it is older than 2.6. */
  async binary(): Promise<string> {
    const binary = findHaproxy(this.#searchPath);
    await assertHaproxyVersion(binary);
    return binary;
  }

  /**
   * Checks the config file and starts HAProxy on it, detached in its own process group with
   * its output appended to the log file; resolves to the master's pid once a worker serves.
   */
  async start(): Promise<number> {
    const running = await this.pid();
    if (running !== undefined)
      throw new ViaductError('VIA_ERR_ENV_CONFIG', `HAProxy runs already in ${this.#files.runDir} (pid ${running})`);
    const binary = await this.binary();
    await checkHaproxyConfig(binary, this.#files.config);
    await mkdir(path.dirname(this.#files.log), { recursive: true });
    // Sockets left by a HAProxy that was killed would answer nothing and hide the new ones.
    await this.#removeRunFiles();
    const log = openSync(this.#files.log, 'a');
    const child = spawn(binary, ['-W', '-S', `${this.#files.masterSocket},mode,600`, '-f', this.#files.config], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    let exit: string | undefined;
    child.once('exit', (code, signal) => (exit = signal === null ? `exit code ${code}` : `signal ${signal}`));
    child.once('error', (error) => (exit = error.message));
    const deadline = Date.now() + this.#readyTimeoutMs;
    while (Date.now() < deadline && exit === undefined) {
      if (await this.#serving()) return child.pid!;
      await sleep(POLL_MS);
    }
    if (exit === undefined && child.pid !== undefined) killGroup(child.pid);
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `HAProxy did not start (${exit ?? `no worker within ${this.#readyTimeoutMs} ms`}); the end of ${this.#files.log}:\n${await this.logTail()}`,
    );
  }

  /**
   * A seamless reload: the config file is checked first (a bad one leaves the running HAProxy
   * as it is), the servers' states are saved for the new worker, the new worker takes the
   * listening sockets over, and the old one finishes its requests before it leaves.
   */
  async reload(): Promise<void> {
    if ((await this.pid()) === undefined)
      throw new ViaductError('VIA_ERR_ENV_NOT_RUNNING', 'The load balancer is not running');
    await checkHaproxyConfig(await this.binary(), this.#files.config);
    await writeFile(this.#files.serverState, await sendSocketCommand(this.#files.runtimeSocket, 'show servers state'));
    const before = await this.#master.processes();
    await this.#master.reload();
    const deadline = Date.now() + this.#readyTimeoutMs;
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      // The master re-executes itself and rebinds its socket: it may not answer for a moment.
      const now = await this.#master.processes().catch(() => undefined);
      if (now === undefined || now.reloads === before.reloads) continue;
      if (now.failedReloads > before.failedReloads) {
        throw new ViaductError(
          'VIA_ERR_ENV_CONFIG',
          `HAProxy could not reload; it goes on with the previous configuration. The end of ${this.#files.log}:\n${await this.logTail()}`,
        );
      }
      if (now.workers.length > 0 && !now.workers.some((pid) => before.workers.includes(pid)) && (await this.#serving()))
        return;
    }
    throw new ViaductError(
      'VIA_ERR_INTERNAL',
      `HAProxy did not finish reloading within ${this.#readyTimeoutMs} ms; see ${this.#files.log}`,
    );
  }

  /**
   * A soft stop (SIGUSR1: the listeners close, requests under way go on). Once none is left,
   * or after graceMs, a hard stop (SIGTERM), which also closes idle keep-alive connections
   * that would otherwise hold the soft stop up to the keep-alive timeout; SIGKILL for the
   * process group if even that does not end it.
   */
  async stop(graceMs = 15_000): Promise<StopOutcome> {
    const pid = await this.pid();
    if (pid === undefined) {
      await this.#removeRunFiles();
      return 'not-running';
    }
    const workers = await this.#master
      .processes()
      .then((p) => [...p.workers, ...p.oldWorkers])
      .catch(() => []);
    signal(pid, 'SIGUSR1');
    const deadline = Date.now() + graceMs;
    let forced = false;
    while (isRunning(pid) && (await this.#requestsUnderWay(workers)) !== 0) {
      if (Date.now() >= deadline) {
        forced = true;
        break;
      }
      await sleep(POLL_MS);
    }
    if (isRunning(pid)) {
      signal(pid, 'SIGTERM');
      if (!(await exitsWithin(pid, HARD_STOP_MS))) {
        killGroup(pid);
        await exitsWithin(pid, HARD_STOP_MS);
        forced = true;
      }
    }
    await this.#removeRunFiles();
    return forced ? 'killed' : 'stopped';
  }

  /** Requests (streams of Viaduct's frontend) the workers are still answering; undefined if unknown. */
  async #requestsUnderWay(workers: readonly number[]): Promise<number | undefined> {
    let count = 0;
    for (const worker of workers) {
      // A worker that has left answers "Can't find the target PID", which lists no stream.
      const sessions = await sendSocketCommand(this.#files.masterSocket, `@!${worker} show sess`, 1_000).catch(
        () => undefined,
      );
      if (sessions === undefined) return undefined;
      count += sessions.split('\n').filter((line) => line.includes(` fe=${FRONTEND} `)).length;
    }
    return count;
  }

  async logTail(lines = 20): Promise<string> {
    const text = await readFile(this.#files.log, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** A worker answers on the runtime API and the master on its CLI. */
  async #serving(): Promise<boolean> {
    try {
      await sendSocketCommand(this.#files.runtimeSocket, 'show info', 1_000);
      return (await this.#master.processes()).workers.length > 0;
    } catch {
      return false;
    }
  }

  async #removeRunFiles(): Promise<void> {
    for (const file of [this.#files.pid, this.#files.runtimeSocket, this.#files.masterSocket])
      await rm(file, { force: true });
  }
}

async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}

/** HAProxy was started detached, so its master leads a process group that holds the workers. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    signal(pid, 'SIGKILL');
  }
}
