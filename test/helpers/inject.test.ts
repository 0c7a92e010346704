import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { inject } from './inject.js';

/** Answers with what it was given: the cid, the method, the URL, the headers and the body's length. */
function mirror(req: IncomingMessage, res: ServerResponse, cid: string): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.stringify({
      cid,
      method: req.method,
      url: req.url,
      headers: req.headers,
      length: Buffer.concat(chunks).length,
      remoteAddress: req.socket.remoteAddress,
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Cid': cid });
    res.end(body);
  });
}

type Mirrored = {
  cid: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  length: number;
  remoteAddress: string;
};

describe('inject', () => {
  test('the handler gets the request as sent and a cid, a new one for each request unless one is given', async () => {
    const first = await inject<Mirrored>(mirror, {
      method: 'POST',
      url: '/a/b?x=1&x=2',
      headers: { 'X-Key': 'k' },
      body: 'hello',
    });
    assert.equal(first.status, 200);
    assert.equal(first.body!.method, 'POST');
    assert.equal(first.body!.url, '/a/b?x=1&x=2');
    assert.equal(first.body!.headers['x-key'], 'k');
    assert.equal(first.body!.headers['content-length'], '5');
    assert.equal(first.body!.length, 5);
    assert.equal(first.body!.cid, first.cid);
    assert.equal(first.headers['x-cid'], first.cid);
    const second = await inject<Mirrored>(mirror, { url: '/' });
    assert.notEqual(second.cid, first.cid);
    assert.equal(second.body!.method, 'GET');
    assert.equal(second.body!.headers['content-length'], undefined, 'no body, no Content-Length');
    assert.equal((await inject<Mirrored>(mirror, { url: '/', cid: 'given' })).body!.cid, 'given');
    assert.equal(
      (await inject<Mirrored>(mirror, { url: '/', remoteAddress: '10.0.0.9' })).body!.remoteAddress,
      '10.0.0.9',
    );
  });

  test('bytes are sent as they are; a stream is sent chunked', async () => {
    const bytes = await inject<Mirrored>(mirror, {
      method: 'POST',
      url: '/',
      body: new Uint8Array([0, 1, 2, 3]).subarray(1),
    });
    assert.equal(bytes.body!.length, 3);
    assert.equal(bytes.body!.headers['content-length'], '3');
    const streamed = await inject<Mirrored>(mirror, {
      method: 'POST',
      url: '/',
      body: Readable.from([Buffer.from('ab'), Buffer.from('cde')]),
    });
    assert.equal(streamed.body!.length, 5);
    assert.equal(streamed.body!.headers['transfer-encoding'], 'chunked');
    assert.equal(streamed.body!.headers['content-length'], undefined);
  });

  test('the body is parsed for a JSON content type only; the raw body is always there', async () => {
    const answer = (type: string, text: string) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': type });
      res.end(text);
    };
    assert.deepEqual((await inject(answer('application/json; charset=utf-8', '{"a":1}'), { url: '/' })).body, { a: 1 });
    assert.deepEqual((await inject(answer('application/problem+json', '[1]'), { url: '/' })).body, [1]);
    const text = await inject(answer('text/plain', '{"a":1}'), { url: '/' });
    assert.equal(text.body, undefined);
    assert.equal(text.raw.toString(), '{"a":1}');
    assert.equal((await inject(answer('application/json', ''), { url: '/' })).body, undefined);
    await assert.rejects(inject(answer('application/json', '{"a":'), { url: '/' }), /not JSON/);
  });

  test('a handler that throws or rejects fails the call; so does a response destroyed before it ends', async () => {
    await assert.rejects(
      inject(
        () => {
          throw new Error('thrown');
        },
        { url: '/' },
      ),
      /thrown/,
    );
    await assert.rejects(
      inject(
        async () => {
          throw new Error('rejected');
        },
        { url: '/' },
      ),
      /rejected/,
    );
    await assert.rejects(
      inject(
        (_req, res) => {
          res.destroy();
        },
        { url: '/' },
      ),
      { code: 'LIGHT_ECONNRESET' },
    );
  });
});
