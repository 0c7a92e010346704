import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ViaductError } from '../../../src/errors.js';
import {
  encodeNotification,
  notification,
  readNotification,
  request,
} from '../../../src/util/process-link/message-definition.js';
import { ProcessLink } from '../../../src/util/process-link/process-link.js';
import { portPair } from '../../helpers/runtime.js';

const PING = notification<{ n: number }>('test:ping');
const BARE = notification('test:bare');
const DOUBLE = request<{ n: number; waitMs?: number }, number>('test:double');
const FAIL = request<{ coded: boolean }, void>('test:fail');
const UNANSWERED = request('test:unanswered');

function linked(): [ProcessLink, ProcessLink] {
  const [a, b] = portPair();
  return [new ProcessLink(a), new ProcessLink(b)];
}

describe('process link', () => {
  test('a notification reaches every listener with its own fields only', async () => {
    const [primary, worker] = linked();
    const seen: unknown[] = [];
    worker.on(PING, (body) => seen.push(body));
    worker.on(PING, (body) => seen.push(body.n * 10));
    worker.on(BARE, (body) => seen.push(body));
    primary.notify(PING, { n: 4 });
    primary.notify(BARE);
    await delay(10);
    assert.deepEqual(seen, [{ n: 4 }, 40, {}]);
  });

  test('requests are answered by id, also out of order', async () => {
    const [primary, worker] = linked();
    worker.handle(DOUBLE, async ({ n, waitMs }) => {
      await delay(waitMs ?? 0);
      return n * 2;
    });
    const slow = primary.request(DOUBLE, { n: 1, waitMs: 40 });
    const fast = primary.request(DOUBLE, { n: 2 });
    assert.equal(await fast, 4);
    assert.equal(await slow, 2);
  });

  test('an error keeps its code across the link; anything else becomes VIA_ERR_INTERNAL', async () => {
    const [primary, worker] = linked();
    worker.handle(FAIL, ({ coded }) => {
      throw coded
        ? new ViaductError('VIA_ERR_OBJECT_IN_USE', 'in use over there', { details: { by: 'x' } })
        : new Error('plain');
    });
    await assert.rejects(primary.request(FAIL, { coded: true }), {
      name: 'ViaductError',
      code: 'VIA_ERR_OBJECT_IN_USE',
      message: 'in use over there',
      details: { by: 'x' },
    });
    await assert.rejects(primary.request(FAIL, { coded: false }), {
      name: 'ViaductError',
      code: 'VIA_ERR_INTERNAL',
      message: 'plain',
    });
  });

  test('a request nothing answers fails instead of waiting forever', async () => {
    const [primary] = linked();
    await assert.rejects(primary.request(UNANSWERED, {}), {
      code: 'VIA_ERR_INTERNAL',
      message: /Nothing answers test:unanswered/,
    });
  });

  test('a request fails with VIA_ERR_TIMEOUT after its timeout; the late reply is ignored', async () => {
    const [primary, worker] = linked();
    worker.handle(DOUBLE, async ({ n, waitMs }) => {
      await delay(waitMs ?? 0);
      return n * 2;
    });
    await assert.rejects(primary.request(DOUBLE, { n: 1, waitMs: 50 }, { timeoutMs: 10 }), {
      code: 'VIA_ERR_TIMEOUT',
      message: /test:double within 10 ms/,
    });
    await delay(60);
    assert.equal(await primary.request(DOUBLE, { n: 3 }, { timeoutMs: 1000 }), 6);
  });

  test('an aborted request fails with the abort reason', async () => {
    const [primary, worker] = linked();
    worker.handle(DOUBLE, async ({ n }) => {
      await delay(50);
      return n;
    });
    const controller = new AbortController();
    const pending = primary.request(DOUBLE, { n: 1 }, { signal: controller.signal });
    controller.abort(new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'cancelled here'));
    await assert.rejects(pending, { code: 'VIA_ERR_SERVICE_UNAVAILABLE', message: 'cancelled here' });
    await assert.rejects(primary.request(DOUBLE, { n: 1 }, { signal: controller.signal }), {
      message: 'cancelled here',
    });
  });

  test('closing fails what waits and every later request', async () => {
    const [primary, worker] = linked();
    worker.handle(DOUBLE, async ({ n }) => {
      await delay(30);
      return n;
    });
    const pending = primary.request(DOUBLE, { n: 1 });
    primary.close();
    await assert.rejects(pending, { code: 'VIA_ERR_SERVICE_UNAVAILABLE' });
    await assert.rejects(primary.request(DOUBLE, { n: 1 }), { code: 'VIA_ERR_SERVICE_UNAVAILABLE' });
  });

  test('a notification is plain on the wire, for senders without a link', () => {
    const raw = encodeNotification(PING, { n: 5 });
    assert.deepEqual(raw, { t: 'test:ping', n: 5 });
    assert.deepEqual(readNotification(PING, raw), { n: 5 });
    assert.equal(readNotification(BARE, raw), undefined);
    assert.equal(readNotification(PING, { t: 'test:ping', id: 1, n: 5 }), undefined, 'a request is not a notification');
    assert.equal(readNotification(PING, null), undefined);
  });
});
