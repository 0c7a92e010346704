import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { RedisBroker } from '../../src/broker/redis/redis-broker.js';
import { serverReachable, waitFor } from '../helpers/env.js';
import { bootWorkers, HELLO_SOURCE } from '../helpers/runtime.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { adminConnection, FAST, REDIS_PORT, redisUrl, testLogger } from './redis-cluster.js';

/** Hello under another name, so a file can come or go without touching demo.hello. */
const sourceOf = (name: string): string => HELLO_SOURCE.replace("'demo.hello'", `'demo.${name}'`);

const skip = await serverReachable('Redis', REDIS_PORT);

test(
  'a worker cut off from Redis catches up on its return with the changes and deployments it missed',
  { skip, timeout: 30_000 },
  async (t) => {
    const tcp = new TcpProxy('127.0.0.1', REDIS_PORT);
    await tcp.start();
    t.after(() => tcp.stop());
    const cluster = `test-${randomBytes(6).toString('hex')}`;
    let started = 0;
    // Two workers of one server on the Redis broker; worker 1 reaches Redis through the proxy.
    const workers = await bootWorkers(2, {
      brokers: () => {
        const worker = started++;
        return new RedisBroker(
          redisUrl(worker === 1 ? tcp.port : REDIS_PORT),
          { cluster, server: 'server1', worker },
          testLogger,
          FAST,
        );
      },
    });
    t.after(async () => {
      await workers.close();
      const admin = adminConnection();
      const left = await admin.keys(`viaduct:${cluster}:*`);
      if (left.length > 0) await admin.del(...left);
      admin.disconnect();
    });
    assert.equal(
      (await workers.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status,
      200,
    );
    assert.equal(
      (await workers.admin('viaduct.service.deploy', { file: 'gone.ts', source: sourceOf('gone') })).status,
      200,
    );
    assert.equal(
      (await workers.admin('viaduct.channel.rest.create', { name: 'hello', path: '/hello', service: 'demo.hello' }))
        .status,
      200,
    );
    assert.equal((await fetch(`${workers.urls[1]}/hello`)).status, 200);
    assert.equal((await workers.admin('demo.gone', {}, 1)).status, 200);

    await tcp.stop();
    // Worker 0 goes on without worker 1 once it counts as dead.
    assert.equal(
      (await workers.admin('viaduct.service.deploy', { file: 'late.ts', source: sourceOf('late') })).status,
      200,
    );
    assert.equal(
      (await workers.admin('viaduct.channel.rest.create', { name: 'late', path: '/late', service: 'demo.late' }))
        .status,
      200,
    );
    assert.equal((await workers.admin('viaduct.channel.rest.delete', { name: 'hello' })).status, 200);
    assert.equal((await workers.admin('viaduct.service.undeploy', { name: 'demo.gone' })).status, 200);
    assert.equal((await fetch(`${workers.urls[0]}/late`)).status, 200);
    assert.equal((await fetch(`${workers.urls[1]}/late`)).status, 404, 'worker 1 heard of the change while cut off');

    await tcp.start();
    await waitFor(async () => (await fetch(`${workers.urls[1]}/late`)).status === 200, 10_000);
    assert.deepEqual(
      await (await fetch(`${workers.urls[1]}/late`, { method: 'POST', body: '{"name":"Ada"}' })).json(),
      { hello: 'Ada' },
    );
    assert.equal((await fetch(`${workers.urls[1]}/hello`)).status, 404, 'the channel deleted meanwhile still serves');
    assert.equal((await workers.admin('demo.gone', {}, 1)).status, 404, 'the service undeployed meanwhile still runs');
    assert.equal((await workers.admin('demo.hello', {}, 1)).status, 200);
  },
);
