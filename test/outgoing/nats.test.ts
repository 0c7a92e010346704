import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type * as Nats from 'nats';
import { natsConnectionType } from '../../src/outgoing/nats/nats-connection-type.js';
import { natsConnectionSchema } from '../../src/outgoing/nats/nats-kind.js';
import { runOutgoingConformance } from '../conformance/outgoing.js';
import { freePort, serverReachable, waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { openDirect, portOpen, randomSuffix, rejection } from './messaging-fixture.js';

const nats = createRequire(import.meta.url)('nats') as typeof Nats;
const NATS_SERVER = 'nats://127.0.0.1:4222';

/** Answers every request on `subject` with { echoed: <the request's JSON>, header: <its x-test header> }. */
async function echoResponder(subject: string, answerAfterMs = 0): Promise<Nats.NatsConnection> {
  const nc = await nats.connect({ servers: NATS_SERVER });
  nc.subscribe(subject, {
    callback: (error, message) => {
      if (error !== null) return;
      const answer = { echoed: message.json(), header: message.headers?.get('x-test') ?? null };
      setTimeout(() => message.respond(nats.JSONCodec().encode(answer)), answerAfterMs);
    },
  });
  await nc.flush();
  return nc;
}

const conformanceSubject = `viaduct-test.conformance.${randomSuffix()}`;
let conformanceResponder: Nats.NatsConnection | undefined;

runOutgoingConformance({
  type: 'outgoing.nats',
  facade: 'nats',
  async peer() {
    const skip = await serverReachable('NATS', 4222);
    if (skip !== undefined) return { skip };
    // The responder talks to the server directly; only the connection under test goes through the proxy.
    conformanceResponder = await echoResponder(conformanceSubject);
    return { host: '127.0.0.1', port: 4222 };
  },
  config: (name, address) => ({ name, servers: [`nats://${address.host}:${address.port}`] }),
  edit: { request_timeout: 4000 },
  use: `const reply = await conn.request('${conformanceSubject}', { n: 1 });
    this.response.payload = reply.json();`,
  expected: { echoed: { n: 1 }, header: null },
  async teardown() {
    await conformanceResponder?.close();
  },
});

/** A nats-server of this test's own, started with `args` (auth options) on a free port; stopped when the test ends. */
async function ownNatsServer(t: TestContext, args: string[]): Promise<number> {
  const port = await freePort();
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: 'ignore' });
  t.after(() => void server.kill());
  await waitFor(() => portOpen(port), 5000, 50);
  return port;
}

async function natsServerInstalled(): Promise<boolean> {
  return new Promise((resolve) =>
    spawn('nats-server', ['--version'], { stdio: 'ignore' })
      .on('error', () => resolve(false))
      .on('exit', () => resolve(true)),
  );
}

