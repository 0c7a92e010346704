import { formatAddress, type LbServer } from './lb-server.js';

/** How often and how strictly HAProxy checks each server's GET /viaduct/ping. */
export interface HealthCheckSettings {
  /** Between two checks of a server whose state is settled. */
  readonly intervalMs: number;
  /** Between checks while a server is changing state (after a first failure or success). */
  readonly fastIntervalMs: number;
  /** Consecutive failed checks that take a server out. */
  readonly fall: number;
  /** Consecutive passed checks that bring it back. */
  readonly rise: number;
}

/**
 * A dead server is out within about fastIntervalMs + intervalMs (≤ 750 ms); two failures, not
 * one, so a single slow answer from a busy worker does not take a healthy server out. One pass
 * brings a server back: a Viaduct server answers /viaduct/ping only once its workers serve.
 * In the time a dead server is still in, L7 retries send its requests elsewhere.
 */
export const DEFAULT_HEALTH_CHECK: HealthCheckSettings = { intervalMs: 500, fastIntervalMs: 250, fall: 2, rise: 1 };

/**
 * The arguments of a server, the same for a `server` line in haproxy.cfg and for
 * `add server` on the runtime API: a server added at run time inherits nothing from
 * `default-server`, so one function writes both and they cannot drift apart.
 */
export function serverArguments(server: LbServer, health: HealthCheckSettings): string {
  return [
    server.name,
    formatAddress(server.host, server.port),
    'check',
    `inter ${health.intervalMs}ms`,
    `fastinter ${health.fastIntervalMs}ms`,
    `fall ${health.fall}`,
    `rise ${health.rise}`,
    // Keep idle connections to the server for reuse; a dynamic server has no pool otherwise.
    'pool-max-conn -1',
    'pool-purge-delay 5s',
  ].join(' ');
}
