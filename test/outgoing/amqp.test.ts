import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type * as Amqplib from 'amqplib';
import { amqpConnectionType } from '../../src/outgoing/amqp/amqp-connection-type.js';
import { amqpConnectionSchema } from '../../src/outgoing/amqp/amqp-kind.js';
import { runOutgoingConformance } from '../conformance/outgoing.js';
import { freePort, serverReachable, waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { openDirect, randomSuffix, rejection } from './messaging-fixture.js';

const amqplib = createRequire(import.meta.url)('amqplib') as typeof Amqplib;
const RABBITMQ = 'amqp://guest:guest@127.0.0.1:5672/';

runOutgoingConformance({
  type: 'outgoing.amqp',
  facade: 'amqp',
  async peer() {
    const skip = await serverReachable('RabbitMQ', 5672);
    return skip === undefined ? { host: '127.0.0.1', port: 5672 } : { skip };
  },
  config: (name, address) => ({
    name,
    url: `amqp://${address.host}:${address.port}/`,
    username: 'guest',
    password: 'guest',
  }),
  edit: { heartbeat: 10 },
  // Publishing to amq.topic with no binding still waits for the broker's confirm: a real round trip.
  use: `await conn.publish('amq.topic', 'viaduct.conformance.nobody', { hello: 'world' });
    this.response.payload = { confirmed: true };`,
  expected: { confirmed: true },
});

describe('outgoing.amqp', () => {
  let skip: string | undefined;
  let admin: Amqplib.ChannelModel;
  let channel: Amqplib.Channel;
  const exchange = `viaduct-test-${randomSuffix()}`;
  const queue = `viaduct-test-${randomSuffix()}`;
  const otherQueue = `viaduct-test-other-${randomSuffix()}`;
  const fullQueue = `viaduct-test-full-${randomSuffix()}`;

  before(async () => {
    skip = await serverReachable('RabbitMQ', 5672);
    if (skip !== undefined) return;
    admin = await amqplib.connect(RABBITMQ);
    channel = await admin.createChannel();
    // Should a run die before after(), the broker drops the queues after 10 idle minutes, and the exchange with its last binding.
    const expires = 600_000;
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    await channel.assertQueue(queue, { durable: true, expires });
    await channel.bindQueue(queue, exchange, 'orders.#');
    await channel.assertQueue(otherQueue, { durable: false, expires });
    await channel.bindQueue(otherQueue, exchange, 'invoices.#');
    // Holds one message and refuses the next one: the broker nacks it.
    await channel.assertQueue(fullQueue, {
      durable: false,
      expires,
      maxLength: 1,
      arguments: { 'x-overflow': 'reject-publish' },
    });
  });

  after(async () => {
    if (skip !== undefined) return;
    for (const q of [queue, otherQueue, fullQueue]) await channel.deleteQueue(q);
    // Deleting the last bound queue may have removed the auto-delete exchange already.
    await channel.deleteExchange(exchange).catch(() => undefined);
    await admin.close();
  });

  const connect = { url: 'amqp://127.0.0.1:5672/', username: 'guest', password: 'guest' };

  async function take(from: string): Promise<Amqplib.GetMessage> {
    let message: Amqplib.GetMessage | false = false;
    await waitFor(async () => (message = await channel.get(from, { noAck: true })) !== false, 5000);
    return message as unknown as Amqplib.GetMessage;
  }

  test('the schema fills in defaults and keeps credentials out of the URL', () => {
    const parsed = amqpConnectionSchema.parse({ name: 'x' });
    assert.deepEqual(parsed, {
      name: 'x',
      is_active: true,
      url: 'amqp://127.0.0.1:5672/',
      heartbeat: 30,
      frame_max: 131072,
      connect_timeout: 5000,
      publish_timeout: 10000,
    });
    assert.equal(amqpConnectionSchema.safeParse({ name: 'x', url: 'amqp://guest:guest@127.0.0.1/' }).success, false);
    assert.equal(amqpConnectionSchema.safeParse({ name: 'x', url: 'http://127.0.0.1/' }).success, false);
    assert.equal(amqpConnectionSchema.safeParse({ name: 'x', url: 'amqps://broker.example.com/prod' }).success, true);
    assert.deepEqual(amqpConnectionType.kind.secretFields, ['password']);
  });

  test('a JSON publish is routed by its key and arrives persistent, with headers and content type', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, amqpConnectionType, connect);
    await client.publish(
      exchange,
      'orders.created',
      { order: 17 },
      { headers: { 'x-tenant': 'acme', attempt: 2 }, messageId: 'm-1', correlationId: 'c-1' },
    );
    const message = await take(queue);
    assert.deepEqual(JSON.parse(message.content.toString()), { order: 17 });
    assert.equal(message.fields.routingKey, 'orders.created');
    assert.equal(message.fields.exchange, exchange);
    assert.equal(message.properties.deliveryMode, 2);
    assert.equal(message.properties.contentType, 'application/json');
    assert.equal(message.properties.messageId, 'm-1');
    assert.equal(message.properties.correlationId, 'c-1');
    assert.deepEqual(message.properties.headers, { 'x-tenant': 'acme', attempt: 2 });
    assert.equal(await channel.get(otherQueue, { noAck: true }), false, 'the other binding did not get it');
  });

  test('strings and Buffers go as they are; persistent: false and contentType are honoured', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, amqpConnectionType, connect);
    await client.publish(exchange, 'invoices.paid', 'plain text', { persistent: false });
    const text = await take(otherQueue);
    assert.equal(text.content.toString(), 'plain text');
    assert.equal(text.properties.contentType, 'text/plain; charset=utf-8');
    assert.notEqual(text.properties.deliveryMode, 2);
    await client.publish(exchange, 'invoices.raw', Buffer.from([0, 1, 2, 255]), {
      contentType: 'application/x-custom',
      expiration: 60_000,
    });
    const raw = await take(otherQueue);
    assert.deepEqual([...raw.content], [0, 1, 2, 255]);
    assert.equal(raw.properties.contentType, 'application/x-custom');
    assert.equal(raw.properties.expiration, '60000');
  });

  test('a message the broker refuses is a coded error (nack)', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, amqpConnectionType, connect);
    await client.publish('', fullQueue, { n: 1 });
    const error = await rejection(client.publish('', fullQueue, { n: 2 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.deepEqual(error.details, { reason: 'nack' });
  });

  test('an exchange that does not exist is a coded error naming it, and the next publish works', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, amqpConnectionType, connect);
    const missing = `viaduct-no-such-${randomSuffix()}`;
    const error = await rejection(client.publish(missing, 'x', { n: 1 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, new RegExp(`NOT_FOUND.*${missing}`));
    await client.publish(exchange, 'orders.after-404', { n: 2 });
    assert.deepEqual(JSON.parse((await take(queue)).content.toString()), { n: 2 });
  });

  test('while the broker is away publishes fail at once, and it reconnects by itself', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const proxy = new TcpProxy('127.0.0.1', 5672);
    await proxy.start();
    t.after(() => proxy.stop());
    const { client, connection } = openDirect(t, amqpConnectionType, {
      ...connect,
      url: `amqp://127.0.0.1:${proxy.port}/`,
    });
    await client.publish(exchange, 'orders.before', { n: 1 });
    await take(queue);
    await proxy.stop();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const error = await rejection(client.publish(exchange, 'orders.down', { n: i }));
      assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', error.message);
      assert.ok(Date.now() - started < 1000, `failed fast (${Date.now() - started} ms)`);
    }
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    await proxy.start();
    await waitFor(
      async () =>
        client.publish(exchange, 'orders.after', { n: 9 }).then(
          () => true,
          () => false,
        ),
      10_000,
      100,
    );
    await connection.ping();
    assert.deepEqual(JSON.parse((await take(queue)).content.toString()), { n: 9 });
  });

  test('a broker that is not there at start does not throw from create; calls fail with a coded error', async (t) => {
    const port = await freePort();
    const { client, connection } = openDirect(t, amqpConnectionType, { url: `amqp://127.0.0.1:${port}/` });
    const error = await rejection(client.publish('amq.topic', 'x', { n: 1 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
  });

  test('a wrong password is a coded error, and the password is in no error or log line', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const password = `wrong-${randomSuffix()}`;
    const { client, connection, log } = openDirect(t, amqpConnectionType, { ...connect, password });
    const error = await rejection(client.publish('amq.topic', 'x', { n: 1 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.match(error.message, /the broker refused the login \(.*ACCESS_REFUSED.*\); reconnecting in the background$/);
    const ping = await rejection(connection.ping());
    for (const text of [error.message, ping.message, JSON.stringify(error), log.text])
      assert.ok(!text.includes(password), text);
    assert.ok(log.lines.length > 0, 'the failure was logged');
  });

  test('a virtual host that does not exist is named in the error', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const vhost = `no-such-vhost-${randomSuffix()}`;
    const { client } = openDirect(t, amqpConnectionType, {
      ...connect,
      url: `${connect.url.replace(/\/[^/]*$/, '')}/${vhost}`,
    });
    const error = await rejection(client.publish('amq.topic', 'x', { n: 1 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.match(
      error.message,
      new RegExp(
        `the broker refused to open the virtual host '${vhost}': it does not exist, or the user may not use it; reconnecting`,
      ),
    );
  });

  test('close lets a publish in flight finish before the connection goes', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client, connection } = openDirect(t, amqpConnectionType, connect);
    await client.publish(exchange, 'orders.warm', { n: 0 });
    await take(queue);
    const published = client.publish(exchange, 'orders.in-flight', { n: 1 });
    await connection.close();
    await published;
    assert.deepEqual(JSON.parse((await take(queue)).content.toString()), { n: 1 });
    assert.equal(
      (await rejection(client.publish(exchange, 'orders.late', { n: 2 }))).code,
      'VIA_ERR_OUTGOING_UNAVAILABLE',
    );
  });
});
