import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';
import { waitFor } from '../helpers/env.js';

const ECHO = `import { Service } from 'viaduct';
export class Echo extends Service {
  static serviceName = 'cap.echo';
  async handle() {
    const body = this.request.payload as { fail?: boolean };
    if (body?.fail) throw new Error('asked to fail');
    this.response.payload = { got: this.request.payload, id: this.request.http?.params.id ?? null };
  }
}
`;

interface Capture {
  id: string;
  channel: string;
  service: string;
  cid: string;
  outcome: string;
  status: number;
  errorCode: string | null;
  resubmittable: boolean;
  request: {
    method: string;
    path: string;
    query: Record<string, unknown>;
    headers: Record<string, unknown>;
    body: string;
    truncated: boolean;
  };
  response: { body: string; truncated: boolean };
}

let cluster: TestCluster;

before(async () => {
  cluster = await bootWorkers(1);
  const ok = async (service: string, payload: unknown) =>
    assert.equal((await cluster.admin(service, payload)).status, 200, service);
  await ok('viaduct.service.deploy', { file: 'echo.ts', source: ECHO });
  await ok('viaduct.channel.rest.create', {
    name: 'kept',
    path: '/kept/{id}',
    service: 'cap.echo',
    capture: true,
    capture_mask: ['IBAN'],
  });
  await ok('viaduct.channel.rest.create', {
    name: 'small',
    path: '/small',
    service: 'cap.echo',
    capture: true,
    capture_max_body: 10,
  });
  await ok('viaduct.channel.rest.create', { name: 'plain', path: '/plain', service: 'cap.echo' });
});

after(() => cluster?.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${cluster.urls[0]}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

async function captures(filter: Record<string, unknown>, count: number): Promise<Capture[]> {
  let found: Capture[] = [];
  await waitFor(
    async () => {
      found = (await cluster.admin<Capture[]>('viaduct.channel.rest.capture.get-list', filter)).body;
      return found.length >= count;
    },
    10_000,
    100,
  );
  return found;
}

test('a captured request: masked for display, kept whole for resubmitting, which reaches the service as it came', async () => {
  const sent = { name: 'ann', password: 'hunter2', account: { iban: 'DE89370400440532013000' } };
  const response = await post('/kept/42?token=abc&page=2', sent, { authorization: 'Bearer s3cr3t' });
  assert.equal(response.status, 200);
  const cid = response.headers.get('x-viaduct-cid')!;
  const [record] = await captures({ channel: 'kept' }, 1);
  assert.equal(record!.cid, cid);
  assert.equal(record!.outcome, 'ok');
  assert.equal(record!.status, 200);
  assert.equal(record!.service, 'cap.echo');
  assert.equal(record!.request.method, 'POST');
  assert.equal(record!.request.path, '/kept/42');
  assert.deepEqual(record!.request.query, { token: '***', page: '2' });
  assert.equal(record!.request.headers.authorization, '***');
  assert.deepEqual(JSON.parse(record!.request.body), { name: 'ann', password: '***', account: { iban: '***' } });
  assert.deepEqual(JSON.parse(record!.response.body), {
    got: { name: 'ann', password: '***', account: { iban: '***' } },
    id: '42',
  });
  assert.doesNotMatch(JSON.stringify(record), /hunter2|DE8937|s3cr3t|abc/);
  assert.equal(record!.resubmittable, true);

  const one = await cluster.admin<Capture>('viaduct.channel.rest.capture.get', { id: record!.id });
  assert.deepEqual(one.body, record);

  const again = await cluster.admin<{ cid: string; status: number; payload: unknown }>(
    'viaduct.channel.rest.capture.resubmit',
    { id: record!.id },
  );
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 200);
  assert.notEqual(again.body.cid, cid);
  assert.deepEqual(again.body.payload, { got: sent, id: '42' }, 'the original body and path parameters');
});

test('a failed request is captured with its code; a channel without capture keeps nothing; bodies are cut to size', async () => {
  const failing = await post('/kept/7', { fail: true });
  assert.equal(failing.status, 500);
  const [failed] = await captures({ channel: 'kept', outcome: 'error' }, 1);
  assert.equal(failed!.errorCode, 'VIA_ERR_SERVICE_FAILED');
  assert.equal(failed!.status, 500);
  assert.equal(JSON.parse(failed!.response.body).error.code, 'VIA_ERR_SERVICE_FAILED');
  // Resubmitted, it fails again: the admin call answers how it went, with the new cid.
  const again = await cluster.admin<{ cid: string; status: number; error: { code: string } }>(
    'viaduct.channel.rest.capture.resubmit',
    { id: failed!.id },
  );
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 500);
  assert.equal(again.body.error.code, 'VIA_ERR_SERVICE_FAILED');
  assert.match(again.body.cid, /\w+/);

  assert.equal((await post('/small', { long: 'x'.repeat(100) })).status, 200);
  const [small] = await captures({ channel: 'small' }, 1);
  assert.equal(small!.request.truncated, true);
  assert.equal(Buffer.byteLength(small!.request.body), 10);

  assert.equal((await post('/plain', { a: 1 })).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.deepEqual(
    (await cluster.admin<Capture[]>('viaduct.channel.rest.capture.get-list', { channel: 'plain' })).body,
    [],
  );
  const missing = await cluster.admin<{ error: { code: string } }>('viaduct.channel.rest.capture.get', {
    id: '00000000-0000-4000-8000-000000000000',
  });
  assert.equal(missing.body.error.code, 'VIA_ERR_OBJECT_NOT_FOUND');
});
