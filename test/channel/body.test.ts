import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { gatherBody } from '../../src/http/body.js';

/** A request body as a stream, with the headers gatherBody looks at. */
function request(headers: Record<string, string>): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers }) as unknown as PassThrough & IncomingMessage;
}

test('gatherBody answers exactly once: a body refused for its size that then fails is not answered again', async () => {
  const req = request({ 'transfer-encoding': 'chunked' });
  const answers: string[] = [];
  gatherBody(req, 10, { body: () => answers.push('body'), failed: (error) => answers.push(error.code) });
  req.write(Buffer.alloc(8));
  req.write(Buffer.alloc(8));
  await new Promise((resolve) => setImmediate(resolve));
  req.destroy(new Error('the client gave up'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(answers, ['VIA_ERR_BODY_TOO_LARGE']);
});

test('gatherBody gathers the chunks; a declared length over the limit is refused before reading', async () => {
  const req = request({ 'content-length': '6' });
  const body = new Promise<Buffer>((resolve, reject) => gatherBody(req, 100, { body: resolve, failed: reject }));
  req.end('abcdef');
  assert.equal((await body).toString(), 'abcdef');
  const answers: string[] = [];
  gatherBody(request({ 'content-length': '500' }), 100, {
    body: () => answers.push('body'),
    failed: (error) => answers.push(error.code),
  });
  assert.deepEqual(answers, ['VIA_ERR_BODY_TOO_LARGE']);
});
