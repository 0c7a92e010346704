import type * as IoRedis from 'ioredis';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { setTimeout as delay } from 'node:timers/promises';
import { ViaductError } from '../../errors.js';
import { requireDriver } from '../../util/lazy-require.js';

export type ConnectionRole = 'command' | 'subscriber' | 'reader';

/** A member's three connections: a subscribed one and a blocked reader can do nothing else. */
export type RedisConnections = Readonly<Record<ConnectionRole, Redis>>;

export interface ConnectOptions {
  readonly url: string;
  /** Shown in CLIENT LIST, so an operator can tell whose connection is whose. */
  readonly name: string;
  readonly reconnectMaxMs: number;
  /**
   * A connection that has a command unanswered and hears nothing from Redis for this long is
   * dropped and made again: a Redis (or a network) that fell silent while the socket stayed open.
   * Longer than a blocking read's wait, which is answered only at its end.
   */
  readonly silentAfterMs: number;
  readonly logger: Logger;
  /** Called when a connection is ready again after it was lost (not on the first connection). */
  readonly onReconnect: (role: ConnectionRole) => void;
}

const ROLES: readonly ConnectionRole[] = ['command', 'subscriber', 'reader'];

/** Connections being closed on purpose: their closing is no outage to report. */
const closing = new WeakSet<Redis>();

/** Opens the three connections; fails with the reason if Redis cannot be reached now. */
export async function openConnections(options: ConnectOptions): Promise<RedisConnections> {
  const { Redis: RedisClass } = requireDriver<typeof IoRedis>('ioredis');
  const connections = Object.fromEntries(
    ROLES.map((role) => {
      const redis = new RedisClass(options.url, {
        lazyConnect: true,
        connectionName: `${options.name}:${role}`,
        // While Redis is away, commands wait for it instead of failing: a dispatch or an ack sent
        // during an outage goes out once it is back. Callers bound the wait with their own timeouts.
        maxRetriesPerRequest: null,
        // The broker subscribes again itself, so it knows when the subscription is live.
        autoResubscribe: false,
        retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 16), options.reconnectMaxMs),
        // Without it, a silent Redis keeps every command waiting for ever, and the answers that
        // were lost meanwhile would pair each later command with the answer to another.
        socketTimeout: options.silentAfterMs,
      });
      watch(redis, role, options);
      return [role, redis];
    }),
  ) as Record<ConnectionRole, Redis>;
  try {
    await Promise.all(ROLES.map((role) => connections[role].connect()));
  } catch (error) {
    for (const role of ROLES) connections[role].disconnect();
    throw new ViaductError(
      'VIA_ERR_SERVICE_UNAVAILABLE',
      `The Redis broker cannot reach ${redactUrl(options.url)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return connections;
}

/** Quits each connection, or drops it if Redis does not answer within `graceMs`. */
export async function closeConnections(connections: RedisConnections, graceMs: number): Promise<void> {
  await Promise.all(
    ROLES.map(async (role) => {
      const redis = connections[role];
      closing.add(redis);
      if (redis.status === 'ready') await within(redis.quit(), graceMs);
      redis.disconnect();
    }),
  );
}

/** Drops one connection at once, on purpose (a blocked read that must end now). */
export function dropConnection(redis: Redis): void {
  closing.add(redis);
  redis.disconnect();
}

/** Waits for `promise` at most `ms`; its failure, then or later, is nobody's concern. */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  promise.catch(() => undefined);
  await Promise.race([promise.catch(() => undefined), delay(ms, undefined, { ref: false })]);
}

/** Logs once per outage rather than once per retry, and reports each recovery. */
function watch(redis: Redis, role: ConnectionRole, options: ConnectOptions): void {
  let connected = false;
  let lost = false;
  redis.on('ready', () => {
    connected = true;
    if (!lost) return;
    lost = false;
    options.logger.info({ connection: role }, 'Reconnected to the Redis broker');
    options.onReconnect(role);
  });
  redis.on('close', () => {
    if (!connected || lost || closing.has(redis)) return;
    lost = true;
    options.logger.warn({ connection: role }, 'Lost the connection to the Redis broker; reconnecting');
  });
  redis.on('error', (error: Error) =>
    options.logger.debug({ connection: role, reason: error.message }, 'Redis broker connection error'),
  );
}

/** The URL without its password, fit for a log or an error message. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}