describe('outgoing.nats', () => {
  let skip: string | undefined;
  let raw: Nats.NatsConnection;
  let jsm: Nats.JetStreamManager;
  const suffix = randomSuffix();
  const base = `viaduct-test.${suffix}`;
  const stream = `VIADUCT_TEST_${suffix.toUpperCase()}`;

  before(async () => {
    skip = await serverReachable('NATS', 4222);
    if (skip !== undefined) return;
    raw = await nats.connect({ servers: NATS_SERVER });
    jsm = await raw.jetstreamManager();
    await jsm.streams.add({
      name: stream,
      subjects: [`${base}.js.>`],
      storage: nats.StorageType.Memory,
      duplicate_window: nats.nanos(60_000),
    });
  });

  after(async () => {
    if (skip !== undefined) return;
    await jsm.streams.delete(stream);
    await raw.close();
  });

  const local = { servers: [NATS_SERVER] };

  test('the schema fills in defaults; token and user/password exclude each other; both are secret', () => {
    assert.deepEqual(natsConnectionSchema.parse({ name: 'x' }), {
      name: 'x',
      is_active: true,
      servers: ['nats://127.0.0.1:4222'],
      connect_timeout: 5000,
      request_timeout: 5000,
      ping_interval: 30000,
    });
    assert.equal(
      natsConnectionSchema.safeParse({ name: 'x', token: 't', username: 'u', password: 'p' }).success,
      false,
    );
    assert.equal(natsConnectionSchema.safeParse({ name: 'x', username: 'u' }).success, false);
    assert.equal(natsConnectionSchema.safeParse({ name: 'x', servers: ['nats://u:p@127.0.0.1:4222'] }).success, false);
    assert.equal(natsConnectionSchema.safeParse({ name: 'x', servers: [] }).success, false);
    assert.deepEqual(natsConnectionType.kind.secretFields, ['password', 'token']);
  });

  test('publish delivers the message with its headers', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const subject = `${base}.publish`;
    const subscription = raw.subscribe(subject, { max: 2 });
    await raw.flush();
    const { client } = openDirect(t, natsConnectionType, local);
    await client.publish(subject, { order: 7 }, { headers: { 'x-tenant': 'acme' } });
    await client.publish(subject, 'plain');
    const received: Nats.Msg[] = [];
    for await (const message of subscription) received.push(message);
    assert.deepEqual(received[0]!.json(), { order: 7 });
    assert.equal(received[0]!.headers?.get('x-tenant'), 'acme');
    assert.equal(received[1]!.string(), 'plain');
  });

  test('request gets the reply; headers go along', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const subject = `${base}.echo`;
    const responder = await echoResponder(subject);
    t.after(() => responder.close());
    const { client } = openDirect(t, natsConnectionType, local);
    const reply = await client.request(subject, { q: 'ping' }, { headers: { 'x-test': 'yes' } });
    assert.deepEqual(reply.json(), { echoed: { q: 'ping' }, header: 'yes' });
    assert.deepEqual(JSON.parse(reply.text()), reply.json());
    assert.ok(Buffer.isBuffer(reply.data));
  });

  test('a request nobody answers in time is VIA_ERR_OUTGOING_TIMEOUT; one nobody listens to is a coded no-responders error', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const slow = `${base}.slow`;
    const responder = await echoResponder(slow, 2000);
    t.after(() => responder.close());
    const { client } = openDirect(t, natsConnectionType, local);
    const started = Date.now();
    const timedOut = await rejection(client.request(slow, { n: 1 }, { timeout: 300 }));
    assert.equal(timedOut.code, 'VIA_ERR_OUTGOING_TIMEOUT');
    assert.ok(Date.now() - started < 1500);
    const nobody = await rejection(client.request(`${base}.nobody`, { n: 1 }));
    assert.equal(nobody.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.deepEqual(nobody.details, { reason: 'no-responders' });
  });

  test('a JetStream publish is acknowledged by the stream, and a repeated msgId is a duplicate', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { client } = openDirect(t, natsConnectionType, local);
    const first = await client.jetstreamPublish(
      `${base}.js.orders`,
      { order: 1 },
      { msgId: 'order-1', headers: { 'x-tenant': 'acme' } },
    );
    assert.deepEqual(first, { stream, seq: 1, duplicate: false });
    const again = await client.jetstreamPublish(`${base}.js.orders`, { order: 1 }, { msgId: 'order-1' });
    assert.deepEqual(again, { stream, seq: 1, duplicate: true });
    const second = await client.jetstreamPublish(`${base}.js.orders`, { order: 2 }, { msgId: 'order-2' });
    assert.deepEqual(second, { stream, seq: 2, duplicate: false });
    const info = await jsm.streams.info(stream);
    assert.equal(info.state.messages, 2);
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    assert.deepEqual(stored.json(), { order: 1 });
    assert.equal(stored.header.get('x-tenant'), 'acme');
    const noStream = await rejection(client.jetstreamPublish(`${base}.not-in-a-stream`, { n: 1 }));
    assert.equal(noStream.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.deepEqual(noStream.details, { reason: 'no-stream' });
  });

  test('while the server is away calls fail at once, and it reconnects by itself', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const subject = `${base}.away`;
    const responder = await echoResponder(subject);
    t.after(() => responder.close());
    const proxy = new TcpProxy('127.0.0.1', 4222);
    await proxy.start();
    t.after(() => proxy.stop());
    const { client, connection } = openDirect(t, natsConnectionType, { servers: [`nats://127.0.0.1:${proxy.port}`] });
    assert.deepEqual((await client.request(subject, 1)).json(), { echoed: 1, header: null });
    await proxy.stop();
    await delay(100);
    const calls = [
      () => client.publish(subject, 'x'),
      () => client.request(subject, 2),
      () => client.jetstreamPublish(`${base}.js.away`, 3),
      () => connection.ping(),
    ];
    for (const call of calls) {
      const started = Date.now();
      const error = await rejection(call());
      assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', error.message);
      assert.ok(Date.now() - started < 1000, `failed fast (${Date.now() - started} ms)`);
    }
    await proxy.start();
    await waitFor(
      async () =>
        client.request(subject, 4).then(
          () => true,
          () => false,
        ),
      15_000,
      100,
    );
    await connection.ping();
  });

  test('a request in flight when the connection drops fails at once, not at its timeout', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const subject = `${base}.dropped`;
    const responder = await echoResponder(subject, 3000);
    t.after(() => responder.close());
    const proxy = new TcpProxy('127.0.0.1', 4222);
    await proxy.start();
    t.after(() => proxy.stop());
    const { client } = openDirect(t, natsConnectionType, { servers: [`nats://127.0.0.1:${proxy.port}`] });
    await client.publish(subject, { warmUp: true });
    const started = Date.now();
    const pending = rejection(client.request(subject, { n: 1 }, { timeout: 10_000 }));
    await delay(100);
    await proxy.stop();
    const error = await pending;
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', error.message);
    assert.ok(Date.now() - started < 2000, `failed at the drop (${Date.now() - started} ms)`);
  });

  test('a server that is not there at start: create does not throw, calls fail at once, and it connects once the server is up', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const proxy = new TcpProxy('127.0.0.1', 4222);
    await proxy.start();
    await proxy.stop();
    t.after(() => proxy.stop());
    const { client } = openDirect(t, natsConnectionType, { servers: [`nats://127.0.0.1:${proxy.port}`] });
    assert.equal((await rejection(client.publish(`${base}.late`, 'x'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    const started = Date.now();
    assert.equal((await rejection(client.publish(`${base}.late`, 'x'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.ok(Date.now() - started < 500, 'after the first attempt failed, calls fail at once');
    await proxy.start();
    await waitFor(
      async () =>
        client.publish(`${base}.late`, 'x').then(
          () => true,
          () => false,
        ),
      15_000,
      100,
    );
  });

  test('user and password, and token, log in; wrong ones are coded errors that show no secret', async (t) => {
    if (!(await natsServerInstalled())) return t.skip('the nats-server program is not installed');
    const password = `pw-${randomSuffix()}`;
    const withPassword = await ownNatsServer(t, ['--user', 'viaduct', '--pass', password]);
    const good = openDirect(t, natsConnectionType, {
      servers: [`nats://127.0.0.1:${withPassword}`],
      username: 'viaduct',
      password,
    });
    await good.client.publish('viaduct-test.auth', 'x');
    const wrong = `wrong-${randomSuffix()}`;
    const bad = openDirect(t, natsConnectionType, {
      servers: [`nats://127.0.0.1:${withPassword}`],
      username: 'viaduct',
      password: wrong,
    });
    const error = await rejection(bad.client.publish('viaduct-test.auth', 'x'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.match(error.message, /AUTHORIZATION_VIOLATION|Authorization/i);
    for (const text of [error.message, bad.log.text]) assert.ok(!text.includes(wrong) && !text.includes(password));

    const token = `tk-${randomSuffix()}`;
    const withToken = await ownNatsServer(t, ['--auth', token]);
    const tokenClient = openDirect(t, natsConnectionType, { servers: [`nats://127.0.0.1:${withToken}`], token });
    await tokenClient.client.publish('viaduct-test.auth', 'x');
    const badToken = openDirect(t, natsConnectionType, {
      servers: [`nats://127.0.0.1:${withToken}`],
      token: `not-${token}`,
    });
    const tokenError = await rejection(badToken.client.publish('viaduct-test.auth', 'x'));
    assert.equal(tokenError.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.ok(!tokenError.message.includes(token) && !badToken.log.text.includes(token));
  });

  test('close lets a request in flight finish', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const subject = `${base}.closing`;
    const responder = await echoResponder(subject, 200);
    t.after(() => responder.close());
    const { client, connection } = openDirect(t, natsConnectionType, local);
    await client.publish(subject, { warmUp: true });
    const pending = client.request(subject, { last: true });
    await connection.close();
    assert.deepEqual((await pending).json(), { echoed: { last: true }, header: null });
    assert.equal((await rejection(client.publish(subject, 'after'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
  });
});
