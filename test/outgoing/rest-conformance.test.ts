import { runOutgoingConformance } from '../conformance/outgoing.js';
import { RestPeer } from './rest-peer.js';

let peer: RestPeer | undefined;

runOutgoingConformance({
  type: 'outgoing.rest',
  facade: 'rest',
  async peer() {
    peer = await RestPeer.http();
    return { host: '127.0.0.1', port: peer.port };
  },
  config: (name, address) => ({ name, address: `http://${address.host}:${address.port}/api`, timeout: 5_000 }),
  edit: { pool_size: 4, timeout: 8_000 },
  use: `
    const got = await conn.get('/echo/{id}', { params: { id: 'a b/c' }, query: { q: [1, 2] } });
    const posted = await conn.post('/echo', { hello: 'world' });
    const echoed = posted.data as { method: string; body: string };
    this.response.payload = { get: [got.status, (got.data as { url: string }).url], post: [posted.status, echoed.method, JSON.parse(echoed.body)] };
  `,
  expected: { get: [200, '/api/echo/a%20b%2Fc?q=1&q=2'], post: [200, 'POST', { hello: 'world' }] },
  teardown: async () => peer?.close(),
});
