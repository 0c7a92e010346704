import type { Logger } from 'pino';
import { LbSupervisor } from '../lb/index.js';
import { environmentLoadBalancer } from '../lb/environment-load-balancer.js';
import type { Odb } from '../odb/database.js';
import { liveServers } from './cluster-presence.js';
import type { EnvironmentConfig, EnvironmentPaths } from '../config/environment.js';

/** Starts the environment's load balancer in front of the servers its config lists. */
export async function startLoadBalancer(
  paths: EnvironmentPaths,
  config: EnvironmentConfig,
): Promise<{ pid: number; alreadyRunning: boolean } | undefined> {
  if (config.lb === undefined) return undefined;
  return environmentLoadBalancer(paths).start({
    bind: { host: config.lb.host, port: config.lb.port },
    adminApi: config.lb.admin_api,
    servers: config.servers.map((s) => ({
      name: s.name,
      host: s.host === '0.0.0.0' ? '127.0.0.1' : s.host,
      port: s.port,
    })),
  });
}

/**
 * Keeps the load balancer's servers equal to the cluster's live servers in the ODB, so a server
 * that joins (viaduct create server) or leaves is added or removed without a reload.
 */
export function superviseLoadBalancer(
  paths: EnvironmentPaths,
  config: EnvironmentConfig,
  db: Odb,
  logger: Logger,
): LbSupervisor | undefined {
  if (config.lb === undefined) return undefined;
  const stale = config.singleton.stale_after_ms;
  const supervisor = new LbSupervisor({
    loadBalancer: environmentLoadBalancer(paths),
    servers: async () =>
      (await liveServers(db, stale)).map((s) => ({
        name: s.name,
        host: s.host === '0.0.0.0' ? '127.0.0.1' : s.host,
        port: s.port,
      })),
    logger,
  });
  supervisor.start();
  return supervisor;
}
