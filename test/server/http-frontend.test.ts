import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import pino from 'pino';
import { HttpFrontend } from '../../src/server/http-frontend.js';
import { rawExchange } from '../helpers/raw-http.js';

/** A frontend whose handler answers after `?ms=N` milliseconds (0 when absent). */
async function frontend(): Promise<{ frontend: HttpFrontend; port: number }> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    req.resume();
    setTimeout(() => res.end('done'), ms).unref();
  };
  const front = new HttpFrontend(
    [
      { prefix: '/viaduct/', handle: handler },
      { prefix: '', handle: handler },
    ],
    pino({ level: 'silent' }),
  );
  await front.listen(0, '127.0.0.1');
  return { frontend: front, port: (front.server.address() as AddressInfo).port };
}

function get(
  port: number,
  path: string,
  agent: Agent,
): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP frontend drain', () => {
  test('idle keep-alive connections close at once; requests in flight finish, then their connections close', async () => {
    const { frontend: front, port } = await frontend();
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    try {
      // One idle keep-alive connection, and two requests that take a while.
      assert.equal((await get(port, '/', agent)).body, 'done');
      const slow = [get(port, '/?ms=300', agent), get(port, '/?ms=400', agent)];
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await front.drain(5_000);
      const took = Date.now() - started;
      const answers = await Promise.all(slow);
      assert.deepEqual(
        answers.map((a) => [a.status, a.body]),
        [
          [200, 'done'],
          [200, 'done'],
        ],
      );
      assert.ok(took >= 250 && took < 2_000, `the drain took ${took} ms`);
      assert.equal(front.server.listening, false);
    } finally {
      agent.destroy();
    }
  });

  test('a request arriving on an open connection while the server drains is answered with Connection: close', async () => {
    const { frontend: front, port } = await frontend();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = get(port, '/?ms=200', agent);
      await new Promise((r) => setTimeout(r, 50));
      // Queued behind the first on the agent's only socket: it reaches the server during the drain.
      const second = get(port, '/?ms=0', agent);
      const drained = front.drain(5_000);
      assert.equal((await first).status, 200);
      const late = await second.catch((error: Error) => error);
      // Either it made it onto the connection before the server closed it, and was told to close; or the connection was gone.
      if (!(late instanceof Error)) assert.equal(late.connection, 'close');
      await drained;
    } finally {
      agent.destroy();
    }
  });

  test('requests still in flight at the time limit have their connections closed', async () => {
    const { frontend: front, port } = await frontend();
    const agent = new Agent({ keepAlive: true });
    try {
      const stuck = get(port, '/?ms=10000', agent).catch((error: Error) => error);
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await front.drain(200);
      assert.ok(Date.now() - started < 2_000);
      assert.ok((await stuck) instanceof Error, 'the stuck request lost its connection');
    } finally {
      agent.destroy();
    }
  });
});

describe('HTTP frontend: requests node answers by itself', () => {
  test('an Expect header other than 100-continue gets a 417 with the one error shape, and the connection closes', async () => {
    const { frontend: front, port } = await frontend();
    try {
      const answer = await rawExchange(
        port,
        'POST /orders HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 2\r\n\r\n{}',
      );
      assert.equal(answer.status, 417);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.equal(answer.headers['x-viaduct-error'], 'VIA_ERR_EXPECTATION_FAILED');
      const body = JSON.parse(answer.body) as { error: { code: string; message: string; cid: string } };
      assert.equal(body.error.code, 'VIA_ERR_EXPECTATION_FAILED');
      assert.equal(body.error.cid, answer.headers['x-viaduct-cid']);
      assert.ok(answer.closed, 'the server closed the connection');
    } finally {
      await front.drain(1_000);
    }
  });

  test('a CONNECT request gets a 405 with the one error shape, and the connection closes', async () => {
    const { frontend: front, port } = await frontend();
    try {
      const answer = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      assert.equal(answer.status, 405);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.body)));
      const body = JSON.parse(answer.body) as { error: { code: string; message: string; cid: string } };
      assert.equal(body.error.code, 'VIA_ERR_METHOD_NOT_ALLOWED');
      assert.equal(body.error.cid, answer.headers['x-viaduct-cid']);
      assert.doesNotMatch(answer.body, /127\.0\.0\.1|example\.com|\bat /, 'nothing about hosts or stacks');
      assert.ok(answer.closed, 'the server closed the connection');
    } finally {
      await front.drain(1_000);
    }
  });
});
