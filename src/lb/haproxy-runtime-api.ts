import { ViaductError } from '../errors.js';
import { BACKEND } from './haproxy-config.js';
import { serverArguments, type HealthCheckSettings } from './haproxy-server-line.js';
import { validateEndpoint, validateLbServers, validateServerName, type LbServer } from './lb-server.js';
import { parseShowStat, type LbServerStatus } from './server-status.js';
import { sendSocketCommand } from './unix-socket-command.js';

/** The admin states one can set on a server; `ready` puts a drained or maintained one back. */
export type AdminState = 'ready' | 'drain' | 'maint';

/**
 * HAProxy's runtime API (the stats socket, level admin) for the servers of Viaduct's backend.
 * Nothing here reloads HAProxy: every change applies to the running worker at once and never
 * touches an established connection.
 */
export class HaproxyRuntimeApi {
  readonly #socket: string;

  constructor(socketPath: string) {
    this.#socket = socketPath;
  }

  /** Sends one raw command and returns HAProxy's answer. */
  command(line: string): Promise<string> {
    return sendSocketCommand(this.#socket, line);
  }

  async servers(): Promise<LbServerStatus[]> {
    return parseShowStat(await this.command(`show stat ${BACKEND} 4 -1`));
  }

  /** `show servers state`: the dump a new worker reads back after a reload. */
  serversStateDump(): Promise<string> {
    return this.command(`show servers state ${BACKEND}`);
  }

  /** No new requests; those under way finish; health checks go on. */
  drain(name: string): Promise<void> {
    return this.setState(name, 'drain');
  }

  /** New requests again (leaves drain or maintenance). */
  ready(name: string): Promise<void> {
    return this.setState(name, 'ready');
  }

  async setState(name: string, state: AdminState): Promise<void> {
    await this.#expectSilence(`set server ${target(name)} state ${state}`);
  }

  /** Points a server at a new address; connections already open to the old one stay open. */
  async setAddress(name: string, host: string, port: number): Promise<void> {
    validateEndpoint(`server ${name}`, host, port);
    const answer = await this.command(`set server ${target(name)} addr ${host} port ${port}`);
    // HAProxy confirms with "IP changed from ... to ..." or "no need to change the addr".
    if (!/changed|no need/i.test(answer)) throw commandFailed(`set server ${target(name)} addr`, answer);
  }

  /**
   * Adds a server. It starts with its health check failed and takes requests once its first
   * check passes, so a server that is listed but not yet listening gets nothing.
   */
  async addServer(server: LbServer, health: HealthCheckSettings): Promise<void> {
    validateLbServers([server]);
    const answer = await this.command(`add server ${BACKEND}/${serverArguments(server, health)}`);
    if (!answer.includes('New server registered')) throw commandFailed(`add server ${target(server.name)}`, answer);
    await this.#expectSilence(`enable health ${target(server.name)}`);
    await this.readyAfterCheck(server.name);
  }

  /**
   * Ready, but with the health check counted as failed, so the server gets requests only once
   * its next check passes (within one check interval). For a server that is new or may have
   * changed while it was out.
   */
  async readyAfterCheck(name: string): Promise<void> {
    // One command line: HAProxy applies both in the same call, back to back.
    await this.#expectSilence(`set server ${target(name)} state ready; set server ${target(name)} health down`);
  }

  /**
   * Deletes a server: puts it in maintenance (no new requests; idle connections to it close;
   * requests under way go on), then deletes it if no connection is left. Returns false while
   * requests are still under way: call again later.
   */
  async removeServer(name: string): Promise<boolean> {
    // Passing through drain makes "maint" a change even for a server already in maintenance;
    // only entering maintenance closes the idle connections that would block the deletion.
    await this.setState(name, 'drain');
    await this.setState(name, 'maint');
    const answer = await this.command(`del server ${target(name)}`);
    if (answer.includes('Server deleted')) return true;
    if (answer.includes('still has connections')) return false;
    throw commandFailed(`del server ${target(name)}`, answer);
  }

  async #expectSilence(line: string): Promise<void> {
    // A successful change answers with an empty line; anything else is HAProxy's reason.
    const answer = await this.command(line);
    if (answer.trim() !== '') throw commandFailed(line, answer);
  }
}

/** BACKEND/NAME, for a name that cannot smuggle a second command into the line. */
function target(name: string): string {
  validateServerName(name);
  return `${BACKEND}/${name}`;
}

function commandFailed(line: string, answer: string): ViaductError {
  const reason = answer.trim();
  if (/no such server/i.test(reason))
    return new ViaductError(
      'VIA_ERR_OBJECT_NOT_FOUND',
      `The load balancer has no such server: '${line}' answered '${reason}'`,
    );
  return new ViaductError('VIA_ERR_INTERNAL', `HAProxy refused '${line}': ${reason}`);
}
