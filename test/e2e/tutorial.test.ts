import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { cli, serverReachable, startEnv, waitFor, type RunningEnv } from '../helpers/env.js';

/** docs/tutorial.md, from dist/test/e2e/ (compiled) up to the project root. */
const TUTORIAL = new URL('../../../docs/tutorial.md', import.meta.url);

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

/** Step 0's stand-in for the CRM, a service of the same server behind a channel of its own. */
const CRM_STAND_IN = `import { Service } from 'viaduct';

/** Stands in for the CRM while you try the tutorial: it knows one customer. */
export default class CrmStandIn extends Service {
  static serviceName = 'tutorial.crm-stand-in';

  async handle() {
    if (this.request.http!.params.id !== '1') {
      this.response.status = 404;
      this.response.payload = { error: 'not found' };
      return;
    }
    this.response.payload = { id: 1, name: 'Ada Lovelace' };
  }
}
`;

const STAND_IN_CONFIG = `channels:
  rest:
    - name: crm-stand-in
      path: /crm-stand-in/customers/{id}
      method: GET
      service: tutorial.crm-stand-in
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
    env = await startEnv({ workers: 2 });
  });

  after(async () => {
    await env?.stop();
    if (skip !== undefined) return;
    const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  test('docs/tutorial.md shows the sources and YAML this test runs', async () => {
    const page = await readFile(TUTORIAL, 'utf8');
    for (const [name, text] of Object.entries({ GET_CUSTOMER, CRM_STAND_IN, STAND_IN_CONFIG, CONFIG })) {
      assert.ok(page.includes(`\n${text}\`\`\``), `docs/tutorial.md does not show ${name} as this test runs it`);
    }
  });

  test('deploy, configure with enmasse, call: the answer combines both systems; every outgoing call is logged with the cid', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const base = path.dirname(env.dir);
    const files = {
      'crm-stand-in.ts': CRM_STAND_IN,
      'crm-stand-in.yaml': STAND_IN_CONFIG,
      'get-customer.ts': GET_CUSTOMER,
      'tutorial.yaml': CONFIG,
    };
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(base, file), text);
    const run = async (args: string[], env?: Record<string, string>): Promise<void> => {
      const result = await cli(args, env === undefined ? undefined : { env });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    };
    // Step 0: the CRM stand-in.
    await run(['deploy', path.join(base, 'crm-stand-in.ts'), '--env', env.dir]);
    await run(['enmasse', 'import', path.join(base, 'crm-stand-in.yaml'), '--env', env.dir]);
    assert.deepEqual(await (await fetch(`${env.url}/crm-stand-in/customers/1`)).json(), {
      id: 1,
      name: 'Ada Lovelace',
    });
    // Steps 1 and 2.
    await run(['deploy', path.join(base, 'get-customer.ts'), '--env', env.dir]);
    await run(['enmasse', 'import', path.join(base, 'tutorial.yaml'), '--env', env.dir], {
      CRM_ADDRESS: `${env.url}/crm-stand-in`,
      BILLING_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
    });

    // Step 3.
    const response = await fetch(`${env.url}/api/customers/1`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: 'Ada Lovelace', balance: 1815.12 });
    const cid = response.headers.get('x-viaduct-cid')!;
    const missing = await fetch(`${env.url}/api/customers/2`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'no such customer' });

    const ping = await cli(['outgoing', 'sql', 'ping', '--name', 'Billing', '--env', env.dir]);
    assert.equal(ping.code, 0, ping.stderr);

    const log = path.join(env.dir, 'logs', 'server1.log');
    const lines = async () =>
      (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(cid) && l.includes('Outgoing call'));
    await waitFor(async () => (await lines()).length === 2, 5_000);
    const calls = (await lines()).map((l) => JSON.parse(l) as { outgoing: string; ms: number; cid: string });
    assert.deepEqual(calls.map((c) => c.outgoing).sort(), ['Billing', 'CRM']);
    for (const call of calls) assert.ok(call.ms >= 0);
  });
});
