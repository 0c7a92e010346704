import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { bootWorkers, HELLO_SOURCE, type TestCluster } from '../helpers/runtime.js';

const SERVICES = `import { Service, ViaductError } from 'viaduct';

export class Echo extends Service {
  static serviceName = 'test.echo';
  async handle() {
    this.response.payload = { payload: this.request.payload ?? null, params: this.request.http?.params, query: this.request.http?.query, channel: this.request.channel, cid: this.cid };
  }
}

export class Fails extends Service {
  static serviceName = 'test.fails';
  async handle() { throw new Error('secret internal detail'); }
}

export class Coded extends Service {
  static serviceName = 'test.coded';
  async handle() { throw new ViaductError('VIA_ERR_VALIDATION', 'name is required'); }
}

export class Slow extends Service {
  static serviceName = 'test.slow';
  static timeout = 100;
  async handle() { await new Promise((r) => setTimeout(r, 1000)); this.response.payload = 'late'; }
}

export class Custom extends Service {
  static serviceName = 'test.custom';
  async handle() {
    this.response.status = 201;
    this.response.headers['x-custom'] = 'yes';
    this.response.contentType = 'application/vnd.test+json';
    this.response.payload = { created: true };
  }
}

export class Hooks extends Service {
  static serviceName = 'test.hooks';
  order: string[] = [];
  beforeHandle() { this.order.push('before'); }
  async handle() { this.order.push('handle'); }
  afterHandle() { this.order.push('after'); this.response.payload = this.order; }
}

export class Outer extends Service {
  static serviceName = 'test.outer';
  async handle() {
    const inner = await this.invoke('test.echo', { from: 'outer' });
    this.response.payload = { outerCid: this.cid, inner };
  }
}

export class ThrowsAtOnce extends Service {
  static serviceName = 'test.throws-at-once';
  handle() { throw new Error('thrown before any await'); }
}

export class BadConstructor extends Service {
  static serviceName = 'test.bad-constructor';
  broken = (() => { throw new Error('thrown by a field initializer'); })();
  async handle() { this.response.payload = 'unreachable'; }
}

export class BadHeader extends Service {
  static serviceName = 'test.bad-header';
  async handle() { this.response.headers['x-bad'] = 'line\\nbreak'; this.response.payload = { ok: true }; }
}

export class Sync extends Service {
  static serviceName = 'test.sync';
  handle() { this.response.payload = { sync: true }; }
}

export class Text extends Service {
  static serviceName = 'test.text';
  async handle() { this.response.payload = String(this.request.payload).toUpperCase(); }
}

export class Raw extends Service {
  static serviceName = 'test.raw';
  async handle() { const raw = this.request.payload as Buffer; this.response.payload = Buffer.from([...raw].reverse()); }
}
`;

let cluster: TestCluster;

async function channel(body: Record<string, unknown>): Promise<void> {
  const { status, body: reply } = await cluster.admin('viaduct.channel.rest.create', body);
  assert.equal(status, 200, JSON.stringify(reply));
}

