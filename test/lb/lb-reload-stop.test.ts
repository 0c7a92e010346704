import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { LoadBalancer } from '../../src/lb/load-balancer.js';
import { isRunning } from '../../src/util/pid-liveness.js';
import { tempDir } from '../helpers/env.js';
import { asLbServer, haproxySkipReason, LbFixture, send, serverOf, until, type Reply } from './lb-fixture.js';

const skip = haproxySkipReason();

describe('reload (real HAProxy)', { skip, timeout: 60_000 }, () => {
  let fx: LbFixture;
  before(async () => {
    fx = await LbFixture.start(['a', 'b', 'c'], ['a', 'b']);
  });
  after(() => fx?.dispose());

  test('keeps established connections: a request under way finishes, an idle keep-alive connection gets one more answer, no new connection is refused', async () => {
    const client = await fx.connect();
    const port = client.localPort;
    assert.equal((await client.request('GET', '/who')).status, 200);
    const underWay = fx.get('/slow?ms=1000');
    await until(
      () => fx.servers.some((s) => s.requests().some((h) => h.path === '/slow')),
      'the slow request on a server',
    );
    const before = await fx.lb.process.processes();

    // New connections all through the reload.
    let reloading = true;
    const during: Promise<Reply>[] = [];
    const traffic = (async () => {
      while (reloading) {
        during.push(fx.get('/who'));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await fx.lb.reload();
    reloading = false;
    await traffic;

    const now = await fx.lb.process.processes();
    assert.equal(now.masterPid, before.masterPid);
    assert.equal(now.reloads, before.reloads + 1);
    assert.notDeepEqual(now.workers, before.workers, 'a new worker serves');

    const statuses = (await Promise.all(during)).map((r) => r.status);
    assert.ok(statuses.length > 5, `only ${statuses.length} requests during the reload`);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every request during the reload was answered',
    );
    assert.equal((await underWay).status, 200, 'the request under way when the reload began');

    // The old worker answers the idle connection once more and tells the client to reconnect.
    const last = await client.request('GET', '/who');
    assert.equal(last.status, 200);
    assert.equal(client.localPort, port);
    assert.equal(last.headers.connection, 'close');
  });

  test('a drained server stays drained and a server added by sync stays, across a reload', async () => {
    await fx.lb.sync(['a', 'b', 'c'].map((n) => asLbServer(fx.server(n))));
    await fx.waitUntilUp('c');
    await fx.lb.drain('b');
    await fx.lb.reload();
    const states = Object.fromEntries((await fx.lb.servers()).map((s) => [s.name, s.state]));
    assert.deepEqual(states, { a: 'UP', b: 'DRAIN', c: 'UP' });
    const names = new Set((await Promise.all([...Array(6)].map(() => fx.get('/who')))).map((r) => r.server));
    assert.deepEqual(names, new Set(['a', 'c']));
  });
});

describe('start and stop (real HAProxy)', { skip, timeout: 60_000 }, () => {
  test('stop waits for the request under way, then ends every HAProxy process and removes its run files', async () => {
    const fx = await LbFixture.start(['a']);
    try {
      const { masterPid, workers } = await fx.lb.process.processes();
      const idle = await fx.connect();
      assert.equal((await idle.request('GET', '/who')).status, 200);
      const underWay = fx.get('/slow?ms=700');
      await until(
        () =>
          fx
            .server('a')
            .requests()
            .some((h) => h.path === '/slow'),
        'the slow request on a',
      );
      const started = Date.now();
      assert.equal(await fx.lb.stop(), 'stopped');
      const tookMs = Date.now() - started;
      assert.equal((await underWay).status, 200);
      // An idle keep-alive connection does not hold the stop up to its 5 s timeout.
      assert.ok(tookMs < 3_000, `stop took ${tookMs} ms`);
      assert.ok(![masterPid, ...workers].some(isRunning), 'an HAProxy process is still running');
      await until(() => idle.closed, 'the idle connection closed');
      for (const file of [fx.lb.files.pid, fx.lb.files.runtimeSocket, fx.lb.files.masterSocket])
        assert.equal(existsSync(file), false, file);
      await assert.rejects(send(fx.port, 'GET', '/who'), /ECONNREFUSED/);
      assert.equal(await fx.lb.stop(), 'not-running');
    } finally {
      await fx.dispose();
    }
  });

  test('a stop whose grace runs out cuts the request under way and says so', async () => {
    const fx = await LbFixture.start(['a']);
    try {
      const underWay = fx.get('/slow?ms=5000').catch((error: Error) => error);
      await until(() => fx.server('a').requests().length > 0, 'the slow request on a');
      assert.equal(await fx.lb.stop(200), 'killed');
      assert.ok((await underWay) instanceof Error, 'the request was cut');
    } finally {
      await fx.dispose();
    }
  });

  test('start on a running load balancer changes nothing and says so', async () => {
    const fx = await LbFixture.start(['a']);
    try {
      const pid = await fx.lb.pid();
      const again = await new LoadBalancer(fx.runDir).start({
        bind: { host: '127.0.0.1', port: fx.port },
        servers: [],
      });
      assert.deepEqual(again, { pid, alreadyRunning: true });
      assert.equal(serverOf((await fx.get('/who')).body), 'a');
    } finally {
      await fx.dispose();
    }
  });

  test("a port in use: start fails with HAProxy's reason and leaves nothing running", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const runDir = await tempDir('viaduct-lb-');
    const lb = new LoadBalancer(runDir);
    try {
      await assert.rejects(
        lb.start({ bind: { host: '127.0.0.1', port }, servers: [{ name: 'a', host: '127.0.0.1', port: 1 }] }),
        (error: Error & { code?: string }) =>
          error.code === 'VIA_ERR_ENV_CONFIG' &&
          /HAProxy did not start/.test(error.message) &&
          /cannot bind socket/i.test(error.message),
      );
      assert.equal(await lb.pid(), undefined);
    } finally {
      await lb.stop(0);
      blocker.close();
      await rm(runDir, { recursive: true, force: true });
    }
  });
});
