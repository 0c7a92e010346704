import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Broker, BrokerMessage } from '../../src/broker/broker.js';
import { publishChange } from '../../src/broker/publish-change.js';
import { ViaductError } from '../../src/errors.js';

const logger = pino({ level: 'silent' });

function brokerWhose(broadcast: (message: BrokerMessage) => Promise<void>): Broker {
  return {
    start: async () => undefined,
    ready: async () => undefined,
    broadcast,
    dispatch: async () => undefined,
    close: async () => undefined,
  };
}

async function answerOf(broker: Broker, confirmMs: number): Promise<ViaductError | undefined> {
  try {
    await publishChange(broker, { action: 'config.changed', version: 7 }, confirmMs, logger);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ViaductError);
    return error;
  }
}

test('a change every worker confirmed in time answers success', async () => {
  assert.equal(
    await answerOf(
      brokerWhose(async () => undefined),
      1_000,
    ),
    undefined,
  );
});

test('a change no worker confirms in time is committed but unconfirmed (202), and the late failure is not left unhandled', async () => {
  let fail: (error: Error) => void = () => undefined;
  const pending = new Promise<void>((_resolve, reject) => (fail = reject));
  const error = await answerOf(
    brokerWhose(() => pending),
    50,
  );
  assert.equal(error?.code, 'VIA_ERR_CHANGE_UNCONFIRMED');
  assert.equal(error?.status, 202);
  assert.deepEqual(error?.details, { version: 7 });
  assert.match(error!.message, /committed \(version 7\)/);
  // The broker's own timeout comes later: it is caught (an unhandled rejection would fail this test file).
  fail(new ViaductError('VIA_ERR_CONFIG_APPLY', 'No answer'));
  await new Promise((resolve) => setImmediate(resolve));
});

test('a worker that failed to apply a committed change: unconfirmed, with the failure as its cause', async () => {
  const error = await answerOf(
    brokerWhose(async () => {
      throw new ViaductError('VIA_ERR_CONFIG_APPLY', '2 workers failed: x; y');
    }),
    1_000,
  );
  assert.equal(error?.code, 'VIA_ERR_CHANGE_UNCONFIRMED');
  assert.deepEqual(error?.details, {
    version: 7,
    cause: { code: 'VIA_ERR_CONFIG_APPLY', message: '2 workers failed: x; y' },
  });
});
