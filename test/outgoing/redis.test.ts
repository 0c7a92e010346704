import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type * as IORedis from 'ioredis';
import { redisConnectionType } from '../../src/outgoing/redis/redis-connection-type.js';
import { redisConnectionSchema } from '../../src/outgoing/redis/redis-kind.js';
import { runOutgoingConformance } from '../conformance/outgoing.js';
import { freePort, serverReachable, waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { openDirect, randomSuffix, rejection } from './messaging-fixture.js';

const { Redis } = createRequire(import.meta.url)('ioredis') as typeof IORedis;

const conformancePrefix = `viaduct-test-conf-${randomSuffix()}:`;

runOutgoingConformance({
  type: 'outgoing.redis',
  facade: 'redis',
  async peer() {
    const skip = await serverReachable('Redis', 6379);
    return skip === undefined ? { host: '127.0.0.1', port: 6379 } : { skip };
  },
  config: (name, address) => ({ name, host: address.host, port: address.port, key_prefix: conformancePrefix }),
  edit: { command_timeout: 4000 },
  use: `await conn.set('greeting', 'hello', 'EX', 600);
    this.response.payload = { value: await conn.get('greeting') };`,
  expected: { value: 'hello' },
  async teardown() {
    const redis = new Redis({ lazyConnect: true });
    await redis.connect().catch(() => undefined);
    if (redis.status === 'ready') await redis.del(`${conformancePrefix}greeting`);
    redis.disconnect();
  },
});

describe('outgoing.redis', () => {
  let skip: string | undefined;
  let raw: IORedis.Redis;
  const prefix = `viaduct-test-${randomSuffix()}:`;
  const user = `viaduct-test-${randomSuffix()}`;
  const userPassword = `pw-${randomSuffix()}`;
  const otherDb = 7;

  before(async () => {
    skip = await serverReachable('Redis', 6379);
    if (skip !== undefined) return;
    raw = new Redis({ host: '127.0.0.1', port: 6379 });
    await raw.acl('SETUSER', user, 'on', `>${userPassword}`, `~${prefix}*`, '+@all');
  });

  after(async () => {
    if (skip !== undefined) return;
    await raw.acl('DELUSER', user);
    for (const db of [0, otherDb]) {
      await raw.select(db);
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
    }
    raw.disconnect();
  });

  const local = { host: '127.0.0.1', port: 6379 };

  test('the schema fills in defaults; the password is secret', () => {
    assert.deepEqual(redisConnectionSchema.parse({ name: 'x' }), {
      name: 'x',
      is_active: true,
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      key_prefix: '',
      connect_timeout: 5000,
      command_timeout: 5000,
    });
    assert.deepEqual(redisConnectionType.kind.secretFields, ['password']);
    assert.equal(redisConnectionSchema.safeParse({ name: 'x', db: -1 }).success, false);
  });

  test('the key prefix goes in front of every key, and two prefixes do not see each other', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, redisConnectionType, { ...local, key_prefix: `${prefix}a:` });
    const { client: other } = openDirect(t, redisConnectionType, { ...local, key_prefix: `${prefix}b:` });
    await client.set('shared-name', 'from a');
    await other.set('shared-name', 'from b');
    assert.equal(await client.get('shared-name'), 'from a');
    assert.equal(await other.get('shared-name'), 'from b');
    await raw.select(0);
    assert.equal(await raw.get(`${prefix}a:shared-name`), 'from a');
    assert.equal(await raw.get('shared-name'), null);
    await client.hset('hash', { f: '1' });
    assert.deepEqual(await raw.hgetall(`${prefix}a:hash`), { f: '1' });
  });

  test('db selects the database, and it stays selected', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, redisConnectionType, { ...local, db: otherDb, key_prefix: prefix });
    await client.set('in-db', 'seven');
    await raw.select(0);
    assert.equal(await raw.get(`${prefix}in-db`), null, 'not in db 0');
    await raw.select(otherDb);
    assert.equal(await raw.get(`${prefix}in-db`), 'seven');
    await raw.select(0);
    const error = await rejection(client.select(0));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /SELECT.*duplicate\(\)/);
    assert.equal(await client.get('in-db'), 'seven', 'still db 7');
  });

  test('calls are logged with the cid and the command; pipelines, transactions and callbacks work', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client, log } = openDirect(t, redisConnectionType, { ...local, key_prefix: prefix });
    await client.set('counter', '1');
    assert.deepEqual(await client.pipeline().incr('counter').incr('counter').get('counter').exec(), [
      [null, 2],
      [null, 3],
      [null, '3'],
    ]);
    assert.deepEqual(await client.multi().incrby('counter', 10).exec(), [[null, 13]]);
    assert.equal(await client.call('GET', 'counter'), '13');
    const viaCallback = await new Promise(
      (resolve, reject) => void client.get('counter', (error, value) => (error ? reject(error) : resolve(value))),
    );
    assert.equal(viaCallback, '13');
    const lines = log.lines.map((line) => JSON.parse(line) as { cid?: string; op?: string; outgoing?: string });
    const ops = lines.filter((l) => l.cid !== undefined).map((l) => l.op);
    assert.deepEqual(ops, ['set', 'pipeline', 'multi', 'get', 'get']);
    assert.ok(lines.every((l) => l.cid === undefined || (l.cid.startsWith('cid-') && l.outgoing === 'direct')));
  });

  test('a Redis error reply is a coded error, to promises and callbacks alike', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, redisConnectionType, { ...local, key_prefix: prefix });
    await client.set('a-string', 'x');
    const error = await rejection(client.lpush('a-string', 'y'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /WRONGTYPE/);
    const viaCallback = await new Promise<Error & { code?: string }>(
      (resolve) => void client.lpush('a-string', 'y', (e) => resolve(e as Error)),
    );
    assert.equal(viaCallback.code, 'VIA_ERR_OUTGOING_FAILED');
  });

  test('commands that would change the shared connection are refused; it keeps working', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, redisConnectionType, { ...local, key_prefix: prefix });
    for (const refused of [client.quit(), client.subscribe('news'), client.call('SELECT', '3')]) {
      assert.equal((await rejection(refused)).code, 'VIA_ERR_OUTGOING_FAILED');
    }
    const own = client.duplicate();
    t.after(() => own.disconnect());
    await own.subscribe(`${prefix}news`);
    assert.equal(await client.set('still-works', '1'), 'OK');
  });

  test('an ACL user logs in; a wrong password is a coded error that shows no password', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, redisConnectionType, {
      ...local,
      username: user,
      password: userPassword,
      key_prefix: prefix,
    });
    await client.set('acl', 'yes');
    assert.equal(await client.acl('WHOAMI'), user);
    const wrong = `wrong-${randomSuffix()}`;
    const {
      client: bad,
      connection,
      log,
    } = openDirect(t, redisConnectionType, { ...local, username: user, password: wrong, key_prefix: prefix });
    // The first command meets the refused login itself; later ones, once the client has retried, its record of it.
    const error = await rejection(bad.get('acl'));
    const ping = await rejection(connection.ping());
    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = await rejection(bad.get('acl'));
    for (const refused of [error, ping, later]) {
      assert.equal(refused.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', refused.message);
      assert.match(refused.message, /: Redis refused the login \(WRONGPASS[^)]*\); reconnecting in the background$/);
    }
    for (const text of [error.message, ping.message, later.message, log.text]) assert.ok(!text.includes(wrong));
  });

  test('while Redis is away commands fail in bounded time, and it reconnects by itself', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const proxy = new TcpProxy('127.0.0.1', 6379);
    await proxy.start();
    t.after(() => proxy.stop());
    const { client, connection } = openDirect(t, redisConnectionType, {
      host: '127.0.0.1',
      port: proxy.port,
      key_prefix: prefix,
      command_timeout: 3000,
    });
    await client.set('before', '1');
    await proxy.stop();
    // The first calls may wait for the first reconnect attempt; once it failed, calls fail at once.
    const first = await rejection(client.get('before'));
    assert.equal(first.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', first.message);
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const error = await rejection(client.get('before'));
      assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', error.message);
      assert.ok(Date.now() - started < 1000, `failed fast (${Date.now() - started} ms)`);
    }
    assert.match((await rejection(connection.ping())).code ?? '', /^VIA_ERR_OUTGOING_(UNAVAILABLE|TIMEOUT)$/);
    await proxy.start();
    await waitFor(async () => (await client.get('before').catch(() => undefined)) === '1', 15_000, 100);
    await connection.ping();
  });

  test('a Redis that is not there at start does not throw from create; calls fail with a coded error', async (t) => {
    const port = await freePort();
    const { client } = openDirect(t, redisConnectionType, { host: '127.0.0.1', port, command_timeout: 2000 });
    const started = Date.now();
    assert.match((await rejection(client.get('x'))).code ?? '', /^VIA_ERR_OUTGOING_(UNAVAILABLE|TIMEOUT)$/);
    assert.ok(Date.now() - started < 2500);
  });

  test('close lets a command in flight finish', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client, connection } = openDirect(t, redisConnectionType, { ...local, key_prefix: prefix });
    const pending = client.set('at-close', 'done');
    await connection.close();
    assert.equal(await pending, 'OK');
    await raw.select(0);
    assert.equal(await raw.get(`${prefix}at-close`), 'done');
  });
});
