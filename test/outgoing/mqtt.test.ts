import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type * as Mqtt from 'mqtt';
import { mqttConnectionType } from '../../src/outgoing/mqtt/mqtt-connection-type.js';
import { mqttConnectionSchema } from '../../src/outgoing/mqtt/mqtt-kind.js';
import { runOutgoingConformance } from '../conformance/outgoing.js';
import { freePort, serverReachable, tempDir, waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { openDirect, portOpen, randomSuffix, rejection } from './messaging-fixture.js';

const mqtt = createRequire(import.meta.url)('mqtt') as typeof Mqtt;
const MOSQUITTO = 'mqtt://127.0.0.1:1883';

runOutgoingConformance({
  type: 'outgoing.mqtt',
  facade: 'mqtt',
  async peer() {
    const skip = await serverReachable('Mosquitto', 1883);
    return skip === undefined ? { host: '127.0.0.1', port: 1883 } : { skip };
  },
  config: (name, address) => ({ name, url: `mqtt://${address.host}:${address.port}` }),
  edit: { keepalive: 20 },
  // QoS 1 waits for the broker's PUBACK: a real round trip.
  use: `await conn.publish('viaduct-test/conformance/nobody', { hello: 'world' }, { qos: 1 });
    this.response.payload = { acknowledged: true };`,
  expected: { acknowledged: true },
});

interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly retain: boolean;
}

/** A separate client, subscribed with QoS 2 to `filter`, collecting what arrives; ended with the test. */
async function subscriber(t: TestContext, filter: string): Promise<Received[]> {
  const client = await mqtt.connectAsync(MOSQUITTO, {
    clientId: `viaduct-test-sub-${randomSuffix()}`,
    reconnectPeriod: 0,
  });
  t.after(() => client.endAsync(true));
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload, qos: packet.qos, retain: packet.retain }),
  );
  await client.subscribeAsync(filter, { qos: 2 });
  return received;
}