describe('REST channel pipeline', () => {
  before(async () => {
    cluster = await bootWorkers(2);
    assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'pipeline.ts', source: SERVICES })).status, 200);
    assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
    await channel({ name: 'echo', path: '/echo/{id}', service: 'test.echo' });
    await channel({ name: 'fails', path: '/fails', service: 'test.fails' });
    await channel({ name: 'coded', path: '/coded', service: 'test.coded' });
    await channel({ name: 'slow', path: '/slow', service: 'test.slow' });
    await channel({ name: 'custom', path: '/custom', service: 'test.custom', method: 'PUT' });
    await channel({ name: 'hooks', path: '/hooks', service: 'test.hooks' });
    await channel({ name: 'outer', path: '/outer', service: 'test.outer' });
    await channel({ name: 'text', path: '/text', service: 'test.text', data_format: 'text' });
    await channel({ name: 'raw', path: '/raw', service: 'test.raw', data_format: 'raw' });
    await channel({ name: 'small', path: '/small', service: 'test.echo', max_body_size: 100 });
    for (const name of ['throws-at-once', 'bad-constructor', 'bad-header', 'sync']) await channel({ name, path: `/${name}`, service: `test.${name}` });
  });
  after(() => cluster.close());

  test('the service receives the parsed body, path parameters and query; the cid comes back as a header', async () => {
    const response = await fetch(`${cluster.urls[1]}/echo/42?q=a&q=b&x=1`, { method: 'POST', body: JSON.stringify({ a: 1 }) });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(body.payload, { a: 1 });
    assert.deepEqual(body.params, { id: '42' });
    assert.deepEqual(body.query, { q: ['a', 'b'], x: '1' });
    assert.deepEqual(body.channel, { type: 'rest', name: 'echo' });
    assert.equal(response.headers.get('x-viaduct-cid'), body.cid);
  });

  test('every invocation gets its own cid', async () => {
    const cids = new Set<string | null>();
    for (let i = 0; i < 5; i++) cids.add((await fetch(`${cluster.urls[0]}/echo/1`)).headers.get('x-viaduct-cid'));
    assert.equal(cids.size, 5);
  });

  test('malformed JSON is a 400 with the one error shape', async () => {
    const response = await fetch(`${cluster.urls[0]}/echo/1`, { method: 'POST', body: '{"a":' });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; message: string; cid: string } };
    assert.equal(body.error.code, 'VIA_ERR_BAD_JSON');
    assert.equal(body.error.cid, response.headers.get('x-viaduct-cid'));
  });

  test('unknown path 404, wrong method 405 with Allow', async () => {
    const missing = await fetch(`${cluster.urls[0]}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'VIA_ERR_NOT_FOUND');
    const wrong = await fetch(`${cluster.urls[0]}/custom`, { method: 'GET' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'PUT');
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'VIA_ERR_METHOD_NOT_ALLOWED');
  });

  test('a service that throws is a 500 without its message or stack', async () => {
    const response = await fetch(`${cluster.urls[0]}/fails`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'VIA_ERR_SERVICE_FAILED');
    assert.doesNotMatch(text, /secret internal detail|at .*:\d+/);
  });

  test('a service that fails before its first await, in its constructor, or with a header HTTP cannot carry is a 500; the worker goes on', async () => {
    for (const path of ['/throws-at-once', '/bad-constructor', '/bad-header']) {
      for (const url of cluster.urls) {
        const response = await fetch(`${url}${path}`, { method: 'POST', body: '{}' });
        assert.equal(response.status, 500, path);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'VIA_ERR_SERVICE_FAILED', path);
      }
    }
    const sync = await fetch(`${cluster.urls[0]}/sync`);
    assert.equal(sync.status, 200);
    assert.deepEqual(await sync.json(), { sync: true });
    for (const url of cluster.urls) assert.equal((await fetch(`${url}/echo/1`, { method: 'POST', body: '{}' })).status, 200);
  });

  test('a service may throw a coded error, which keeps its code and status', async () => {
    const response = await fetch(`${cluster.urls[0]}/coded`);
    assert.equal(response.status, 400);
    assert.deepEqual(((await response.json()) as { error: { code: string; message: string } }).error.code, 'VIA_ERR_VALIDATION');
  });

  test('a service over its timeout is a 504', async () => {
    const started = Date.now();
    const response = await fetch(`${cluster.urls[0]}/slow`);
    assert.equal(response.status, 504);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'VIA_ERR_TIMEOUT');
    assert.ok(Date.now() - started < 900, 'answered at the timeout, not when the work ended');
  });

  test('a body over the channel limit is a 413, by Content-Length or while streaming', async () => {
    const declared = await fetch(`${cluster.urls[0]}/small`, { method: 'POST', body: JSON.stringify({ big: 'x'.repeat(500) }) });
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as { error: { code: string } }).error.code, 'VIA_ERR_BODY_TOO_LARGE');
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${cluster.urls[0]}/small`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(80));
      req.write('x'.repeat(80));
      req.end();
    });
    assert.equal(streamed, 413);
    const fine = await fetch(`${cluster.urls[0]}/small`, { method: 'POST', body: '{"ok":true}' });
    assert.equal(fine.status, 200, 'the server keeps serving');
  });

  test('status, headers and content type come from this.response', async () => {
    const response = await fetch(`${cluster.urls[0]}/custom`, { method: 'PUT' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-custom'), 'yes');
    assert.equal(response.headers.get('content-type'), 'application/vnd.test+json');
    assert.deepEqual(await response.json(), { created: true });
  });

  test('hooks run before and after handle', async () => {
    assert.deepEqual(await (await fetch(`${cluster.urls[0]}/hooks`)).json(), ['before', 'handle', 'after']);
  });

  test('a nested invocation shares the cid and returns the payload', async () => {
    const body = (await (await fetch(`${cluster.urls[0]}/outer`)).json()) as { outerCid: string; inner: { cid: string; payload: unknown; channel: unknown } };
    assert.equal(body.inner.cid, body.outerCid);
    assert.deepEqual(body.inner.payload, { from: 'outer' });
    assert.deepEqual(body.inner.channel, { type: 'invoke' });
  });

  test('text and raw data formats', async () => {
    const text = await fetch(`${cluster.urls[0]}/text`, { method: 'POST', body: 'shout' });
    assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await text.text(), 'SHOUT');
    const raw = await fetch(`${cluster.urls[0]}/raw`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    assert.equal(raw.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual([...new Uint8Array(await raw.arrayBuffer())], [3, 2, 1]);
  });

  test('a channel created through one worker is in force on every worker when the call returns', async () => {
    const { status } = await cluster.admin('viaduct.channel.rest.create', { name: 'fresh', path: '/fresh', service: 'demo.hello' }, 0);
    assert.equal(status, 200);
    const response = await fetch(`${cluster.urls[1]}/fresh`, { method: 'POST', body: '{"name":"Ada"}' });
    assert.deepEqual(await response.json(), { hello: 'Ada' });
    assert.equal((await cluster.admin('viaduct.channel.rest.edit', { name: 'fresh', path: '/fresher' }, 1)).status, 200);
    assert.equal((await fetch(`${cluster.urls[0]}/fresh`)).status, 404);
    assert.equal((await fetch(`${cluster.urls[0]}/fresher`)).status, 200);
    assert.equal((await cluster.admin('viaduct.channel.rest.edit', { name: 'fresh', is_active: false })).status, 200);
    assert.equal((await fetch(`${cluster.urls[1]}/fresher`)).status, 404);
    assert.equal((await cluster.admin('viaduct.channel.rest.delete', { name: 'fresh' })).status, 200);
  });

  test('security: Basic Auth and API key; 401 never says which part was wrong', async () => {
    assert.equal((await cluster.admin('viaduct.security.basic-auth.create', { name: 'ba', username: 'u1', password: 'p1' })).status, 200);
    assert.equal((await cluster.admin('viaduct.security.api-key.create', { name: 'ak', header: 'X-Partner-Key', key: 'k1' })).status, 200);
    await channel({ name: 'ba-ch', path: '/secure/basic', service: 'demo.hello', security: 'ba' });
    await channel({ name: 'ak-ch', path: '/secure/key', service: 'demo.hello', security: 'ak' });
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    const url = cluster.urls[1];
    assert.equal((await fetch(`${url}/secure/basic`, { headers: basic('u1', 'p1') })).status, 200);
    const wrongUser = await fetch(`${url}/secure/basic`, { headers: basic('u2', 'p1') });
    const wrongPass = await fetch(`${url}/secure/basic`, { headers: basic('u1', 'p2') });
    const none = await fetch(`${url}/secure/basic`);
    for (const response of [wrongUser, wrongPass, none]) {
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Basic realm="viaduct"');
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'VIA_ERR_UNAUTHORIZED');
      assert.equal(body.error.message, 'Unauthorized');
    }
    assert.equal((await fetch(`${url}/secure/key`, { headers: { 'x-partner-key': 'k1' } })).status, 200);
    assert.equal((await fetch(`${url}/secure/key`, { headers: { 'x-partner-key': 'k2' } })).status, 401);
    // A password change is live at once; the old one stops working.
    assert.equal((await cluster.admin('viaduct.security.basic-auth.edit', { name: 'ba', password: 'p9' })).status, 200);
    assert.equal((await fetch(`${url}/secure/basic`, { headers: basic('u1', 'p1') })).status, 401);
    assert.equal((await fetch(`${url}/secure/basic`, { headers: basic('u1', 'p9') })).status, 200);
  });

  test('null in an edit clears an optional field: the channel\'s security is removed', async () => {
    await channel({ name: 'was-secure', path: '/was-secure', service: 'demo.hello', security: 'ba' });
    assert.equal((await fetch(`${cluster.urls[0]}/was-secure`)).status, 401);
    assert.equal((await cluster.admin('viaduct.channel.rest.edit', { name: 'was-secure', security: null })).status, 200);
    assert.equal((await fetch(`${cluster.urls[0]}/was-secure`)).status, 200);
  });

  test('the admin API needs the admin credentials; ping does not', async () => {
    const denied = await fetch(`${cluster.urls[0]}/viaduct/api/invoke/viaduct.service.get-list`, { method: 'POST', body: '{}' });
    assert.equal(denied.status, 401);
    const ping = await fetch(`${cluster.urls[0]}/viaduct/ping`);
    assert.equal(ping.status, 200);
    assert.equal(((await ping.json()) as { status: string }).status, 'ok');
    const list = await cluster.admin<Array<{ name: string }>>('viaduct.service.get-list');
    assert.ok(list.body.some((s) => s.name === 'demo.hello'));
    const secrets = await cluster.admin<Array<Record<string, unknown>>>('viaduct.security.basic-auth.get-list');
    assert.ok(secrets.body.every((d) => !('password' in d)), 'passwords are never returned');
  });
});
