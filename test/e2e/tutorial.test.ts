import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { cli, freePort, serverReachable, startEnv, waitFor, type RunningEnv } from '../helpers/env.js';

/** The tutorial's service, exactly as docs/tutorial.md shows it. */
const GET_CUSTOMER = `import { Service } from 'viaduct';

export default class GetCustomer extends Service {
  static serviceName = 'crm.get-customer';

  async handle() {
    const { id } = this.request.http!.params;
    const crm = await this.out.rest('CRM').get<{ name: string }>('/customers/{id}', { params: { id } });
    if (crm.status === 404) {
      this.response.status = 404;
      this.response.payload = { error: 'no such customer' };
      return;
    }
    const [row] = await this.out.sql('Billing').query<{ balance: string }>('SELECT balance FROM balance WHERE user_name = $1', [crm.data.name]);
    this.response.payload = { name: crm.data.name, balance: Number(row?.balance ?? 0) };
  }
}
`;

const CONFIG = `outgoing:
  rest:
    - name: CRM
      address: \${CRM_ADDRESS}
  sql:
    - name: Billing
      url: \${BILLING_URL}
channels:
  rest:
    - name: get-customer
      path: /api/customers/{id}
      method: GET
      service: crm.get-customer
`;

describe('the tutorial: a REST channel, a service that calls a REST and an SQL connection', () => {
  let env: RunningEnv;
  let crm: Server;
  let crmUrl: string;
  let skip: string | undefined;
  const database = `viaduct_tutorial_${randomBytes(4).toString('hex')}`;

  before(async () => {
    skip = await serverReachable('PostgreSQL', 5432);
    if (skip !== undefined) return;
    const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const billing = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:5432/${database}` });
    await billing.connect();
    await billing.query('CREATE TABLE balance (user_name text PRIMARY KEY, balance numeric NOT NULL)');
    await billing.query("INSERT INTO balance VALUES ('Ada Lovelace', 1815.12)");
    await billing.end();

    // The CRM: a REST API that knows one customer.
    crm = createServer((req, res) => {
      const known = req.url === '/customers/1';
      res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(known ? { id: 1, name: 'Ada Lovelace' } : { error: 'not found' }));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => crm.listen(port, '127.0.0.1', resolve));
    crmUrl = `http://127.0.0.1:${port}`;
    env = await startEnv({ workers: 2 });
  });

  after(async () => {
    await env?.stop();
    crm?.close();
    if (skip !== undefined) return;
    const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  test('deploy, configure with enmasse, call: the answer combines both systems; every outgoing call is logged with the cid', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const base = path.dirname(env.dir);
    await writeFile(path.join(base, 'get-customer.ts'), GET_CUSTOMER);
    await writeFile(path.join(base, 'tutorial.yaml'), CONFIG);
    const deployed = await cli(['deploy', path.join(base, 'get-customer.ts'), '--env', env.dir]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const imported = await cli(['enmasse', 'import', path.join(base, 'tutorial.yaml'), '--env', env.dir], {
      env: { CRM_ADDRESS: crmUrl, BILLING_URL: `postgresql://postgres@127.0.0.1:5432/${database}` },
    });
    assert.equal(imported.code, 0, imported.stderr);

    const response = await fetch(`${env.url}/api/customers/1`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: 'Ada Lovelace', balance: 1815.12 });
    const cid = response.headers.get('x-viaduct-cid')!;
    assert.equal((await fetch(`${env.url}/api/customers/2`)).status, 404);

    const ping = await cli(['outgoing', 'sql', 'ping', '--name', 'Billing', '--env', env.dir]);
    assert.equal(ping.code, 0, ping.stderr);

    const log = path.join(env.dir, 'logs', 'server1.log');
    const lines = async () => (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(cid) && l.includes('Outgoing call'));
    await waitFor(async () => (await lines()).length === 2, 5_000);
    const calls = (await lines()).map((l) => JSON.parse(l) as { outgoing: string; ms: number; cid: string });
    assert.deepEqual(calls.map((c) => c.outgoing).sort(), ['Billing', 'CRM']);
    for (const call of calls) assert.ok(call.ms >= 0);
  });
});
