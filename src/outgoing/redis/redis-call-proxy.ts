import type { Redis } from 'ioredis';
import { ViaductError } from '../../errors.js';
import { outgoingCall } from '../outgoing-call.js';
import type { CallContext } from '../outgoing-connection.js';
import { toRedisError } from './redis-errors.js';

/** What one service invocation's view of the shared client needs to log and code its calls. */
export interface RedisCallScope {
  readonly call: CallContext;
  readonly type: string;
  readonly name: string;
  /** For messages: 'Redis connection cache'. */
  readonly label: string;
  /** Redis command names, lower case, as ioredis's methods are named. */
  readonly commands: ReadonlySet<string>;
  /** Throws the coded error when Redis is known to be away, so that calls fail at once instead of queueing. */
  readonly assertReachable: () => void;
  /** The last connection error the client saw, scrubbed: why a command queued while it connected failed. */
  readonly lastError: () => string;
}

/**
 * Commands that would change the one connection every service on the worker shares: another
 * database, another user or protocol, subscriber or monitor mode, or closing it. A service that
 * needs one of them takes its own connection with duplicate().
 */
const REFUSED = new Set([
  'quit',
  'disconnect',
  'end',
  'connect',
  'select',
  'auth',
  'hello',
  'reset',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
]);

type Callback = (error: Error | null, result?: unknown) => void;
type AnyFunction = (...args: unknown[]) => unknown;

/**
 * The shared ioredis client as one invocation sees it: every command, pipeline and transaction
 * goes through outgoingCall (logged with the cid, errors coded); everything else is the client's own.
 */
export function redisForCall(redis: Redis, scope: RedisCallScope): Redis {
  return new Proxy(redis, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof property !== 'string' || typeof value !== 'function') return value;
      const method = value as AnyFunction;
      const command = property.endsWith('Buffer') ? property.slice(0, -'Buffer'.length) : property;
      if (REFUSED.has(command)) return () => Promise.reject(refused(command, scope));
      if (command === 'pipeline' || command === 'multi') {
        return (...args: unknown[]) => batchForCall(method.apply(target, args), command, scope);
      }
      if (command === 'call') {
        return (...args: unknown[]) => {
          const named = String(args[0]).toLowerCase();
          return REFUSED.has(named)
            ? Promise.reject(refused(named, scope))
            : run(scope, named, args, (rest) => method.apply(target, rest));
        };
      }
      if (scope.commands.has(command))
        return (...args: unknown[]) => run(scope, command, args, (rest) => method.apply(target, rest));
      return method.bind(target);
    },
  });
}

/** A pipeline or MULTI: the commands queue up locally; exec() is the one outgoing call. */
function batchForCall(batch: unknown, operation: string, scope: RedisCallScope): unknown {
  // multi({ pipeline: false }) sends MULTI at once and gives a promise, not a batch.
  if (batch === null || typeof batch !== 'object' || typeof (batch as { exec?: unknown }).exec !== 'function')
    return batch;
  const proxy: object = new Proxy(batch, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as AnyFunction;
      if (property === 'exec') return (...args: unknown[]) => run(scope, operation, args, () => method.call(target));
      // Chained calls return the batch itself: hand back the proxy so that exec() stays covered.
      return (...args: unknown[]) => {
        const result = method.apply(target, args);
        return result === target ? proxy : result;
      };
    },
  });
  return proxy;
}

/** One command through outgoingCall. A trailing callback gets the coded error too. */
function run(
  scope: RedisCallScope,
  operation: string,
  args: unknown[],
  send: (args: unknown[]) => unknown,
): Promise<unknown> {
  const rest = [...args];
  const callback = typeof rest.at(-1) === 'function' ? (rest.pop() as Callback) : undefined;
  const result = outgoingCall(scope.call, scope.type, scope.name, operation, async () => {
    scope.assertReachable();
    try {
      return await send(rest);
    } catch (error) {
      throw toRedisError(error, scope.label, scope.lastError());
    }
  });
  if (callback !== undefined) {
    // Callback style: the caller does not await the promise, so its rejection must not go unhandled.
    result.then(
      (value) => callback(null, value),
      (error: Error) => callback(error),
    );
  }
  return result;
}

function refused(command: string, scope: RedisCallScope): ViaductError {
  return new ViaductError(
    'VIA_ERR_OUTGOING_FAILED',
    `${scope.label}: ${command.toUpperCase()} would change the connection every service on this worker shares; use duplicate() for a connection of your own (and close it)`,
  );
}
