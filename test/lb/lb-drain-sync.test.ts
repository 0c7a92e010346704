import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { KeepAliveClient } from './keep-alive-client.js';
import { asLbServer, haproxySkipReason, LbFixture, serverOf, until } from './lb-fixture.js';
import { WhoServer } from './who-server.js';

const skip = haproxySkipReason();

async function answersOn(client: KeepAliveClient, count: number, path = '/who'): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await client.request('GET', path);
    assert.equal(reply.status, 200, reply.body);
    names.push(serverOf(reply.body) ?? '?');
  }
  return names;
}

describe('drain and ready (real HAProxy)', { skip, timeout: 60_000 }, () => {
  let fx: LbFixture;
  before(async () => {
    fx = await LbFixture.start(['a', 'b']);
  });
  after(() => fx?.dispose());

  test('a drained server finishes its request under way and gets no new one, not even on a keep-alive connection it served', async () => {
    const client = await fx.connect();
    const port = client.localPort;
    // Until this connection's last answer came from a.
    await until(async () => (await answersOn(client, 1))[0] === 'a', 'an answer from a');
    const a = fx.server('a');
    // Two at once: round robin puts one on each server.
    const underWay = Promise.all([fx.get('/slow?ms=600'), fx.get('/slow?ms=600')]);
    await until(() => a.requests().some((h) => h.path === '/slow'), 'a slow request on a');

    await fx.lb.drain('a');
    assert.equal((await fx.lb.servers()).find((s) => s.name === 'a')?.state, 'DRAIN');
    const onA = a.requests().length;
    assert.deepEqual(await answersOn(client, 6), ['b', 'b', 'b', 'b', 'b', 'b']);
    assert.equal(a.requests().length, onA, 'a drained server got a request');
    assert.equal(client.closed, false);
    assert.equal(client.localPort, port, 'the keep-alive connection stayed open; only its requests went elsewhere');
    const slow = await underWay;
    assert.deepEqual(
      slow.map((r) => `${r.status} ${r.server}`).sort(),
      ['200 a', '200 b'],
      'the request under way on a finished there',
    );
  });

  test('ready brings a drained server back into the rotation', async () => {
    await fx.lb.drain('a');
    assert.deepEqual(
      new Set((await Promise.all([...Array(4)].map(() => fx.get('/who')))).map((r) => r.server)),
      new Set(['b']),
    );
    await fx.lb.ready('a');
    assert.equal((await fx.lb.servers()).find((s) => s.name === 'a')?.state, 'UP');
    const names = (await Promise.all([...Array(4)].map(() => fx.get('/who')))).map((r) => r.server);
    assert.deepEqual(new Set(names), new Set(['a', 'b']));
  });

  test('draining a server HAProxy does not have fails with its name', async () => {
    await assert.rejects(
      fx.lb.drain('nosuch'),
      (error: Error & { code?: string }) => error.code === 'VIA_ERR_OBJECT_NOT_FOUND' && /nosuch/.test(error.message),
    );
  });
});

describe('sync (real HAProxy)', { skip, timeout: 60_000 }, () => {
  let fx: LbFixture;
  before(async () => {
    fx = await LbFixture.start(['a', 'b', 'c'], ['a', 'b']);
  });
  after(() => fx?.dispose());

  test('adds one server and removes another without a reload, and an open keep-alive connection goes on', async () => {
    const client = await fx.connect();
    const port = client.localPort;
    assert.deepEqual(new Set(await answersOn(client, 4)), new Set(['a', 'b']));
    const processes = await fx.lb.process.processes();

    const result = await fx.lb.sync([asLbServer(fx.server('a')), asLbServer(fx.server('c'))]);
    assert.deepEqual(result, { added: ['c'], moved: [], enabled: [], removed: ['b'], pendingRemoval: [] });
    await fx.waitForStates({ a: 'UP', c: 'UP', b: 'ABSENT' });
    const bBefore = fx.server('b').requests().length;
    assert.deepEqual(new Set(await answersOn(client, 6)), new Set(['a', 'c']));
    assert.equal(fx.server('b').requests().length, bBefore);

    assert.equal(client.closed, false);
    assert.equal(client.localPort, port, 'the same client connection throughout');
    assert.deepEqual(await fx.lb.process.processes(), processes, 'no reload: the same master, worker and reload count');
    const config = await readFile(fx.lb.files.config, 'utf8');
    assert.match(config, /server c 127\.0\.0\.1:\d+ check/, 'a later reload keeps c');
    assert.doesNotMatch(config, /server b /);
  });

  test('a server added while it does not answer gets no request until its health check passes', async () => {
    const late = new WhoServer('late');
    await late.start();
    const port = late.port;
    await late.crash(); // known port, nothing listening
    await fx.lb.sync([
      asLbServer(fx.server('a')),
      asLbServer(fx.server('c')),
      { name: 'late', host: '127.0.0.1', port },
    ]);
    const status = (await fx.lb.servers()).find((s) => s.name === 'late');
    assert.equal(status?.state, 'DOWN');
    await late.start();
    fx.servers.push(late);
    await fx.waitUntilUp('late');
    const names = (await Promise.all([...Array(6)].map(() => fx.get('/who')))).map((r) => r.server);
    assert.ok(names.includes('late'), names.join(' '));
  });

  test('a removed server finishes its request under way; the next sync deletes it', async () => {
    const wanted = [asLbServer(fx.server('a')), asLbServer(fx.server('c'))];
    const late = fx.server('late');
    // Three at once: round robin puts one on each of a, c and late.
    const underWay = Promise.all([...Array(3)].map(() => fx.get('/slow?ms=500')));
    await until(() => late.requests().some((h) => h.path === '/slow'), 'a slow request on late');
    const first = await fx.lb.sync(wanted);
    assert.deepEqual(first.pendingRemoval, ['late'], JSON.stringify(first));
    assert.equal((await fx.lb.servers()).find((s) => s.name === 'late')?.state, 'MAINT');
    assert.deepEqual(
      (await underWay).map((r) => r.status),
      [200, 200, 200],
    );
    const second = await fx.lb.sync(wanted);
    assert.deepEqual(second.removed, ['late']);
    await fx.waitForStates({ late: 'ABSENT' });
  });

  test('a server that moved to another port keeps its name and gets the new address', async () => {
    const moved = await new WhoServer('c').start();
    fx.servers.push(moved);
    const result = await fx.lb.sync([asLbServer(fx.server('a')), asLbServer(moved)]);
    assert.deepEqual(result.moved, ['c']);
    await fx.waitUntilUp('c');
    const c = (await fx.lb.servers()).find((s) => s.name === 'c');
    assert.equal(c?.port, moved.port);
    const before = moved.requests().length;
    await Promise.all([...Array(4)].map(() => fx.get('/who')));
    assert.equal(moved.requests().length - before, 2, 'half of the requests reach c at its new port');
  });
});
