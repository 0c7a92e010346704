import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { cli, serverReachable, startEnv, waitFor } from '../helpers/env.js';

interface Backend {
  readonly name: string;
  readonly port: number;
  createDatabase(db: string): Promise<string>;
  dropDatabase(db: string): Promise<void>;
}

const backends: Backend[] = [
  {
    name: 'PostgreSQL',
    port: 5432,
    async createDatabase(db) {
      const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      await client.query(`CREATE DATABASE ${db}`);
      await client.end();
      return `postgresql://postgres@127.0.0.1:5432/${db}`;
    },
    async dropDatabase(db) {
      const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await client.end();
    },
  },
  {
    name: 'MariaDB',
    port: 3306,
    async createDatabase(db) {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      await connection.query(`CREATE DATABASE ${db}`);
      await connection.end();
      return `mysql://root@127.0.0.1:3306/${db}`;
    },
    async dropDatabase(db) {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      await connection.query(`DROP DATABASE IF EXISTS ${db}`);
      await connection.end();
    },
  },
];

for (const backend of backends) {
  describe(`an environment on a ${backend.name} ODB`, () => {
    test('quickstart --odb, deploy, configure, restart: everything is kept in the ODB; secrets stay out of logs', async (t) => {
      const skip = await serverReachable(backend.name, backend.port);
      if (skip !== undefined) return t.skip(skip);
      const db = `viaduct_e2e_${randomBytes(4).toString('hex')}`;
      const url = await backend.createDatabase(db);
      const env = await startEnv({ workers: 2, odb: url });
      try {
        assert.equal(
          (await env.admin('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status,
          200,
        );
        assert.equal(
          (
            await env.admin('viaduct.security.basic-auth.create', {
              name: 'db-auth',
              username: 'u',
              password: 'very-secret-pw',
            })
          ).status,
          200,
        );
        assert.equal(
          (
            await env.admin('viaduct.channel.rest.create', {
              name: 'hello',
              path: '/hello',
              service: 'demo.hello',
              security: 'db-auth',
            })
          ).status,
          200,
        );
        const auth = { authorization: `Basic ${Buffer.from('u:very-secret-pw').toString('base64')}` };
        assert.deepEqual(
          await (await fetch(`${env.url}/hello`, { method: 'POST', headers: auth, body: '{"name":"db"}' })).json(),
          { hello: 'db' },
        );

        assert.equal((await cli(['stop', env.dir])).code, 0);
        assert.equal((await cli(['start', env.dir])).code, 0);
        assert.deepEqual(
          await (await fetch(`${env.url}/hello`, { method: 'POST', headers: auth, body: '{"name":"again"}' })).json(),
          { hello: 'again' },
        );
        const check = await cli(['check-config', env.dir]);
        assert.equal(check.code, 0, check.stdout);

        const logFile = path.join(env.dir, 'logs', 'server1.log');
        await waitFor(async () => (await readFile(logFile, 'utf8')).includes('Admin API call'));
        const log = await readFile(logFile, 'utf8');
        assert.doesNotMatch(log, /very-secret-pw/);
        assert.doesNotMatch(log, new RegExp(Buffer.from('u:very-secret-pw').toString('base64')));
      } finally {
        await env.stop();
        await backend.dropDatabase(db);
      }
    });
  });
}
