import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openOdb, type OdbHandle } from '../../src/odb/database.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import { serverReachable } from '../helpers/env.js';
import { onPostgres } from './odb-dialects.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/* A PostgreSQL ODB reached through a proxy that is cut, or falls silent, while statements run. */

const skip = await serverReachable('PostgreSQL', 5432);
const STALL_CHECK_MS = 300;

/** An ODB on a database of its own behind a proxy; everything goes when the test ends. */
async function odbBehindProxy(t: TestContext): Promise<{ odb: OdbHandle; proxy: TcpProxy; failures: Error[] }> {
  const database = `viaduct_test_${randomBytes(6).toString('hex')}`;
  await onPostgres(`CREATE DATABASE ${database}`);
  const proxy = new TcpProxy('127.0.0.1', 5432);
  await proxy.start();
  const failures: Error[] = [];
  const odb = openOdb(parseOdbUrl(`postgresql://postgres@127.0.0.1:${proxy.port}/${database}`, '.'), {
    poolSize: 2,
    stallCheckMs: STALL_CHECK_MS,
    onIdleError: (error) => void failures.push(error),
  });
  t.after(async () => {
    proxy.silence(false);
    await proxy.start();
    await odb.close().catch(() => undefined);
    await proxy.stop();
    await onPostgres(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });
  return { odb, proxy, failures };
}

const one = async (odb: OdbHandle): Promise<number> =>
  Number((await sql<{ n: number }>`SELECT 1 AS n`.execute(odb.db)).rows[0]!.n);

describe('a PostgreSQL ODB connection that breaks or falls silent', { skip }, () => {
  test('cut while a statement runs: the statement fails, nothing is thrown, the next one opens a new connection', async (t) => {
    const { odb, proxy } = await odbBehindProxy(t);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));

    assert.equal(await one(odb), 1);
    const running = sql`SELECT pg_sleep(2)`.execute(odb.db);
    await new Promise((r) => setTimeout(r, 200));
    await proxy.stop();
    await assert.rejects(running, /Connection terminated|ECONNRESET|terminated/);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(uncaught, []);
    await proxy.start();
    assert.equal(await one(odb), 1);
  });

  test('silent: a statement fails soon instead of waiting for ever, and the ODB works once it speaks again', async (t) => {
    const { odb, proxy, failures } = await odbBehindProxy(t);
    assert.equal(await one(odb), 1);
    proxy.silence(true);
    const started = Date.now();
    // The check connection is silenced too: the server cannot be asked, which counts as "not running".
    await assert.rejects(one(odb));
    assert.ok(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
    assert.match(failures[0]?.message ?? '', /did not answer a statement/);
    proxy.silence(false);
    assert.equal(await one(odb), 1);
  });

  test('a statement the server still runs past the check is left to finish', async (t) => {
    const { odb } = await odbBehindProxy(t);
    const result = await sql<{ done: string }>`SELECT pg_sleep(1.2)::text AS done`.execute(odb.db);
    assert.equal(result.rows.length, 1);
  });

  test('silent while a transaction holds a row lock: the connection is closed, the server ends the session and frees the lock', async (t) => {
    const { odb, proxy } = await odbBehindProxy(t);
    await sql`CREATE TABLE guarded (id int PRIMARY KEY, n int)`.execute(odb.db);
    await sql`INSERT INTO guarded VALUES (1, 0)`.execute(odb.db);
    const locked = odb.db.transaction().execute(async (trx) => {
      await sql`SELECT n FROM guarded WHERE id = 1 FOR UPDATE`.execute(trx);
      proxy.silence(true);
      await sql`UPDATE guarded SET n = n + 1 WHERE id = 1`.execute(trx);
    });
    await assert.rejects(locked);
    proxy.silence(false);
    // Past the proxy: the row is free again.
    const database = new URL(odb.location.target).pathname.slice(1);
    const direct = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:5432/${database}` });
    await direct.connect();
    try {
      await direct.query(`SET lock_timeout = '3s'`);
      await direct.query('UPDATE guarded SET n = 10 WHERE id = 1');
    } finally {
      await direct.end();
    }
  });
});
