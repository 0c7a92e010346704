import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { haproxySkipReason, LbFixture, send, until } from './lb-fixture.js';

const skip = haproxySkipReason();

describe('load balancer traffic (real HAProxy)', { skip, timeout: 60_000 }, () => {
  let fx: LbFixture;
  before(async () => {
    fx = await LbFixture.start(['a', 'b', 'c']);
  });
  after(() => fx?.dispose());

  test('spreads requests round robin across the servers', async () => {
    const answered: string[] = [];
    for (let i = 0; i < 9; i++) answered.push((await fx.get('/who')).server ?? '?');
    // Each server answers every third request, in a fixed rotation.
    assert.deepEqual([...new Set(answered)].sort(), ['a', 'b', 'c']);
    for (let i = 3; i < 9; i++)
      assert.equal(answered[i], answered[i - 3], `request ${i} broke the rotation: ${answered.join(' ')}`);
  });

  test('passes the client address on as the last X-Forwarded-For entry', async () => {
    const plain = JSON.parse((await fx.get('/who')).body) as { forwardedFor: string | null };
    assert.equal(plain.forwardedFor, '127.0.0.1');
    const chained = await send(fx.port, 'GET', '/who', { 'x-forwarded-for': '203.0.113.7' });
    assert.equal((JSON.parse(chained.body) as { forwardedFor: string }).forwardedFor, '203.0.113.7, 127.0.0.1');
  });
});

describe('load balancer failures (real HAProxy)', { skip, timeout: 60_000 }, () => {
  let fx: LbFixture;
  before(async () => {
    fx = await LbFixture.start(['a', 'b', 'c']);
  });
  after(() => fx?.dispose());

  test('a server that dies before HAProxy notices: every request, POST too, is retried on another', async () => {
    await fx.server('c').crash();
    // Still UP: no check has failed yet, so round robin still picks c.
    assert.equal((await fx.lb.servers()).find((s) => s.name === 'c')?.state, 'UP');
    const replies = await Promise.all([...Array(6)].map((_, i) => send(fx.port, i % 2 === 0 ? 'POST' : 'GET', '/who')));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.ok(replies.every((r) => r.server === 'a' || r.server === 'b'));
    await fx.server('c').start();
    await fx.waitUntilUp('c');
  });

  test('the health check takes a dead server out within about a second, and requests keep succeeding', async () => {
    await fx.server('b').crash();
    const crashedAt = Date.now();
    await fx.waitForStates({ b: 'DOWN' }, 3_000);
    const detectedMs = Date.now() - crashedAt;
    const replies = await Promise.all([...Array(6)].map(() => fx.get('/who')));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.deepEqual([...new Set(replies.map((r) => r.server))].sort(), ['a', 'c']);
    // HAProxy's defaults (inter 2s, fall 3) would take about 6 s.
    assert.ok(detectedMs < 2_000, `b was marked down after ${detectedMs} ms`);
    const b = (await fx.lb.servers()).find((s) => s.name === 'b');
    assert.equal(b?.checkStatus, 'L4CON');
    await fx.server('b').start();
    await fx.waitUntilUp('b');
  });

  test('a GET under way on a server that dies is retried on another server', async () => {
    const a = fx.server('a');
    const before = a.requests().length;
    const replies = Promise.all([...Array(3)].map(() => fx.get('/slow?ms=800')));
    // Wait until a has one of the requests, then kill it mid-request.
    await until(() => a.requests().length > before, 'a request on a');
    await a.crash();
    const answered = await replies;
    assert.deepEqual(
      answered.map((r) => r.status),
      [200, 200, 200],
    );
    assert.ok(
      answered.every((r) => r.server !== 'a'),
      `answered by ${answered.map((r) => r.server).join(' ')}`,
    );
    await a.start();
    await fx.waitUntilUp('a');
  });

  test('a POST under way on a server that dies is not retried: 502, and the server saw it once', async () => {
    const a = fx.server('a');
    const posts = (): number =>
      fx.servers.reduce((n, s) => n + s.requests('POST').filter((h) => h.path === '/slow').length, 0);
    const seenBefore = posts();
    const beforeOnA = a.requests('POST').length;
    const replies = Promise.all([...Array(3)].map(() => send(fx.port, 'POST', '/slow?ms=800')));
    await until(() => a.requests('POST').length > beforeOnA, 'a POST on a');
    await a.crash();
    const statuses = (await replies).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 502]);
    assert.equal(posts() - seenBefore, 3, 'a retried POST would have reached a second server');
    await a.start();
    await fx.waitUntilUp('a');
  });
});
