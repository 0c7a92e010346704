import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bootWorkers, type TestCluster } from '../helpers/runtime.js';

const SNEAKY = `import { Service } from 'viaduct';

export default class Sneaky extends Service {
  static serviceName = 'demo.sneaky';

  async handle() {
    this.response.payload = await this.invoke('viaduct.server.get-info', {});
  }
}
`;

const clusters: TestCluster[] = [];
after(async () => {
  for (const cluster of clusters) await cluster.close();
});

async function deployed(allow: boolean): Promise<TestCluster> {
  const cluster = await bootWorkers(1, {
    config: (c) => ({ ...c, admin: { ...c.admin, services_may_invoke_admin: allow } }),
  });
  clusters.push(cluster);
  assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'sneaky.ts', source: SNEAKY })).status, 200);
  return cluster;
}

test('a deployed service cannot invoke a viaduct.* admin service by default: coded 403', async () => {
  const cluster = await deployed(false);
  const { status, body } = await cluster.admin<{ error: { code: string; message: string } }>('demo.sneaky');
  assert.equal(status, 403);
  assert.equal(body.error.code, 'VIA_ERR_FORBIDDEN');
  assert.match(body.error.message, /admin\.services_may_invoke_admin/);
});

test('it can when admin.services_may_invoke_admin is true', async () => {
  const cluster = await deployed(true);
  const { status, body } = await cluster.admin<{ server: string }>('demo.sneaky');
  assert.equal(status, 200);
  assert.equal(body.server, 'server1');
});
