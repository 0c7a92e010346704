import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { BrokerMessage } from '../../src/broker/broker.js';
import { BROKER_RESYNC } from '../../src/broker/redis/redis-protocol.js';
import { startCluster } from '../conformance/broker.js';
import { serverReachable, waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { FAST, hang, REDIS_PORT, redisCluster, redisUrl } from './redis-cluster.js';

/*
 * Members dying and Redis going away. The machine's Redis is shared with other tests, so it is
 * never restarted: a TCP proxy between some brokers and Redis is cut instead, and "Redis
 * restarted and lost everything" is the proxy down while the cluster's keys are deleted.
 */

const skip = await serverReachable('Redis', REDIS_PORT);
const FAILOVER_TEST = { timeout: 20_000 } as const;

/** A proxy to the real Redis, stopped when the test ends. */
async function proxy(t: TestContext): Promise<TcpProxy> {
  const tcp = new TcpProxy('127.0.0.1', REDIS_PORT);
  await tcp.start();
  t.after(() => tcp.stop());
  return tcp;
}

describe('redis broker failover', { skip }, () => {
  test(
    'a broadcast while Redis has fallen silent fails with its timeout, and leaves no unhandled rejection',
    FAILOVER_TEST,
    async (t) => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      t.after(() => process.off('unhandledRejection', onUnhandled));
      const tcp = await proxy(t);
      const cluster = redisCluster(2, {
        urlOf: (worker) => redisUrl(worker === 0 ? tcp.port : REDIS_PORT),
        broker: { timeoutMs: 1500 },
      });
      const brokers = await startCluster(
        t,
        async () => cluster,
        2,
        () => async () => 'ok',
      );
      // The connection stays open and Redis's answers are dropped: every command waits.
      tcp.silence(true);
      const started = Date.now();
      await assert.rejects(brokers[0]!.broadcast({ action: 'silent.change' }), {
        code: 'VIA_ERR_CONFIG_APPLY',
        message: /Redis did not answer within 1500 ms/,
      });
      assert.ok(Date.now() - started < 5000, `the caller waited ${Date.now() - started} ms`);
      await delay(300);
      assert.deepEqual(unhandled, []);
      tcp.silence(false);
    },
  );

  test(
    'a member that dies while handling a dispatch has its message handled by another member',
    FAILOVER_TEST,
    async (t) => {
      const tcp = await proxy(t);
      // Worker 0 reaches Redis through the proxy, so cutting the proxy kills it without a goodbye.
      const cluster = redisCluster(3, { urlOf: (worker) => redisUrl(worker === 0 ? tcp.port : REDIS_PORT) });
      const calls: number[] = [];
      const brokers = await startCluster(
        t,
        async () => cluster,
        3,
        (worker) => async (message) => {
          calls.push(worker);
          if (worker === 0) await hang(t);
          return { worker, n: message.n };
        },
        [0],
      );
      // Only worker 0 is ready, so only it reads the stream.
      const result = brokers[1]!.dispatch({ action: 'failover.job', n: 42 });
      await waitFor(() => calls.length === 1, 3000);
      await tcp.stop();
      await Promise.all([brokers[1]!.ready(), brokers[2]!.ready()]);

      const { worker } = (await result) as { worker: number; n: number };
      assert.deepEqual(await result, { worker, n: 42 });
      assert.deepEqual(calls, [0, worker]);
      assert.notEqual(worker, 0);
    },
  );

  test('a broadcast stops waiting for a member that died after it was sent', FAILOVER_TEST, async (t) => {
    const tcp = await proxy(t);
    const cluster = redisCluster(3, { urlOf: (worker) => redisUrl(worker === 2 ? tcp.port : REDIS_PORT) });
    const applied: number[] = [];
    const brokers = await startCluster(
      t,
      async () => cluster,
      3,
      (worker) => async () => void applied.push(worker),
    );
    await tcp.stop();
    const started = Date.now();
    // Worker 2 counts as alive for deadAfterMs more: the broadcast waits for it, then gives up on it.
    await brokers[0]!.broadcast({ action: 'failover.config' });
    const waited = Date.now() - started;
    assert.deepEqual([...applied].sort(), [0, 1]);
    assert.ok(waited < FAST.timeoutMs!, `waited ${waited} ms, as long as the timeout`);
  });

  test(
    'a member that missed a broadcast while briefly disconnected gets it again and acknowledges',
    FAILOVER_TEST,
    async (t) => {
      const tcp = await proxy(t);
      // Worker 2 stays alive (deadAfterMs) through its short outage, so the broadcast keeps waiting for it.
      const cluster = redisCluster(3, {
        urlOf: (worker) => redisUrl(worker === 2 ? tcp.port : REDIS_PORT),
        broker: { deadAfterMs: 5000, claimIdleMs: 5000 },
      });
      const applied: Array<[number, string]> = [];
      const brokers = await startCluster(
        t,
        async () => cluster,
        3,
        (worker) => async (message) => void applied.push([worker, message.action]),
      );
      await tcp.stop();
      const broadcast = brokers[0]!.broadcast({ action: 'failover.missed' });
      await waitFor(() => applied.length === 2, 3000);
      await delay(100);
      await tcp.start();

      await broadcast;
      assert.deepEqual(
        applied
          .filter(([, action]) => action === 'failover.missed')
          .map(([w]) => w)
          .sort(),
        [0, 1, 2],
      );
      await waitFor(() => applied.some(([w, action]) => w === 2 && action === BROKER_RESYNC), 3000);
    },
  );

  test(
    'a result published while its sender could not hear it is kept for the sender, not run again',
    FAILOVER_TEST,
    async (t) => {
      const tcp = await proxy(t);
      // The sender (worker 0) is behind the proxy; worker 1 handles; worker 2 would run it again if the sender added it anew.
      const cluster = redisCluster(3, { urlOf: (worker) => redisUrl(worker === 0 ? tcp.port : REDIS_PORT) });
      const calls: number[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const brokers = await startCluster(
        t,
        async () => cluster,
        3,
        (worker) => async () => {
          calls.push(worker);
          await released;
          return { worker };
        },
        [1],
      );
      const result = brokers[0]!.dispatch({ action: 'failover.unheard' });
      await waitFor(() => calls.length === 1, 3000);
      await tcp.stop();
      release();
      await waitFor(async () => (await cluster.admin.xlen(cluster.keys.dispatch)) === 0, 3000);
      await brokers[1]!.close();
      await brokers[2]!.ready();
      await tcp.start();

      assert.deepEqual(await result, { worker: 1 });
      assert.deepEqual(calls, [1]);
    },
  );

  test(
    'after Redis comes back, members resynchronise, broadcasts work, and a dispatch sent meanwhile is delivered',
    FAILOVER_TEST,
    async (t) => {
      const tcp = await proxy(t);
      const cluster = redisCluster(2, { urlOf: () => redisUrl(tcp.port) });
      const received: Array<[number, BrokerMessage]> = [];
      const brokers = await startCluster(
        t,
        async () => cluster,
        2,
        (worker) => async (message) => {
          received.push([worker, message]);
          return { worker };
        },
      );
      await brokers[0]!.broadcast({ action: 'failover.before' });

      await tcp.stop();
      const sentMeanwhile = brokers[0]!.dispatch({ action: 'failover.meanwhile' });
      // Redis "restarted" without persistence: the stream, its group and the members are gone.
      await cluster.admin.del(cluster.keys.dispatch, cluster.keys.members);
      await delay(200);
      await tcp.start();

      const { worker } = (await sentMeanwhile) as { worker: number };
      assert.deepEqual(
        received.filter(([, m]) => m.action === 'failover.meanwhile'),
        [[worker, { action: 'failover.meanwhile' }]],
      );
      await waitFor(() => [0, 1].every((w) => received.some(([r, m]) => r === w && m.action === BROKER_RESYNC)), 5000);
      // Both are members again, in the set Redis lost.
      await waitFor(async () => (await cluster.admin.zcard(cluster.keys.members)) === 2, 3000);
      await brokers[1]!.broadcast({ action: 'failover.after' });
      assert.deepEqual(
        received
          .filter(([, m]) => m.action === 'failover.after')
          .map(([w]) => w)
          .sort(),
        [0, 1],
      );
    },
  );

  test(
    'after Redis fell silent and speaks again, members reconnect and resync, and each command gets its own answer',
    FAILOVER_TEST,
    async (t) => {
      const tcp = await proxy(t);
      const cluster = redisCluster(2, { urlOf: () => redisUrl(tcp.port), broker: { silentAfterMs: 1000 } });
      const received: Array<[number, BrokerMessage]> = [];
      const brokers = await startCluster(
        t,
        async () => cluster,
        2,
        (worker) => async (message) => {
          received.push([worker, message]);
          return { worker, n: message.n };
        },
      );
      await brokers[0]!.broadcast({ action: 'silent.before' });
      // Heartbeats, pings and blocking reads go unanswered; their answers are lost for good.
      tcp.silence(true);
      await delay(2_500);
      tcp.silence(false);
      // The silent connections were dropped and made again: each member re-read what it missed.
      await waitFor(() => [0, 1].every((w) => received.some(([r, m]) => r === w && m.action === BROKER_RESYNC)), 5000);
      // Answers paired with the wrong commands would break these.
      await brokers[1]!.broadcast({ action: 'silent.after' });
      assert.deepEqual(
        received
          .filter(([, m]) => m.action === 'silent.after')
          .map(([w]) => w)
          .sort(),
        [0, 1],
      );
      for (let n = 0; n < 4; n++) {
        const result = (await brokers[0]!.dispatch({ action: 'silent.dispatch', n })) as { n: number };
        assert.equal(result.n, n);
      }
    },
  );

  test('a dispatch that Redis lost while it was away is added again by its sender', FAILOVER_TEST, async (t) => {
    const tcp = await proxy(t);
    const cluster = redisCluster(2, { urlOf: () => redisUrl(tcp.port) });
    const received: Array<[number, BrokerMessage]> = [];
    // Nobody is ready: the dispatch waits in the stream, unread.
    const brokers = await startCluster(
      t,
      async () => cluster,
      2,
      (worker) => async (message) => {
        received.push([worker, message]);
        return 'done';
      },
      [],
    );
    const result = brokers[0]!.dispatch({ action: 'failover.lost' });
    await waitFor(async () => (await cluster.admin.xlen(cluster.keys.dispatch)) === 1, 3000);

    await tcp.stop();
    await cluster.admin.del(cluster.keys.dispatch);
    await tcp.start();
    await waitFor(async () => (await cluster.admin.xlen(cluster.keys.dispatch)) === 1, 5000);

    await brokers[1]!.ready();
    assert.equal(await result, 'done');
    assert.deepEqual(
      received.filter(([, m]) => m.action === 'failover.lost'),
      [[1, { action: 'failover.lost' }]],
    );
    // Worker 1 was not ready when it reconnected: it held its resync and applied it in ready().
    assert.ok(received.some(([w, m]) => w === 1 && m.action === BROKER_RESYNC));
  });
});
