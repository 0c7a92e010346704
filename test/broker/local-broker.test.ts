import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { LocalBroker } from '../../src/broker/local/local-broker.js';
import { ViaductError } from '../../src/errors.js';
import { LocalBrokerHub } from '../../src/broker/local/local-broker-hub.js';
import { BROKER_TEST, runBrokerConformance, startCluster, type BrokerCluster } from '../conformance/broker.js';
import { waitFor } from '../helpers/env.js';
import { portPair } from '../helpers/runtime.js';

/** A primary's hub and `workers` worker ends, joined in memory as node:cluster joins them over IPC. */
function localCluster(workers: number): BrokerCluster & { readonly hub: LocalBrokerHub } {
  const hub = new LocalBrokerHub();
  const brokers = Array.from({ length: workers }, (_, worker) => {
    const [workerEnd, hubEnd] = portPair();
    hub.attach(String(worker), hubEnd);
    return new LocalBroker(workerEnd);
  });
  return { hub, brokers, close: async () => void (await Promise.all(brokers.map((b) => b.close()))) };
}

runBrokerConformance('local', async (workers) => localCluster(workers));

describe('local broker', () => {
  /** A handler that never finishes, as in a worker that died; released when the test ends. */
  function hang(t: TestContext): Promise<never> {
    let release!: () => void;
    const hung = new Promise<never>((_, reject) => (release = () => reject(new Error('released'))));
    hung.catch(() => undefined);
    t.after(() => release());
    return hung;
  }

  test('a broadcast resolves when a worker detaches mid-delivery', BROKER_TEST, async (t) => {
    const cluster = localCluster(3);
    const finished: number[] = [];
    const brokers = await startCluster(
      t,
      async () => cluster,
      3,
      (worker) => async () => {
        if (worker === 2) {
          // The last one the hub waits for: the others have acknowledged by now.
          await waitFor(() => finished.length === 2, 2000);
          await delay(20);
          cluster.hub.detach('2');
          await hang(t);
        }
        finished.push(worker);
      },
    );
    await brokers[0]!.broadcast({ action: 'local.detach' });
    assert.deepEqual([...finished].sort(), [0, 1]);
    assert.equal(cluster.hub.workerCount, 2);
  });

  test(
    'a dispatch whose worker detaches before acknowledging is redelivered to another worker',
    BROKER_TEST,
    async (t) => {
      const cluster = localCluster(3);
      const calls: number[] = [];
      const brokers = await startCluster(
        t,
        async () => cluster,
        3,
        (worker) => async () => {
          calls.push(worker);
          if (calls.length === 1) {
            cluster.hub.detach(String(worker));
            await hang(t);
          }
          return { worker };
        },
      );
      const result = await brokers[0]!.dispatch({ action: 'local.redeliver' });
      assert.equal(calls.length, 2);
      assert.notEqual(calls[0], calls[1]);
      assert.deepEqual(result, { worker: calls[1] });
    },
  );

  test('a dispatch with no worker left rejects with VIA_ERR_SERVICE_UNAVAILABLE', BROKER_TEST, async (t) => {
    const cluster = localCluster(2);
    const brokers = await startCluster(
      t,
      async () => cluster,
      2,
      () => async () => 'handled',
    );
    // Once the hub has taken both hellos, take the workers away.
    await waitFor(() => cluster.hub.workerCount === 2, 2000);
    cluster.hub.detach('0');
    cluster.hub.detach('1');
    await assert.rejects(brokers[0]!.dispatch({ action: 'local.nobody' }), {
      name: 'ViaductError',
      code: 'VIA_ERR_SERVICE_UNAVAILABLE',
    });
  });

  test(
    'several failures come back over the link as one VIA_ERR_CONFIG_APPLY with each in details',
    BROKER_TEST,
    async (t) => {
      const brokers = await startCluster(
        t,
        async (n) => localCluster(n),
        3,
        (worker) => async () => {
          if (worker === 1) throw new ViaductError('VIA_ERR_OBJECT_IN_USE', 'worker 1 is attached to it');
          if (worker === 2) throw new Error('worker 2 broke');
        },
      );
      const error = await brokers[0]!.broadcast({ action: 'local.fail-twice' }).then(
        () => undefined,
        (e: unknown) => e as ViaductError,
      );
      assert.ok(error instanceof ViaductError);
      assert.equal(error.code, 'VIA_ERR_CONFIG_APPLY');
      const details = error.details as Array<{ code: string; message: string }>;
      assert.deepEqual(details.map((d) => d.code).sort(), ['VIA_ERR_INTERNAL', 'VIA_ERR_OBJECT_IN_USE']);
      assert.ok(details.some((d) => d.message === 'worker 2 broke'));
    },
  );

  test('close() rejects the requests still waiting for an answer', BROKER_TEST, async (t) => {
    const cluster = localCluster(2);
    const brokers = await startCluster(
      t,
      async () => cluster,
      2,
      () => () => hang(t),
    );
    const pending = brokers[0]!.dispatch({ action: 'local.never' });
    await delay(20);
    await brokers[0]!.close();
    await assert.rejects(pending, { name: 'ViaductError', code: 'VIA_ERR_SERVICE_UNAVAILABLE' });
  });
});
