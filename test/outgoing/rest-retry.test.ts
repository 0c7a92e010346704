import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backoffMs } from '../../src/outgoing/rest/rest-retry.js';
import { openRest, rejection } from './rest-fixture.js';
import { RestPeer } from './rest-peer.js';

describe('outgoing.rest retries', () => {
  let peer: RestPeer;
  let address: string;
  let key = 0;
  /** A path of its own for each use, so the peer's attempt counts start at 0. */
  const fresh = (kind: 'unavailable' | 'drop'): string => `/${kind}/k${++key}`;

  before(async () => {
    peer = await RestPeer.http();
    address = `http://127.0.0.1:${peer.port}`;
  });

  after(async () => {
    await peer.close();
  });

  test('by default nothing is retried: a 503 is the answer', async (t) => {
    const { client } = openRest(t, { address });
    const path = fresh('unavailable');
    assert.equal((await client.get(path, { query: { times: 1 } })).status, 503);
    assert.equal(peer.hits.get(path), 1);
  });

  test('GET, HEAD, OPTIONS, PUT and DELETE are retried after 502, 503 and 504, up to `retries` times', async (t) => {
    const { client } = openRest(t, { address, retries: 2, retry_backoff: 5 });
    for (const [method, status] of [
      ['GET', 503],
      ['HEAD', 502],
      ['OPTIONS', 504],
      ['PUT', 503],
      ['DELETE', 502],
    ] as const) {
      const path = fresh('unavailable');
      const answer = await client.request(method, path, { query: { times: 2, status } });
      assert.equal(answer.status, 200, method);
      assert.equal(peer.hits.get(path), 3, `${method}: two failures, then success`);
    }
    const path = fresh('unavailable');
    const exhausted = await client.get(path, { query: { times: 9 } });
    assert.deepEqual(
      [exhausted.status, exhausted.data],
      [503, { attempt: 3 }],
      'the last answer is returned once retries run out',
    );
    const notRetried = fresh('unavailable');
    assert.equal(
      (await client.get(notRetried, { query: { times: 1, status: 500 } })).status,
      500,
      '500 is not retried',
    );
    assert.equal(peer.hits.get(notRetried), 1);
  });

  test('POST and PATCH are never retried', async (t) => {
    const { client } = openRest(t, { address, retries: 3, retry_backoff: 5 });
    for (const method of ['POST', 'PATCH'] as const) {
      const path = fresh('unavailable');
      assert.equal((await client.request(method, path, { query: { times: 1 }, body: { a: 1 } })).status, 503);
      assert.equal(peer.hits.get(path), 1, method);
      const dropped = fresh('drop');
      const error = await rejection(client.request(method, dropped, { query: { times: 1 }, body: { a: 1 } }));
      assert.match(error.code ?? '', /^VIA_ERR_OUTGOING_(UNAVAILABLE|FAILED)$/);
      assert.equal(peer.hits.get(dropped), 1, `${method} after a cut connection`);
    }
  });

  test('a cut connection is retried for idempotent methods; without retries it is a coded error', async (t) => {
    const { client } = openRest(t, { address, retries: 1, retry_backoff: 5 });
    const path = fresh('drop');
    assert.deepEqual((await client.get(path, { query: { times: 1 } })).data, { attempt: 2 });
    const { client: once } = openRest(t, { address });
    const error = await rejection(once.get(fresh('drop'), { query: { times: 1 } }));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', error.message);
  });

  test('the waits between attempts grow exponentially', async (t) => {
    assert.ok(backoffMs(100, 0) <= 100 && backoffMs(100, 0) >= 80);
    assert.ok(backoffMs(100, 3) <= 800 && backoffMs(100, 3) >= 640);
    assert.ok(backoffMs(100, 20) <= 10_000, 'capped');
    const { client } = openRest(t, { address, retries: 2, retry_backoff: 150 });
    const started = Date.now();
    assert.equal((await client.get(fresh('unavailable'), { query: { times: 2 } })).status, 200);
    const waited = Date.now() - started;
    assert.ok(waited >= 0.8 * (150 + 300), `waited ${waited} ms`);
    assert.ok(waited < 2000, `waited ${waited} ms`);
  });
});
