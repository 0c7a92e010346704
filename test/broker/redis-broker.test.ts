import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { BrokerMessage } from '../../src/broker/broker.js';
import { RedisBroker } from '../../src/broker/redis/redis-broker.js';
import { BROKER_RESYNC } from '../../src/broker/redis/redis-protocol.js';
import { BROKER_TEST, runBrokerConformance, startCluster } from '../conformance/broker.js';
import { freePort, serverReachable } from '../helpers/env.js';
import { FAST, hang, REDIS_PORT, redisCluster, redisUrl, testLogger } from './redis-cluster.js';

const skip = await serverReachable('Redis', REDIS_PORT);

if (skip !== undefined) {
  test('redis broker', { skip }, () => undefined);
} else {
  runBrokerConformance('redis', async (workers) => redisCluster(workers));

  describe('redis broker', () => {
    test("clusters sharing one Redis do not see each other's messages", BROKER_TEST, async (t) => {
      const seen: Array<[string, BrokerMessage]> = [];
      const [a] = await startCluster(
        t,
        async (n) => redisCluster(n),
        1,
        () => async (m) => void seen.push(['a', m]),
      );
      const [b] = await startCluster(
        t,
        async (n) => redisCluster(n),
        1,
        () => async (m) => (seen.push(['b', m]), 'from b'),
      );
      await a!.broadcast({ action: 'isolation.broadcast' });
      assert.equal(await b!.dispatch({ action: 'isolation.dispatch' }), 'from b');
      await delay(100);
      assert.deepEqual(seen, [
        ['a', { action: 'isolation.broadcast' }],
        ['b', { action: 'isolation.dispatch' }],
      ]);
    });

    test(
      'a broadcast that a living member never acknowledges fails with VIA_ERR_CONFIG_APPLY naming how many',
      BROKER_TEST,
      async (t) => {
        const cluster = redisCluster(3, { broker: { timeoutMs: 700 } });
        const brokers = await startCluster(
          t,
          async () => cluster,
          3,
          (worker) => (worker === 0 ? async () => undefined : () => hang(t)),
        );
        await assert.rejects(brokers[0]!.broadcast({ action: 'redis.stuck' }), {
          name: 'ViaductError',
          code: 'VIA_ERR_CONFIG_APPLY',
          message: /No acknowledgement from 2 member\(s\) within 700 ms/,
        });
      },
    );

    test('a handler slower than the take-over time keeps its message: nobody else runs it', BROKER_TEST, async (t) => {
      const calls: number[] = [];
      // A second of slack: on a loaded machine one process's timers can all fire late together.
      const claimIdleMs = 1000;
      const brokers = await startCluster(
        t,
        async (n) => redisCluster(n, { broker: { claimIdleMs } }),
        3,
        (worker) => async (message) => {
          calls.push(worker);
          // Well past claimIdleMs: without the heartbeat refreshing the entry, another member would take it.
          await delay(2.5 * claimIdleMs);
          return message.n;
        },
      );
      assert.equal(await brokers[0]!.dispatch({ action: 'redis.slow', n: 7 }), 7);
      await delay(200);
      assert.equal(calls.length, 1, `handled by ${calls.join(', ')}`);
    });

    test('several failures come back as one VIA_ERR_CONFIG_APPLY with each in details', BROKER_TEST, async (t) => {
      const brokers = await startCluster(
        t,
        async (n) => redisCluster(n),
        3,
        (worker) => async () => {
          if (worker > 0) throw new Error(`worker ${worker} broke`);
        },
      );
      const error = await brokers[0]!.broadcast({ action: 'redis.fail-twice' }).then(
        () => undefined,
        (e: unknown) => e as { code: string; details: Array<{ code: string }> },
      );
      assert.equal(error?.code, 'VIA_ERR_CONFIG_APPLY');
      assert.deepEqual(
        error.details.map((d) => d.code),
        ['VIA_ERR_INTERNAL', 'VIA_ERR_INTERNAL'],
      );
    });

    test(
      'close() rejects what is still waiting, deregisters, and leaves the others working',
      BROKER_TEST,
      async (t) => {
        const cluster = redisCluster(2);
        const handled: Array<BrokerMessage> = [];
        const brokers = await startCluster(
          t,
          async () => cluster,
          2,
          (worker) => (worker === 0 ? async (m) => void handled.push(m) : () => hang(t)),
        );
        // Worker 1's own handler hangs, so its broadcast stays pending.
        const pending = brokers[1]!.broadcast({ action: 'redis.never' });
        await delay(50);
        assert.ok((await cluster.admin.zscore(cluster.keys.members, cluster.brokers[1]!.member)) !== null);
        const rejected = assert.rejects(pending, { name: 'ViaductError', code: 'VIA_ERR_SERVICE_UNAVAILABLE' });
        await brokers[1]!.close();
        await rejected;
        assert.equal(await cluster.admin.zscore(cluster.keys.members, cluster.brokers[1]!.member), null);
        await assert.rejects(brokers[1]!.dispatch({ action: 'redis.after-close' }), {
          code: 'VIA_ERR_SERVICE_UNAVAILABLE',
        });
        // The one left needs no one else: its broadcast does not wait for the member that left.
        await brokers[0]!.broadcast({ action: 'redis.alone' });
        assert.equal(await brokers[0]!.dispatch({ action: 'redis.alone' }), undefined);
        assert.ok(
          handled.every((m) => m.action !== BROKER_RESYNC),
          'no resync without a reconnection',
        );
      },
    );

    test('close() during start() stops it: the start fails and the member never joins', BROKER_TEST, async () => {
      const cluster = redisCluster(1);
      const broker = cluster.brokers[0]!;
      const starting = broker.start(async () => undefined);
      const failed = assert.rejects(starting, {
        name: 'ViaductError',
        code: 'VIA_ERR_SERVICE_UNAVAILABLE',
        message: /closed while it was starting/,
      });
      await broker.close();
      await failed;
      await delay(300);
      assert.equal(await cluster.admin.zcard(cluster.keys.members), 0);
      await cluster.close();
    });

    test('start() fails with a clear error when Redis cannot be reached', BROKER_TEST, async () => {
      const port = await freePort();
      const broker = new RedisBroker(
        redisUrl(port),
        { cluster: 'unreachable', server: 's', worker: 0 },
        testLogger,
        FAST,
      );
      await assert.rejects(
        broker.start(async () => undefined),
        {
          name: 'ViaductError',
          code: 'VIA_ERR_SERVICE_UNAVAILABLE',
          message: new RegExp(`cannot reach redis://127\\.0\\.0\\.1:${port}`),
        },
      );
      await broker.close();
    });
  });
}
