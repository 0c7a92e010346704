import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ViaductError } from '../errors.js';
import type { LbServer } from './lb-server.js';

/**
 * The servers with each host name replaced by its address. HAProxy does not resolve the name
 * of a server added at run time, and it shows servers by address, so names are resolved here
 * once, the way Node resolves a host it listens on (the first address).
 */
export async function resolveServers(servers: readonly LbServer[]): Promise<LbServer[]> {
  return Promise.all(servers.map(async (server) => ({ ...server, host: await resolveHost(server.host, server.name) })));
}

async function resolveHost(host: string, name: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (error) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `The host ${host} of server ${name} cannot be resolved: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
