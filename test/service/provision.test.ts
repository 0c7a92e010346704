import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Invoker } from '../../src/service/invoker.js';
import type { ServiceRequest } from '../../src/service/request.js';
import { Provision, provisionOf, Service } from '../../src/service/service.js';
import { ServiceStore } from '../../src/service/service-store.js';
import '../../src/outgoing/service-out.js';

const clock = new Provision<{ now(): number }>('the test clock');

class ReadsClock extends Service {
  static override serviceName = 'test.reads-clock';

  override handle(): void {
    this.response.payload = { now: provisionOf(this, clock).now() };
  }
}

const request: ServiceRequest = {
  payload: undefined,
  raw: undefined,
  http: undefined,
  channel: { type: 'invoke', name: undefined },
};

test('what the invoker provides reaches a service through its invocation, and only there', async () => {
  const store = new ServiceStore();
  store.addInternal({ name: ReadsClock.serviceName, cls: ReadsClock, file: undefined, timeout: undefined });
  const invoker = new Invoker(store, pino({ level: 'silent' }), 1_000);

  await assert.rejects(invoker.invoke(ReadsClock.serviceName, request, { cid: 'cid-1' }), {
    message: 'Not available outside a running server: the test clock',
  });

  invoker.provide(clock, { now: () => 42 });
  assert.deepEqual((await invoker.invoke(ReadsClock.serviceName, request, { cid: 'cid-2' })).payload, { now: 42 });

  // An instance made by hand has no invocation: the facades say what is missing.
  const loose = new ReadsClock();
  assert.throws(() => loose.handle(), { message: 'Not available outside a running server: the test clock' });
  assert.throws(() => loose.out, { message: 'Not available outside a running server: outgoing connections' });
});
