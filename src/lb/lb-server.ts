import { ViaductError } from '../errors.js';

/** One Viaduct server as the load balancer sees it: where to send requests. */
export interface LbServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/**
 * The names HAProxy accepts for a server and that need no quoting on a runtime API command line.
 * It is the rule viaduct.yaml applies to server names, so every configured server fits.
 */
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** An IPv4/IPv6 address or a host name: nothing that could end a config or command line early. */
const HOST = /^[A-Za-z0-9.:_-]{1,253}$/;

/** Checks a list of servers before it reaches a config file or the runtime API. */
export function validateLbServers(servers: readonly LbServer[]): void {
  const seen = new Set<string>();
  for (const server of servers) {
    validateServerName(server.name);
    if (seen.has(server.name)) throw new ViaductError('VIA_ERR_ENV_CONFIG', `Two servers are called '${server.name}'`);
    seen.add(server.name);
    validateEndpoint(`server ${server.name}`, server.host, server.port);
  }
}

export function validateServerName(name: string): void {
  if (!SERVER_NAME.test(name)) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `The load balancer cannot use the server name '${name}': use letters, digits, '_' and '-'`,
    );
  }
}

export function validateEndpoint(what: string, host: string, port: number): void {
  if (!HOST.test(host))
    throw new ViaductError('VIA_ERR_ENV_CONFIG', `The ${what} has a host the load balancer cannot use: '${host}'`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `The ${what} has the port ${port}; a port is a whole number from 1 to 65535`,
    );
  }
}

/** host:port as HAProxy writes it, IPv6 addresses in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
