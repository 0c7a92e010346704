import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { restConnectionSchema } from '../../src/outgoing/rest/rest-kind.js';
import { outgoingTypes } from '../../src/outgoing/registry.js';
import { freePort } from '../helpers/env.js';
import { echoed, openRest, rejection } from './rest-fixture.js';
import { RestPeer } from './rest-peer.js';

describe('outgoing.rest', () => {
  let peer: RestPeer;
  let address: string;

  before(async () => {
    peer = await RestPeer.http();
    address = `http://127.0.0.1:${peer.port}`;
  });

  after(async () => {
    await peer.close();
  });

  test('is registered; the schema fills in defaults and refuses credentials or a query in the address', () => {
    assert.ok(outgoingTypes.some((t) => t.kind.type === 'outgoing.rest'));
    assert.deepEqual(restConnectionSchema.parse({ name: 'x', address: 'https://crm.example.com/api' }), {
      name: 'x',
      is_active: true,
      address: 'https://crm.example.com/api',
      data_format: 'json',
      timeout: 30_000,
      connect_timeout: 5_000,
      pool_size: 10,
      tls_verify: true,
      retries: 0,
      retry_backoff: 200,
    });
    for (const bad of [
      'ftp://crm.example.com',
      'https://user:pw@crm.example.com',
      'https://crm.example.com/?a=1',
      'crm.example.com',
    ]) {
      assert.equal(restConnectionSchema.safeParse({ name: 'x', address: bad }).success, false, bad);
    }
    assert.equal(restConnectionSchema.safeParse({ name: 'x', address, data_format: 'yaml' }).success, false);
    assert.equal(restConnectionSchema.safeParse({ name: 'x', address, retries: 11 }).success, false);
  });

  test('path parameters are filled in URL-encoded, after the base path; the query is encoded, arrays repeated', async (t) => {
    const { client } = openRest(t, { address: `${address}/api/` });
    const got = await client.get('/echo/customers/{id}/{part}', {
      params: { id: 'a b/../c?d', part: 7 },
      query: { q: 'x&y=z', n: [1, 2], ok: true },
    });
    assert.equal(got.status, 200);
    assert.equal(echoed(got).url, '/api/echo/customers/a%20b%2F..%2Fc%3Fd/7?q=x%26y%3Dz&n=1&n=2&ok=true');
    assert.equal(
      echoed(await client.get('echo', { query: {} })).url,
      '/api/echo',
      'a path without a leading / and an empty query',
    );
    assert.equal(echoed(await client.get('/echo?a=1', { query: { b: 2 } })).url, '/api/echo?a=1&b=2');
  });

  test("a missing path parameter is the service's own mistake: a plain error, and no request is sent", async (t) => {
    const { client } = openRest(t, { address });
    const before = peer.hits.get('/echo/missing/{id}') ?? 0;
    const error = await rejection(client.get('/echo/missing/{id}', { params: { other: 1 } }));
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /needs the parameter "id"/);
    assert.equal(peer.hits.get('/echo/missing/{id}') ?? 0, before);
  });

  test('json (the default): the body is serialized, the answer parsed; a body that is not JSON comes as text', async (t) => {
    const { client } = openRest(t, { address });
    const posted = await client.post('/echo', { name: 'Ann', tags: ['a'] });
    assert.equal(echoed(posted).headers['content-type'], 'application/json');
    assert.equal(echoed(posted).headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(echoed(posted).body), { name: 'Ann', tags: ['a'] });
    assert.equal(echoed(await client.put('/echo', 'text')).body, '"text"', 'a string is a JSON string');
    assert.equal(
      echoed(await client.patch('/echo', Buffer.from('{"pre":1}'))).body,
      '{"pre":1}',
      'bytes are taken as serialized JSON',
    );
    assert.equal(echoed(await client.get('/echo')).headers['content-type'], undefined, 'no body, no content type');
    const html = await client.get('/html');
    assert.deepEqual([html.status, html.data], [502, '<html>Bad gateway</html>']);
  });

  test('xml: a string body as application/xml, the answer as a string', async (t) => {
    const { client } = openRest(t, { address, data_format: 'xml' });
    const answer = await client.post('/xml', '<a>1</a>');
    assert.equal(answer.data, '<echo><a>1</a></echo>');
    const seen = await client.post('/echo', '<b/>', { dataFormat: 'json' });
    assert.equal(echoed(seen).body, '"<b/>"', 'a call may use another format');
    const echo = await client.post<string>('/echo', '<b/>');
    assert.match(echo.data, /"content-type":"application\/xml"/);
    assert.match(echo.data, /"accept":"application\/xml"/);
    assert.ok((await rejection(client.post('/xml', { a: 1 }))) instanceof TypeError, 'an object is not an xml body');
  });

  test('form: fields url-encoded, arrays repeated; a form answer comes as fields, a JSON one parsed', async (t) => {
    const { client } = openRest(t, { address, data_format: 'form' });
    const echo = await client.post('/echo', { a: 1, b: ['x y', 'z&'], skip: undefined });
    assert.equal(echoed(echo).body, 'a=1&b=x+y&b=z%26');
    assert.equal(echoed(echo).headers['content-type'], 'application/x-www-form-urlencoded');
    const form = await client.post('/form', { q: 1 });
    assert.deepEqual(form.data, { got: 'q=1', tag: ['a', 'b'] });
  });

  test("raw: bytes both ways; a call's own content-type wins", async (t) => {
    const { client } = openRest(t, { address, data_format: 'raw' });
    const answer = await client.post<Buffer>('/raw', Buffer.from([1, 2, 3]));
    assert.ok(Buffer.isBuffer(answer.data));
    assert.deepEqual([...answer.data], [0xff, 0x00, 1, 2, 3]);
    const echo = await client.post<Buffer>('/echo', Buffer.from('x'), {
      headers: { 'Content-Type': 'image/png', 'X-Trace': 't1' },
    });
    const seen = JSON.parse(echo.data.toString('utf8')) as { headers: Record<string, string> };
    assert.equal(seen.headers['content-type'], 'image/png');
    assert.equal(seen.headers['x-trace'], 't1');
  });

  test('a status that is not 2xx is an answer, not an error; HEAD and OPTIONS work', async (t) => {
    const { client } = openRest(t, { address });
    for (const status of [400, 404, 409, 500, 503]) {
      const answer = await client.delete(`/status/${status}`);
      assert.deepEqual([answer.status, answer.data], [status, { status }]);
    }
    const head = await client.head('/status/204');
    assert.deepEqual([head.status, head.data], [204, undefined]);
    assert.equal(echoed(await client.options('/echo')).method, 'OPTIONS');
    assert.equal(echoed(await client.request('purge', '/echo', { body: { x: 1 } })).method, 'PURGE');
    assert.equal(typeof (await client.get('/echo')).headers['content-type'], 'string');
  });

  test("timeout: a call slower than the connection's timeout fails with VIA_ERR_OUTGOING_TIMEOUT, in time; a call may override it", async (t) => {
    const { client } = openRest(t, { address, timeout: 200 });
    const started = Date.now();
    const error = await rejection(client.get('/slow', { query: { ms: 3000 } }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT');
    assert.match(error.message, /GET \/slow did not answer within 200 ms/);
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    assert.equal((await client.get('/slow', { query: { ms: 400 }, timeout: 3000 })).status, 200);
    const { client: patient } = openRest(t, { address, timeout: 5000 });
    assert.equal(
      (await rejection(patient.get('/slow', { query: { ms: 3000 }, timeout: 100 }))).code,
      'VIA_ERR_OUTGOING_TIMEOUT',
    );
    assert.ok((await rejection(patient.get('/echo', { timeout: -1 }))) instanceof TypeError);
  });

  test('timeout covers reading the answer too: a body that never ends', async (t) => {
    const { client } = openRest(t, { address, timeout: 400 });
    const started = Date.now();
    const error = await rejection(client.get('/trickle'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT', error.message);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  test('timeout covers waiting for a free connection: a queued call fails in time, the calls ahead of it still finish', async (t) => {
    const { client } = openRest(t, { address, pool_size: 1, timeout: 2000 });
    const ahead = client.get('/slow', { query: { ms: 600 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const error = await rejection(client.get('/echo', { timeout: 150 }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT');
    const waited = Date.now() - started;
    assert.ok(waited >= 140 && waited < 450, `the queued call failed after ${waited} ms`);
    assert.equal((await ahead).status, 200);
    // The connection is free again and the aborted call left nothing behind on it.
    assert.equal((await client.get('/echo')).status, 200);
  });

  test('connect_timeout: a remote end that takes the TCP connection but never finishes the TLS handshake', async (t) => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const { client } = openRest(t, {
      address: `https://127.0.0.1:${(silent.address() as { port: number }).port}`,
      connect_timeout: 300,
      timeout: 10_000,
    });
    const started = Date.now();
    const error = await rejection(client.get('/'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT', error.message);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  test('an unreachable remote end: building the connection does not wait for it; calls and ping fail with a coded error', async (t) => {
    const { client, connection } = openRest(t, { address: `http://127.0.0.1:${await freePort()}` });
    assert.equal((await rejection(client.get('/'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    const ping = await rejection(connection.ping());
    assert.equal(ping.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
    assert.match(ping.message, /^REST connection crm: /);
  });

  test('ping: any answer means the remote end is there', async (t) => {
    const { connection } = openRest(t, { address: `${address}/status/404` });
    await connection.ping();
  });

  test('pool_size bounds the connections open to the remote end', async (t) => {
    const { client } = openRest(t, { address, pool_size: 2 });
    peer.maxOpenConnections = 0;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 6 }, () => client.get('/slow', { query: { ms: 150 } })));
    assert.ok(answers.every((a) => a.status === 200));
    assert.ok(peer.maxOpenConnections <= 2, `${peer.maxOpenConnections} connections`);
    assert.ok(Date.now() - started >= 3 * 150 - 20, 'six calls over two connections take three rounds');
  });

  test('close() lets a call in flight finish', async (t) => {
    const { client, connection } = openRest(t, { address });
    const slow = client.get('/slow', { query: { ms: 300 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await connection.close();
    assert.equal((await slow).status, 200);
  });

  test('every call is logged with its cid, the connection and the operation (the path template, not its values)', async (t) => {
    const { client, log } = openRest(t, { address });
    await client.get('/echo/{id}', { params: { id: 'secret-id' } });
    const line = JSON.parse(log.lines.at(-1)!) as Record<string, unknown>;
    assert.equal(line.cid, 'cid-test');
    assert.equal(line.outgoing, 'crm');
    assert.equal(line.op, 'GET /echo/{id}');
    assert.equal(typeof line.ms, 'number');
    assert.ok(!log.text.includes('secret-id'));
  });
});
