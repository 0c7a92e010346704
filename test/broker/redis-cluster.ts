import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { RedisBroker } from '../../src/broker/redis/redis-broker.js';
import type { RedisBrokerOptions } from '../../src/broker/redis/redis-broker-options.js';
import { redisKeys, type RedisKeys } from '../../src/broker/redis/redis-keys.js';
import { createLogger } from '../../src/log.js';
import type { BrokerCluster } from '../conformance/broker.js';

export const REDIS_PORT = 6379;
export const redisUrl = (port = REDIS_PORT): string => `redis://127.0.0.1:${port}`;

/** Timings short enough for tests: dead after 0.6 s, taken over after 0.6 s idle. */
export const FAST: RedisBrokerOptions = {
  heartbeatMs: 100,
  deadAfterMs: 600,
  claimIdleMs: 600,
  reconnectMaxMs: 100,
  closeGraceMs: 300,
  blockMs: 500,
  timeoutMs: 8000,
};

/** Silent unless VIADUCT_TEST_LOGS=1, as in the other runtime tests. */
export const testLogger =
  process.env.VIADUCT_TEST_LOGS === '1' ? createLogger({ name: 'test' }) : pino({ level: 'silent' });

/** A direct connection for a test to look at (or wreck) a cluster's keys, bypassing any proxy. */
export function adminConnection(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
}

export interface RedisTestCluster extends BrokerCluster {
  readonly brokers: readonly RedisBroker[];
  readonly keys: RedisKeys;
  /** The direct connection, closed with the cluster. */
  readonly admin: Redis;
}

/**
 * `workers` Redis brokers of one new cluster (a random name, so concurrent runs never meet),
 * each reaching Redis through `urlOf(worker)`. close() closes them and deletes the cluster's keys.
 */
export function redisCluster(
  workers: number,
  options: { urlOf?: (worker: number) => string; broker?: RedisBrokerOptions } = {},
): RedisTestCluster {
  const cluster = `test-${randomBytes(6).toString('hex')}`;
  const brokers = Array.from(
    { length: workers },
    (_, worker) =>
      new RedisBroker(options.urlOf?.(worker) ?? redisUrl(), { cluster, server: 'test', worker }, testLogger, {
        ...FAST,
        ...options.broker,
      }),
  );
  const admin = adminConnection();
  const keys = redisKeys(cluster);
  return {
    brokers,
    keys,
    admin,
    async close() {
      await Promise.all(brokers.map((b) => b.close()));
      const left = await admin.keys(`viaduct:${cluster}:*`);
      if (left.length > 0) await admin.del(...left);
      admin.disconnect();
    },
  };
}

/** A handler that never finishes, as in a member stuck in a job or cut off; released when the test ends. */
export function hang(t: TestContext): Promise<never> {
  let release!: () => void;
  const hung = new Promise<never>((_, reject) => (release = () => reject(new Error('released'))));
  hung.catch(() => undefined);
  t.after(() => release());
  return hung;
}
