import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

const CALLER = `import { Service } from 'viaduct';
export default class Caller extends Service {
  static serviceName = 'client.caller';
  async handle() {
    this.response.payload = await this.out.rest('gone').get('/x');
  }
}
`;

let cluster: TestCluster;
let closedPort: number;
const lines: string[] = [];

before(async () => {
  // A port nothing listens on: taken, then given back.
  closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const logger = pino(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  cluster = await bootWorkers(1, { logger });
  const ok = async (service: string, payload: unknown) =>
    assert.equal((await cluster.admin(service, payload)).status, 200, service);
  await ok('viaduct.outgoing.rest.create', { name: 'gone', address: `http://127.0.0.1:${closedPort}` });
  await ok('viaduct.service.deploy', { file: 'caller.ts', source: CALLER });
  await ok('viaduct.channel.rest.create', { name: 'caller', path: '/caller', service: 'client.caller' });
});

after(() => cluster?.close());

test("a channel's client is told the code and a neutral message; the backend's address and the driver's words stay in the log", async () => {
  const response = await fetch(`${cluster.urls[0]}/caller`, { method: 'POST', body: '{}' });
  assert.equal(response.status, 503);
  const text = await response.text();
  const body = JSON.parse(text) as { error: { code: string; message: string; cid: string } };
  assert.equal(body.error.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
  assert.equal(body.error.message, 'The outgoing connection cannot reach its remote end');
  assert.equal(body.error.cid, response.headers.get('x-viaduct-cid'));
  for (const secret of ['127.0.0.1', String(closedPort), 'ECONNREFUSED', 'gone', 'stack'])
    assert.ok(!text.includes(secret), text);
  const logged = lines.filter((line) => line.includes(body.error.cid)).join('\n');
  assert.match(logged, /ECONNREFUSED/, 'the detail is in the log');
  assert.match(logged, /client\.caller/, 'with the service named');
});
