import path from 'node:path';
import { ViaductError } from '../errors.js';

/** Everything the load balancer keeps in its run directory. */
export interface HaproxyFiles {
  readonly runDir: string;
  /** The generated haproxy.cfg; rewritten whenever the set of servers changes. */
  readonly config: string;
  /** The settings the config was generated from, so any process can regenerate it. */
  readonly settings: string;
  /** The master's pid, written by HAProxy itself. */
  readonly pid: string;
  /** The runtime API of the current worker (level admin). */
  readonly runtimeSocket: string;
  /** The master CLI: reload and the list of processes. */
  readonly masterSocket: string;
  /** Server states saved before a reload and read back by the new worker. */
  readonly serverState: string;
  /** HAProxy's stderr: its notices, alerts and one line per request. */
  readonly log: string;
}

/** sockaddr_un holds 108 bytes with the terminating NUL on Linux (104 on macOS). */
const MAX_SOCKET_PATH = 103;

export function haproxyFiles(runDir: string, logFile?: string): HaproxyFiles {
  const dir = path.resolve(runDir);
  // A config line takes a path in single quotes and the master CLI option is comma-separated,
  // so neither character can be part of the path.
  if (/[',\n\r]/.test(dir)) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `The load balancer cannot use a run directory whose path has a quote, a comma or a line break: ${dir}`,
    );
  }
  const files: HaproxyFiles = {
    runDir: dir,
    config: path.join(dir, 'haproxy.cfg'),
    settings: path.join(dir, 'haproxy-settings.json'),
    pid: path.join(dir, 'haproxy.pid'),
    runtimeSocket: path.join(dir, 'haproxy.sock'),
    masterSocket: path.join(dir, 'haproxy-master.sock'),
    serverState: path.join(dir, 'haproxy.state'),
    log: logFile === undefined ? path.join(dir, 'haproxy.log') : path.resolve(logFile),
  };
  for (const socket of [files.runtimeSocket, files.masterSocket]) {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      throw new ViaductError(
        'VIA_ERR_ENV_CONFIG',
        `The path ${socket} is too long for a unix socket (at most ${MAX_SOCKET_PATH} bytes); use a shorter run directory`,
      );
    }
  }
  return files;
}
