import { sendSocketCommand } from './unix-socket-command.js';

/** The processes of a master-worker HAProxy, from the master CLI's `show proc`. */
export interface HaproxyProcesses {
  readonly masterPid: number;
  readonly reloads: number;
  readonly failedReloads: number;
  /** Serving the current configuration. */
  readonly workers: readonly number[];
  /** Finishing the requests they had when a reload or soft stop began. */
  readonly oldWorkers: readonly number[];
}

/** The master CLI (`haproxy -W -S SOCKET`): supervision of the master and its workers. */
export class HaproxyMasterCli {
  readonly #socket: string;

  constructor(socketPath: string) {
    this.#socket = socketPath;
  }

  async processes(): Promise<HaproxyProcesses> {
    return parseShowProc(await sendSocketCommand(this.#socket, 'show proc'));
  }

  /**
   * Asks the master to reload: it re-reads the config and starts a new worker, which takes the
   * listening sockets over; the old worker finishes its requests and leaves. The master closes
   * this connection without an answer, so success shows only in a later `processes()`.
   */
  async reload(): Promise<void> {
    await sendSocketCommand(this.#socket, 'reload');
  }
}

export function parseShowProc(text: string): HaproxyProcesses {
  let section: 'master' | 'workers' | 'old' | 'other' = 'master';
  let master: { pid: number; reloads: number; failed: number } | undefined;
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      if (/^# workers/.test(line)) section = 'workers';
      else if (/^# old workers/.test(line)) section = 'old';
      else if (/^# /.test(line)) section = 'other';
      continue;
    }
    const pid = Number(/^(\d+)\s/.exec(line)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (section === 'master') {
      const counts = /master\s+(\d+)\s+\[failed:\s*(\d+)\]/.exec(line);
      master = { pid, reloads: Number(counts?.[1] ?? 0), failed: Number(counts?.[2] ?? 0) };
    } else if (section === 'workers') {
      workers.push(pid);
    } else if (section === 'old') {
      oldWorkers.push(pid);
    }
  }
  if (master === undefined) throw new Error(`Not a 'show proc' answer: ${text.slice(0, 200)}`);
  return { masterPid: master.pid, reloads: master.reloads, failedReloads: master.failed, workers, oldWorkers };
}
