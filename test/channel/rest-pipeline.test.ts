import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { RequestHandler } from '../../src/http/request-handler.js';
import { inject, type InjectRequest, type InjectResponse } from '../helpers/inject.js';
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

type ErrorBody = { error: { code: string; message: string; cid: string } };

let cluster: TestCluster;
/** Each worker's REST pipeline, by the worker's index. */
let pipelines: RequestHandler[];

async function channel(body: Record<string, unknown>): Promise<void> {
  const { status, body: reply } = await cluster.admin('viaduct.channel.rest.create', body);
  assert.equal(status, 200, JSON.stringify(reply));
}

/** One request through worker `worker`'s REST pipeline, with no socket. */
function call<T = unknown>(request: InjectRequest, worker = 0): Promise<InjectResponse<T>> {
  return inject<T>(pipelines[worker]!, request);
}

describe('REST channel pipeline', () => {
  before(async () => {
    cluster = await bootWorkers(2);
    // Each worker's own REST channel pipeline, the handler its HTTP server gives every non-admin path.
    pipelines = cluster.workers.map((worker) => worker.frontend.route('/'));
    assert.equal(
      (await cluster.admin('viaduct.service.deploy', { file: 'pipeline.ts', source: SERVICES })).status,
      200,
    );
    assert.equal(
      (await cluster.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status,
      200,
    );
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
    for (const name of ['throws-at-once', 'bad-constructor', 'bad-header', 'sync'])
      await channel({ name, path: `/${name}`, service: `test.${name}` });
  });
  after(() => cluster.close());

  test('the service receives the parsed body, path parameters and query; the cid comes back as a header', async () => {
    const response = await call<Record<string, unknown>>(
      { method: 'POST', url: '/echo/42?q=a&q=b&x=1', body: JSON.stringify({ a: 1 }) },
      1,
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/json');
    const body = response.body!;
    assert.deepEqual(body.payload, { a: 1 });
    assert.deepEqual(body.params, { id: '42' });
    assert.deepEqual(body.query, { q: ['a', 'b'], x: '1' });
    assert.deepEqual(body.channel, { type: 'rest', name: 'echo' });
    assert.equal(response.headers['x-viaduct-cid'], body.cid);
    assert.equal(body.cid, response.cid, 'the cid the pipeline was given');
  });

  test("a request without a body gives a JSON channel's service no payload", async () => {
    const response = await call<{ payload: unknown }>({ method: 'POST', url: '/echo/1' });
    assert.equal(response.status, 200);
    assert.equal(response.body!.payload, null);
  });

  test('malformed JSON is a 400 with the one error shape', async () => {
    const response = await call<ErrorBody>({ method: 'POST', url: '/echo/1', body: '{"a":' });
    assert.equal(response.status, 400);
    assert.equal(response.body!.error.code, 'VIA_ERR_BAD_JSON');
    assert.equal(response.body!.error.cid, response.headers['x-viaduct-cid']);
  });

  test('a JSON body that is not valid UTF-8 is refused, not passed on with its bad bytes replaced', async () => {
    // "é" as Latin-1 (0xE9): a byte UTF-8 never has alone.
    const body = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const response = await call<ErrorBody>({ method: 'POST', url: '/echo/1', body });
    assert.equal(response.status, 400);
    assert.equal(response.body!.error.code, 'VIA_ERR_BAD_JSON');
    assert.match(response.body!.error.message, /UTF-8/);
    const valid = await call<{ payload: unknown }>({ method: 'POST', url: '/echo/1', body: '{"name":"café"}' });
    assert.deepEqual(valid.body!.payload, { name: 'café' });
  });

  test('unknown path 404, wrong method 405 with Allow', async () => {
    const missing = await call<ErrorBody>({ url: '/nowhere' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body!.error.code, 'VIA_ERR_NOT_FOUND');
    const wrong = await call<ErrorBody>({ method: 'GET', url: '/custom' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'PUT');
    assert.equal(wrong.body!.error.code, 'VIA_ERR_METHOD_NOT_ALLOWED');
  });

  test("every error the pipeline answers has the one shape, its code in X-Viaduct-Error and the request's cid in X-Viaduct-CID", async () => {
    const cases: Array<{ request: InjectRequest; status: number; code: string; headers?: Record<string, string> }> = [
      { request: { method: 'POST', url: '/echo/1', body: '{"a":' }, status: 400, code: 'VIA_ERR_BAD_JSON' },
      {
        request: { method: 'POST', url: '/small', body: 'x'.repeat(101) },
        status: 413,
        code: 'VIA_ERR_BODY_TOO_LARGE',
        headers: { connection: 'close' },
      },
      { request: { url: '/nowhere' }, status: 404, code: 'VIA_ERR_NOT_FOUND' },
      {
        request: { method: 'DELETE', url: '/custom' },
        status: 405,
        code: 'VIA_ERR_METHOD_NOT_ALLOWED',
        headers: { allow: 'PUT' },
      },
      { request: { url: '/coded' }, status: 400, code: 'VIA_ERR_VALIDATION' },
      { request: { url: '/fails' }, status: 500, code: 'VIA_ERR_SERVICE_FAILED' },
    ];
    for (const [i, { request, status, code, headers }] of cases.entries()) {
      const cid = `shape-${i}`;
      const response = await call<ErrorBody>({ ...request, cid });
      assert.equal(response.status, status, code);
      assert.equal(response.headers['content-type'], 'application/json', code);
      assert.equal(response.headers['content-length'], String(response.raw.length), code);
      assert.equal(response.headers['x-viaduct-cid'], cid, code);
      assert.equal(response.headers['x-viaduct-error'], code, code);
      for (const [name, value] of Object.entries(headers ?? {}))
        assert.equal(response.headers[name], value, `${code}: ${name}`);
      const { error, ...rest } = response.body!;
      assert.deepEqual(rest, {}, code);
      assert.deepEqual(Object.keys(error).sort(), ['cid', 'code', 'message'], code);
      assert.equal(error.code, code);
      assert.equal(error.cid, cid, code);
      assert.ok(typeof error.message === 'string' && error.message.length > 0, code);
    }
  });

  test('a service that throws is a 500 without its message or stack', async () => {
    const response = await call({ url: '/fails' });
    assert.equal(response.status, 500);
    const text = response.raw.toString('utf8');
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'VIA_ERR_SERVICE_FAILED');
    assert.doesNotMatch(text, /secret internal detail|at .*:\d+/);
  });

  test('a service that fails before its first await, in its constructor, or with a header HTTP cannot carry is a 500; the worker goes on', async () => {
    for (const url of ['/throws-at-once', '/bad-constructor', '/bad-header']) {
      for (const worker of pipelines.keys()) {
        const response = await call<ErrorBody>({ method: 'POST', url, body: '{}' }, worker);
        assert.equal(response.status, 500, url);
        assert.equal(response.body!.error.code, 'VIA_ERR_SERVICE_FAILED', url);
      }
    }
    const sync = await call({ url: '/sync' });
    assert.equal(sync.status, 200);
    assert.deepEqual(sync.body, { sync: true });
    for (const worker of pipelines.keys())
      assert.equal((await call({ method: 'POST', url: '/echo/1', body: '{}' }, worker)).status, 200);
  });

  test('a service may throw a coded error, which keeps its code and status', async () => {
    const response = await call<ErrorBody>({ url: '/coded' });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body!.error.code, 'VIA_ERR_VALIDATION');
  });

  test('a service over its timeout is a 504', async () => {
    const started = Date.now();
    const response = await call<ErrorBody>({ url: '/slow' });
    assert.equal(response.status, 504);
    assert.equal(response.body!.error.code, 'VIA_ERR_TIMEOUT');
    assert.ok(Date.now() - started < 900, 'answered at the timeout, not when the work ended');
  });

  test('a body over the channel limit is a 413, by Content-Length or while streaming', async () => {
    const declared = await call<ErrorBody>({
      method: 'POST',
      url: '/small',
      body: JSON.stringify({ big: 'x'.repeat(500) }),
    });
    assert.equal(declared.status, 413);
    assert.equal(declared.body!.error.code, 'VIA_ERR_BODY_TOO_LARGE');
    // No Content-Length: the limit is found while the chunks come in.
    const streamed = await call({
      method: 'POST',
      url: '/small',
      body: Readable.from([Buffer.from('x'.repeat(80)), Buffer.from('x'.repeat(80))]),
    });
    assert.equal(streamed.status, 413);
    const fine = await call({ method: 'POST', url: '/small', body: '{"ok":true}' });
    assert.equal(fine.status, 200, 'the pipeline keeps serving');
  });

  test('status, headers and content type come from this.response', async () => {
    const response = await call({ method: 'PUT', url: '/custom' });
    assert.equal(response.status, 201);
    assert.equal(response.headers['x-custom'], 'yes');
    assert.equal(response.headers['content-type'], 'application/vnd.test+json');
    assert.deepEqual(response.body, { created: true });
  });

  test('hooks run before and after handle', async () => {
    assert.deepEqual((await call({ url: '/hooks' })).body, ['before', 'handle', 'after']);
  });

  test('a nested invocation shares the cid and returns the payload', async () => {
    const body = (
      await call<{ outerCid: string; inner: { cid: string; payload: unknown; channel: unknown } }>({ url: '/outer' })
    ).body!;
    assert.equal(body.inner.cid, body.outerCid);
    assert.deepEqual(body.inner.payload, { from: 'outer' });
    assert.deepEqual(body.inner.channel, { type: 'invoke' });
  });

  test('text and raw data formats', async () => {
    const text = await call({ method: 'POST', url: '/text', body: 'shout' });
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(text.raw.toString('utf8'), 'SHOUT');
    const raw = await call({ method: 'POST', url: '/raw', body: new Uint8Array([1, 2, 3]) });
    assert.equal(raw.headers['content-type'], 'application/octet-stream');
    assert.deepEqual([...raw.raw], [3, 2, 1]);
  });

  test('security: Basic Auth and API key; 401 never says which part was wrong', async () => {
    assert.equal(
      (await cluster.admin('viaduct.security.basic-auth.create', { name: 'ba', username: 'u1', password: 'p1' }))
        .status,
      200,
    );
    assert.equal(
      (await cluster.admin('viaduct.security.api-key.create', { name: 'ak', header: 'X-Partner-Key', key: 'k1' }))
        .status,
      200,
    );
    await channel({ name: 'ba-ch', path: '/secure/basic', service: 'demo.hello', security: 'ba' });
    await channel({ name: 'ak-ch', path: '/secure/key', service: 'demo.hello', security: 'ak' });
    const basic = (user: string, pass: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
    });
    const worker = 1;
    assert.equal((await call({ url: '/secure/basic', headers: basic('u1', 'p1') }, worker)).status, 200);
    const wrongUser = await call<ErrorBody>({ url: '/secure/basic', headers: basic('u2', 'p1') }, worker);
    const wrongPass = await call<ErrorBody>({ url: '/secure/basic', headers: basic('u1', 'p2') }, worker);
    const none = await call<ErrorBody>({ url: '/secure/basic' }, worker);
    for (const response of [wrongUser, wrongPass, none]) {
      assert.equal(response.status, 401);
      assert.equal(response.headers['www-authenticate'], 'Basic realm="viaduct"');
      assert.equal(response.body!.error.code, 'VIA_ERR_UNAUTHORIZED');
      assert.equal(response.body!.error.message, 'Unauthorized');
    }
    assert.equal((await call({ url: '/secure/key', headers: { 'x-partner-key': 'k1' } }, worker)).status, 200);
    assert.equal((await call({ url: '/secure/key', headers: { 'x-partner-key': 'k2' } }, worker)).status, 401);
    // A password change is live at once; the old one stops working.
    assert.equal((await cluster.admin('viaduct.security.basic-auth.edit', { name: 'ba', password: 'p9' })).status, 200);
    assert.equal((await call({ url: '/secure/basic', headers: basic('u1', 'p1') }, worker)).status, 401);
    assert.equal((await call({ url: '/secure/basic', headers: basic('u1', 'p9') }, worker)).status, 200);
  });

  test("null in an edit clears an optional field: the channel's security is removed", async () => {
    await channel({ name: 'was-secure', path: '/was-secure', service: 'demo.hello', security: 'ba' });
    assert.equal((await call({ url: '/was-secure' })).status, 401);
    assert.equal(
      (await cluster.admin('viaduct.channel.rest.edit', { name: 'was-secure', security: null })).status,
      200,
    );
    assert.equal((await call({ url: '/was-secure' })).status, 200);
  });

  // Where the socket and the worker's own HTTP server are part of what is tested.
  test('a channel path that can never match is refused at create time with the reason, and nothing is stored', async () => {
    for (const [path, reason] of [
      ['/%76iaduct/api/invoke/viaduct.server.get-info', /decoded, the path is under \/viaduct\//],
      ['/shop/caf%C3%A9', /percent-encoding \(%XX\) can never match/],
    ] as const) {
      const { status, body } = await cluster.admin<{ error: { code: string; details: { problems: string[] } } }>(
        'viaduct.channel.rest.create',
        { name: 'never', path, service: 'demo.hello' },
      );
      assert.equal(status, 400, path);
      assert.equal(body.error.code, 'VIA_ERR_VALIDATION');
      assert.ok(
        body.error.details.problems.some((p) => reason.test(p)),
        body.error.details.problems.join('; '),
      );
    }
    assert.equal((await cluster.admin('viaduct.channel.rest.get', { name: 'never' })).status, 404);
  });

  describe('over a socket', () => {
    test('every invocation gets its own cid', async () => {
      const cids = new Set<string | null>();
      for (let i = 0; i < 5; i++) cids.add((await fetch(`${cluster.urls[0]}/echo/1`)).headers.get('x-viaduct-cid'));
      assert.equal(cids.size, 5);
    });

    test('a body over the limit, while streaming, is a 413 that closes its connection; the server keeps serving', async () => {
      const streamed = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = request(
          `${cluster.urls[0]}/small`,
          { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
          },
        );
        req.on('error', reject);
        req.write('x'.repeat(80));
        req.write('x'.repeat(80));
        req.end();
      });
      assert.equal(streamed.status, 413);
      assert.equal(streamed.connection, 'close', 'the unread rest of the body cannot be left on a connection to reuse');
      const fine = await fetch(`${cluster.urls[0]}/small`, { method: 'POST', body: '{"ok":true}' });
      assert.equal(fine.status, 200, 'the server keeps serving');
    });

    test('a channel created through one worker is in force on every worker when the call returns', async () => {
      const { status } = await cluster.admin(
        'viaduct.channel.rest.create',
        { name: 'fresh', path: '/fresh', service: 'demo.hello' },
        0,
      );
      assert.equal(status, 200);
      const response = await fetch(`${cluster.urls[1]}/fresh`, { method: 'POST', body: '{"name":"Ada"}' });
      assert.deepEqual(await response.json(), { hello: 'Ada' });
      assert.equal(
        (await cluster.admin('viaduct.channel.rest.edit', { name: 'fresh', path: '/fresher' }, 1)).status,
        200,
      );
      assert.equal((await fetch(`${cluster.urls[0]}/fresh`)).status, 404);
      assert.equal((await fetch(`${cluster.urls[0]}/fresher`)).status, 200);
      assert.equal((await cluster.admin('viaduct.channel.rest.edit', { name: 'fresh', is_active: false })).status, 200);
      assert.equal((await fetch(`${cluster.urls[1]}/fresher`)).status, 404);
      assert.equal((await cluster.admin('viaduct.channel.rest.delete', { name: 'fresh' })).status, 200);
    });

    test('the admin API needs the admin credentials; ping does not', async () => {
      const denied = await fetch(`${cluster.urls[0]}/viaduct/api/invoke/viaduct.service.get-list`, {
        method: 'POST',
        body: '{}',
      });
      assert.equal(denied.status, 401);
      const ping = await fetch(`${cluster.urls[0]}/viaduct/ping`);
      assert.equal(ping.status, 200);
      assert.equal(((await ping.json()) as { status: string }).status, 'ok');
      const list = await cluster.admin<Array<{ name: string }>>('viaduct.service.get-list');
      assert.ok(list.body.some((s) => s.name === 'demo.hello'));
      const secrets = await cluster.admin<Array<Record<string, unknown>>>('viaduct.security.basic-auth.get-list');
      assert.ok(
        secrets.body.every((d) => !('password' in d)),
        'passwords are never returned',
      );
    });
  });
});