/** A Mosquitto of this test's own that wants a user name and password; stopped when the test ends. */
async function passwordProtectedMosquitto(t: TestContext, user: string, password: string): Promise<number> {
  const dir = await tempDir('viaduct-mosquitto-');
  const port = await freePort();
  execFileSync('mosquitto_passwd', ['-b', '-c', path.join(dir, 'passwd'), user, password]);
  // `user root` keeps a broker started by root from switching to a user that cannot read the temp dir.
  const conf = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${path.join(dir, 'passwd')}`,
    'persistence false',
    'user root',
    '',
  ];
  await writeFile(path.join(dir, 'mosquitto.conf'), conf.join('\n'));
  const broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  t.after(async () => {
    broker.kill();
    await rm(dir, { recursive: true, force: true });
  });
  await waitFor(() => portOpen(port), 5000, 100);
  return port;
}

describe('outgoing.mqtt', () => {
  const local = { url: MOSQUITTO };
  const reachable = (): Promise<string | undefined> => serverReachable('Mosquitto', 1883);

  test('the schema fills in defaults and keeps credentials out of the URL', () => {
    assert.deepEqual(mqttConnectionSchema.parse({ name: 'x' }), {
      name: 'x',
      is_active: true,
      url: 'mqtt://127.0.0.1:1883',
      keepalive: 30,
      connect_timeout: 5000,
      reconnect_period: 1000,
      publish_timeout: 10000,
    });
    assert.equal(mqttConnectionSchema.safeParse({ name: 'x', url: 'mqtt://u:p@127.0.0.1:1883' }).success, false);
    assert.equal(mqttConnectionSchema.safeParse({ name: 'x', url: 'http://127.0.0.1' }).success, false);
    assert.equal(mqttConnectionSchema.safeParse({ name: 'x', client_id: 'has space' }).success, false);
    assert.deepEqual(mqttConnectionType.kind.secretFields, ['password']);
  });

  test('QoS 0, 1 and 2 publishes arrive with their payload and QoS', async (t) => {
    const skip = await reachable();
    if (skip !== undefined) return t.skip(skip);
    const base = `viaduct-test/${randomSuffix()}`;
    const received = await subscriber(t, `${base}/#`);
    const { client } = openDirect(t, mqttConnectionType, local);
    await client.publish(`${base}/zero`, 'plain text');
    await client.publish(`${base}/one`, { reading: 21.5 }, { qos: 1 });
    await client.publish(`${base}/two`, Buffer.from([1, 2, 3]), { qos: 2 });
    await waitFor(() => received.length === 3, 5000);
    const byTopic = new Map(received.map((r) => [r.topic, r]));
    assert.equal(byTopic.get(`${base}/zero`)?.payload.toString(), 'plain text');
    assert.equal(byTopic.get(`${base}/zero`)?.qos, 0);
    assert.deepEqual(JSON.parse(byTopic.get(`${base}/one`)!.payload.toString()), { reading: 21.5 });
    assert.equal(byTopic.get(`${base}/one`)?.qos, 1);
    assert.deepEqual([...byTopic.get(`${base}/two`)!.payload], [1, 2, 3]);
    assert.equal(byTopic.get(`${base}/two`)?.qos, 2);
    assert.ok(received.every((r) => !r.retain));
  });

  test('a retained message reaches a late subscriber; an empty retained message clears it', async (t) => {
    const skip = await reachable();
    if (skip !== undefined) return t.skip(skip);
    const topic = `viaduct-test/${randomSuffix()}/status`;
    const { client } = openDirect(t, mqttConnectionType, local);
    t.after(async () => {
      // Mosquitto keeps retained messages on disk: clear this one even when an assertion failed.
      const cleaner = await mqtt.connectAsync(MOSQUITTO, {
        clientId: `viaduct-test-clean-${randomSuffix()}`,
        reconnectPeriod: 0,
      });
      await cleaner.publishAsync(topic, '', { qos: 1, retain: true });
      await cleaner.endAsync();
    });
    await client.publish(topic, { online: true }, { qos: 1, retain: true });
    const late = await subscriber(t, topic);
    await waitFor(() => late.length === 1, 5000);
    assert.equal(late[0]!.retain, true);
    assert.deepEqual(JSON.parse(late[0]!.payload.toString()), { online: true });
    await client.publish(topic, '', { qos: 1, retain: true });
    const later = await subscriber(t, topic);
    await delay(300);
    assert.deepEqual(later, [], 'nothing is retained any more');
  });

  test('two connections with one client id both stay connected (each worker gets its own id)', async (t) => {
    const skip = await reachable();
    if (skip !== undefined) return t.skip(skip);
    const base = `viaduct-test/${randomSuffix()}`;
    const received = await subscriber(t, `${base}/#`);
    const config = { ...local, client_id: 'viaduct-test-same', publish_timeout: 2000 };
    const a = openDirect(t, mqttConnectionType, config);
    const b = openDirect(t, mqttConnectionType, config);
    for (let i = 0; i < 5; i++) {
      await a.client.publish(`${base}/a`, String(i), { qos: 1 });
      await b.client.publish(`${base}/b`, String(i), { qos: 1 });
      await delay(50);
    }
    await waitFor(() => received.length === 10, 5000);
    assert.ok(
      !a.log.text.includes('MQTT connection down') && !b.log.text.includes('MQTT connection down'),
      'neither was disconnected',
    );
  });

  test('wildcard topics and a QoS other than 0, 1, 2 are refused before anything is sent', async (t) => {
    const skip = await reachable();
    if (skip !== undefined) return t.skip(skip);
    const { client, log } = openDirect(t, mqttConnectionType, local);
    for (const topic of ['a/+/b', 'a/#', ''])
      assert.equal((await rejection(client.publish(topic, 'x'))).code, 'VIA_ERR_OUTGOING_FAILED');
    assert.equal(
      (await rejection(client.publish('viaduct-test/x', 'x', { qos: 3 as 2 }))).code,
      'VIA_ERR_OUTGOING_FAILED',
    );
    await client.publish(`viaduct-test/${randomSuffix()}`, 'still connected', { qos: 1 });
    assert.ok(!log.text.includes('MQTT connection down'));
  });

  test('while the broker is away publishes fail at once, and it reconnects by itself', async (t) => {
    const skip = await reachable();
    if (skip !== undefined) return t.skip(skip);
    const proxy = new TcpProxy('127.0.0.1', 1883);
    await proxy.start();
    t.after(() => proxy.stop());
    const topic = `viaduct-test/${randomSuffix()}`;
    const received = await subscriber(t, topic);
    const { client, connection } = openDirect(t, mqttConnectionType, {
      url: `mqtt://127.0.0.1:${proxy.port}`,
      reconnect_period: 200,
    });
    await client.publish(topic, 'before', { qos: 1 });
    await proxy.stop();
    await delay(50);
    for (const qos of [0, 1, 2] as const) {
      const started = Date.now();
      const error = await rejection(client.publish(topic, 'down', { qos }));
      assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', error.message);
      assert.ok(Date.now() - started < 1000, `failed fast (${Date.now() - started} ms)`);
    }
    assert.equal((await rejection(connection.ping())).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    await proxy.start();
    await waitFor(
      async () =>
        client.publish(topic, 'after', { qos: 1 }).then(
          () => true,
          () => false,
        ),
      10_000,
      100,
    );
    await connection.ping();
    await waitFor(() => received.some((r) => r.payload.toString() === 'after'), 5000);
    assert.ok(!received.some((r) => r.payload.toString() === 'down'), 'nothing published while down arrives later');
  });

  test('a broker that is not there at start does not throw from create; calls fail with a coded error that shows no password', async (t) => {
    const port = await freePort();
    const password = `secret-${randomSuffix()}`;
    const { client, connection, log } = openDirect(t, mqttConnectionType, {
      url: `mqtt://127.0.0.1:${port}`,
      username: 'someone',
      password,
    });
    const started = Date.now();
    const error = await rejection(client.publish('viaduct-test/x', 'x', { qos: 1 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.ok(Date.now() - started < 6000);
    const ping = await rejection(connection.ping());
    for (const text of [error.message, ping.message, log.text]) assert.ok(!text.includes(password));
  });

  test('a broker that wants a password: the right one publishes, a wrong one is a coded error that shows no password', async (t) => {
    const mosquitto = await new Promise<boolean>((resolve) =>
      spawn('mosquitto', ['-h'], { stdio: 'ignore' })
        .on('error', () => resolve(false))
        .on('exit', () => resolve(true)),
    );
    if (!mosquitto) return t.skip('the mosquitto program is not installed');
    const password = `right-${randomSuffix()}`;
    const port = await passwordProtectedMosquitto(t, 'viaduct', password);
    const { client } = openDirect(t, mqttConnectionType, {
      url: `mqtt://127.0.0.1:${port}`,
      username: 'viaduct',
      password,
    });
    await client.publish('viaduct-test/secured', 'hello', { qos: 1 });
    const wrong = `wrong-${randomSuffix()}`;
    const bad = openDirect(t, mqttConnectionType, {
      url: `mqtt://127.0.0.1:${port}`,
      username: 'viaduct',
      password: wrong,
      reconnect_period: 200,
    });
    const error = await rejection(bad.client.publish('viaduct-test/secured', 'hello', { qos: 1 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.match(error.message, /Not authorized/i);
    await delay(500);
    const again = await rejection(bad.client.publish('viaduct-test/secured', 'hello', { qos: 1 }));
    assert.match(again.message, /Not authorized/i, 'it keeps trying and keeps telling why');
    for (const text of [error.message, bad.log.text]) assert.ok(!text.includes(wrong) && !text.includes(password));
  });

  test('close lets a QoS 2 publish in flight finish', async (t) => {
    const skip = await reachable();
    if (skip !== undefined) return t.skip(skip);
    const topic = `viaduct-test/${randomSuffix()}`;
    const received = await subscriber(t, topic);
    const { client, connection } = openDirect(t, mqttConnectionType, local);
    await client.publish(topic, 'warm', { qos: 1 });
    const inFlight = client.publish(topic, 'last', { qos: 2 });
    await connection.close();
    await inFlight;
    await waitFor(() => received.some((r) => r.payload.toString() === 'last'), 5000);
    assert.equal((await rejection(client.publish(topic, 'closed'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
  });
});
