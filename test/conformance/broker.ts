import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Broker, BrokerHandler, BrokerMessage } from '../../src/broker/broker.js';
import { ViaductError } from '../../src/errors.js';
import { waitFor } from '../helpers/env.js';

/** Worker-side brokers joined into one cluster, not started yet; `close()` tears it all down. */
export interface BrokerCluster {
  readonly brokers: readonly Broker[];
  close(): Promise<void>;
}

export type BrokerClusterFactory = (workers: number) => Promise<BrokerCluster>;

/** A hung broker fails its test instead of hanging the run. */
export const BROKER_TEST = { timeout: 10_000 } as const;

/**
 * Starts each broker with its own handler and makes the listed ones ready (all by default).
 * The cluster is closed when the test ends.
 */
export async function startCluster(
  t: TestContext,
  factory: BrokerClusterFactory,
  workers: number,
  handlerOf: (worker: number) => BrokerHandler,
  ready: readonly number[] = [...Array(workers).keys()],
): Promise<readonly Broker[]> {
  const cluster = await factory(workers);
  t.after(() => cluster.close());
  assert.equal(cluster.brokers.length, workers);
  await Promise.all(cluster.brokers.map((broker, worker) => broker.start(handlerOf(worker))));
  await Promise.all(ready.map((worker) => cluster.brokers[worker]!.ready()));
  return cluster.brokers;
}

/** The contract every broker backend keeps, run against `factory`'s clusters. */
export function runBrokerConformance(name: string, factory: BrokerClusterFactory): void {
  describe(`${name} broker conformance`, () => {
    test(
      'broadcast reaches every worker, the sender included, and resolves once every handler finished',
      BROKER_TEST,
      async (t) => {
        const received: Array<[number, BrokerMessage]> = [];
        const finished: number[] = [];
        const brokers = await startCluster(t, factory, 3, (worker) => async (message) => {
          received.push([worker, message]);
          // The slowest handler is the last to finish: the broadcast must wait for it.
          await delay(10 + 30 * worker);
          finished.push(worker);
        });
        const message = { action: 'conformance.ping', payload: { n: 1, text: 'Grüße 🚀' } };
        await brokers[1]!.broadcast(message);

        assert.deepEqual([...finished].sort(), [0, 1, 2]);
        assert.deepEqual(
          [...received].sort(([a], [b]) => a - b),
          [
            [0, message],
            [1, message],
            [2, message],
          ],
        );
      },
    );

    test(
      'a handler error rejects the broadcast with its code; the other workers still apply it',
      BROKER_TEST,
      async (t) => {
        const applied: number[] = [];
        const brokers = await startCluster(t, factory, 3, (worker) => async () => {
          if (worker === 2) throw new ViaductError('VIA_ERR_OBJECT_IN_USE', 'worker 2 cannot apply this');
          await delay(10);
          applied.push(worker);
        });
        await assert.rejects(brokers[0]!.broadcast({ action: 'conformance.fail' }), {
          name: 'ViaductError',
          code: 'VIA_ERR_OBJECT_IN_USE',
          message: /worker 2 cannot apply this/,
        });
        await waitFor(() => applied.length === 2, 2000);
        assert.deepEqual([...applied].sort(), [0, 1]);
      },
    );

    test('dispatch reaches exactly one worker and resolves with its result', BROKER_TEST, async (t) => {
      const calls: Array<{ worker: number; n: number }> = [];
      const brokers = await startCluster(t, factory, 3, (worker) => async (message) => {
        const n = message.n as number;
        calls.push({ worker, n });
        await delay(5);
        return { worker, doubled: n * 2 };
      });
      const numbers = [1, 2, 3, 4, 5, 6];
      const results = await Promise.all(
        numbers.map((n) => brokers[n % 3]!.dispatch({ action: 'conformance.double', n })),
      );

      // Late duplicates would show up after the dispatches resolved.
      await delay(50);
      for (const [i, n] of numbers.entries()) {
        const handled = calls.filter((c) => c.n === n);
        assert.equal(handled.length, 1, `message ${n} was handled ${handled.length} times`);
        assert.deepEqual(results[i], { worker: handled[0]!.worker, doubled: n * 2 });
      }
      assert.equal(calls.length, numbers.length);
    });

    test("a dispatch whose handler throws rejects with the error's code", BROKER_TEST, async (t) => {
      const brokers = await startCluster(t, factory, 2, () => async (message) => {
        throw new ViaductError('VIA_ERR_VALIDATION', `cannot handle ${String(message.what)}`);
      });
      await assert.rejects(brokers[1]!.dispatch({ action: 'conformance.refuse', what: 'this' }), {
        name: 'ViaductError',
        code: 'VIA_ERR_VALIDATION',
        message: /cannot handle this/,
      });
    });

    test(
      'messages delivered before ready() are held, applied by ready(), and a broadcast waits for them',
      BROKER_TEST,
      async (t) => {
        const applied: number[] = [];
        const brokers = await startCluster(
          t,
          factory,
          2,
          (worker) => async () => {
            applied.push(worker);
          },
          [0],
        );
        let settled = false;
        const broadcast = brokers[0]!.broadcast({ action: 'conformance.held' }).finally(() => (settled = true));

        await waitFor(() => applied.includes(0), 2000);
        // Time enough for the delivery to reach worker 1, which must keep it until it is ready.
        await delay(100);
        assert.deepEqual(applied, [0]);
        assert.equal(settled, false, 'the broadcast resolved before every worker applied it');

        await brokers[1]!.ready();
        assert.deepEqual(applied, [0, 1], 'ready() must apply what was held');
        await broadcast;
      },
    );
  });
}
