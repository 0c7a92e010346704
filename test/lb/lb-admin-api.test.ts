import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { haproxySkipReason, LbFixture, send } from './lb-fixture.js';

const skip = haproxySkipReason();

describe('the admin API through the load balancer (real HAProxy)', { skip, timeout: 60_000 }, () => {
  let closed: LbFixture;
  let open: LbFixture;
  before(async () => {
    closed = await LbFixture.start(['a']);
    open = await LbFixture.start(['b'], ['b'], { adminApi: true });
  });
  after(async () => {
    await closed?.dispose();
    await open?.dispose();
  });

  test('is refused by default with a coded 404, and never reaches a server', async () => {
    for (const path of ['/viaduct/api/invoke/viaduct.ping', '/viaduct/', '/viaduct/anything?x=1']) {
      const reply = await send(closed.port, 'POST', path, { authorization: 'Basic YWRtaW46eA==' });
      assert.equal(reply.status, 404, path);
      assert.equal(reply.headers['x-viaduct-error'], 'VIA_ERR_NOT_FOUND');
      assert.match(String(reply.headers['content-type']), /application\/json/);
      const body = JSON.parse(reply.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'VIA_ERR_NOT_FOUND');
    }
    assert.deepEqual(closed.server('a').requests(), []);
  });

  test('keeps the health check and every other path', async () => {
    const ping = await closed.get('/viaduct/ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.body, 'pong');
    assert.equal((await closed.get('/who')).server, 'a');
    assert.equal((await closed.get('/viaductish/who')).server, 'a');
  });

  test('is forwarded when lb.admin_api is true', async () => {
    const reply = await send(open.port, 'POST', '/viaduct/api/invoke/viaduct.ping');
    assert.equal(reply.status, 200);
    assert.equal(reply.server, 'b');
  });
});
