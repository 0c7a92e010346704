import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerUrl } from '../../src/outgoing/broker-url.js';
import { encodeMessage } from '../../src/outgoing/message-body.js';
import { reconnectDelay } from '../../src/outgoing/reconnect-delay.js';

describe('what the messaging connections (AMQP, MQTT, NATS) share', () => {
  test('reconnect delays double from 0.25 s up to 5 s, each ±20 %', () => {
    const around = (failures: number): number[] => Array.from({ length: 50 }, () => reconnectDelay(failures));
    for (const d of around(1)) assert.ok(d >= 200 && d <= 300, String(d));
    for (const d of around(3)) assert.ok(d >= 800 && d <= 1200, String(d));
    for (const d of around(50)) assert.ok(d >= 4000 && d <= 6000, String(d));
  });

  test('messages: JSON for values, UTF-8 for strings, bytes as they are; undefined is refused', () => {
    assert.deepEqual(encodeMessage({ a: 1 }), { bytes: Buffer.from('{"a":1}'), contentType: 'application/json' });
    assert.deepEqual(encodeMessage(null), { bytes: Buffer.from('null'), contentType: 'application/json' });
    assert.deepEqual(encodeMessage('héllo'), {
      bytes: Buffer.from('héllo', 'utf8'),
      contentType: 'text/plain; charset=utf-8',
    });
    assert.deepEqual(encodeMessage(new Uint8Array([1, 2])), {
      bytes: Buffer.from([1, 2]),
      contentType: 'application/octet-stream',
    });
    assert.throws(() => encodeMessage(undefined), TypeError);
  });

  test('broker URLs: the right scheme, and no credentials in them', () => {
    const url = brokerUrl(['nats:', 'tls:'], 'nats://127.0.0.1:4222');
    assert.equal(url.safeParse('nats://127.0.0.1:4222').success, true);
    assert.equal(url.safeParse('tls://nats.example.com:4222').success, true);
    assert.match(JSON.stringify(url.safeParse('http://127.0.0.1').error?.issues), /nats:\/\/ or tls:\/\//);
    assert.match(JSON.stringify(url.safeParse('nats://user:secret@127.0.0.1').error?.issues), /their own fields/);
    assert.match(JSON.stringify(url.safeParse('not a url').error?.issues), /such as nats:/);
  });
});
