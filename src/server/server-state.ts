import type { ServerConfig } from '../config/environment.js';
import type { ServerInfo } from '../feature/server-info.js';
import type { RunFile } from './run-file.js';

/** What the primary knows of its server at one moment. */
export interface ServerState {
  readonly server: ServerConfig;
  readonly cluster: string;
  readonly startedAt: Date;
  readonly workers: RunFile['workers'];
  readonly singleton: RunFile['singleton'];
}

/** The server as the admin API shows it (`viaduct.server.get-info`), asked for by a worker. */
export function serverInfoOf(state: ServerState): ServerInfo {
  return {
    server: state.server.name,
    cluster: state.cluster,
    host: state.server.host,
    port: state.server.port,
    primaryPid: process.pid,
    workers: state.workers,
    startedAt: state.startedAt.toISOString(),
    singleton: state.singleton,
    uptimeSeconds: Math.round((Date.now() - state.startedAt.getTime()) / 1000),
  };
}
