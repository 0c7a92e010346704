import type * as IORedis from 'ioredis';
import { requireDriver } from '../../util/lazy-require.js';
import { scrub } from '../outgoing-call.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import { redisForCall } from './redis-call-proxy.js';
import type { RedisClient } from './redis-client.js';
import { redisDown, toRedisError } from './redis-errors.js';
import { redisConnectionKind, type RedisConnectionConfig } from './redis-kind.js';

const TYPE = 'outgoing.redis';

/** Redis over ioredis: one client per worker, shared by the services on it. */
export const redisConnectionType: OutgoingConnectionType<RedisConnectionConfig, RedisClient> = {
  kind: redisConnectionKind,
  create(config, context) {
    const { Redis } = requireDriver<typeof IORedis>('ioredis');
    const label = `${redisConnectionKind.label} ${context.name}`;
    const redis = new Redis({
      host: config.host,
      port: config.port,
      db: config.db,
      username: config.username,
      password: config.password,
      keyPrefix: config.key_prefix,
      connectTimeout: config.connect_timeout,
      // Set when the command is made, so it also bounds any wait in the offline queue.
      commandTimeout: config.command_timeout,
      // A command made while the first reconnect after a drop is pending waits for it in the
      // offline queue (a blip costs nothing); when that attempt fails, the queue is failed too.
      // Commands in flight when the connection drops fail rather than being sent twice.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      connectionName: `viaduct:${context.name}`,
      // retryStrategy stays ioredis's: 50 ms doubling to 5 s plus up to 0.2 s of jitter, for ever.
    });

    // 'reconnecting' comes once for the drop itself and once more for every attempt that failed.
    let reconnectsSinceReady = 0;
    let lastError = 'not connected yet';
    let errors = 0;
    redis.on('reconnecting', () => (reconnectsSinceReady += 1));
    // Without an 'error' listener ioredis prints every failed attempt to stderr; the first one is news, the rest repeat it.
    redis.on('error', (error: Error) => {
      errors += 1;
      lastError = scrub(error.message);
      context.logger[errors === 1 ? 'warn' : 'debug'](
        { reason: lastError, errors },
        'Redis connection error; reconnecting',
      );
    });
    redis.on('ready', () => {
      if (errors > 0) context.logger.info({ errors }, 'Redis connection restored');
      reconnectsSinceReady = 0;
      errors = 0;
      // What went wrong before no longer explains a failure: a refused login that was mended, say.
      lastError = 'the connection closed';
    });
    const assertReachable = (): void => {
      if (redis.status !== 'ready' && reconnectsSinceReady >= 2) {
        throw redisDown(label, lastError);
      }
    };

    const commands = new Set(redis.getBuiltinCommands());
    return {
      client: (call) =>
        redisForCall(redis, {
          call,
          type: TYPE,
          name: context.name,
          label,
          commands,
          assertReachable,
          lastError: () => lastError,
        }),
      ping: async () => {
        assertReachable();
        try {
          await redis.ping();
        } catch (error) {
          throw toRedisError(error, label, lastError);
        }
      },
      async close() {
        // QUIT is answered after the replies to everything sent before it; a Redis that is away must not hold us.
        const quit = redis.quit().catch(() => undefined);
        await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, config.command_timeout).unref())]);
        redis.disconnect();
      },
    };
  },
};
