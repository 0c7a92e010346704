import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sqlConnectionKind } from '../../src/outgoing/sql/sql-config.js';
import { freePort } from '../helpers/env.js';
import { itemTable, mariadbPeer, openSql, postgresPeer, rejection, sqlitePeer } from './sql-fixture.js';

// What one dialect does differently, the configuration's rules, and the connect timeout.
describe('outgoing.sql specifics', () => {
  test('PostgreSQL: a COMMIT after a failed statement is reported, not taken as success', async (t) => {
    const made = await postgresPeer();
    if ('skip' in made) return t.skip(made.skip);
    t.after(() => made.drop());
    const { client } = openSql(t, made);
    const table = await itemTable(client);
    const error = await rejection(
      client.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id, name, qty) VALUES (1, 'a', 1)`);
        await tx.query('SELECT * FROM no_such_table').catch(() => undefined); // swallowed by the service
      }),
    );
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /rolled back/);
    assert.deepEqual(await client.query(`SELECT id FROM ${table}`), []);
  });

  test('MariaDB: the password authenticates, and never appears in an error or a log line', async (t) => {
    const made = await mariadbPeer();
    if ('skip' in made) return t.skip(made.skip);
    t.after(() => made.drop());
    const good = openSql(t, made);
    assert.equal((await good.client.query('SELECT 1 AS one')).length, 1);
    const wrong = `${made.password!}-wrong`;
    const bad = openSql(t, made, { password: wrong });
    const error = await rejection(bad.client.query('SELECT 1'));
    assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
    assert.match(error.message, /Access denied/);
    for (const text of [error.message, JSON.stringify(error), bad.log.text, good.log.text]) {
      assert.ok(!text.includes(made.password!) && !text.includes(wrong), 'no password in sight');
    }
  });

  test('SQLite: booleans and dates are bound, and a caller waits while a transaction holds the connection', async (t) => {
    const peer = await sqlitePeer();
    t.after(() => peer.drop());
    const { client } = openSql(t, peer);
    await client.query('CREATE TABLE flags (on_off INTEGER, at TEXT)');
    const at = new Date('2024-05-06T07:08:09.000Z');
    await client.query('INSERT INTO flags VALUES (?, ?)', [true, at]);
    assert.deepEqual(
      (await client.query('SELECT on_off, at FROM flags')).map((r) => ({ ...r })),
      [{ on_off: 1, at: at.toISOString() }],
    );
    const order: string[] = [];
    const tx = client.transaction(async (trx) => {
      await trx.query('INSERT INTO flags VALUES (0, ?)', ['tx']);
      await new Promise((r) => setTimeout(r, 100));
      order.push('tx');
    });
    const outside = client.query<{ n: number }>('SELECT COUNT(*) AS n FROM flags').then((rows) => {
      order.push('outside');
      return rows[0]!.n;
    });
    await tx;
    assert.equal(await outside, 2, 'it saw the committed row');
    assert.deepEqual(order, ['tx', 'outside']);
  });

  test('configuration: the URL picks the dialect; passwords stay out of it; defaults are filled in', () => {
    const parse = (data: Record<string, unknown>) => sqlConnectionKind.schema.safeParse({ name: 'x', ...data });
    const ok = parse({ url: 'postgresql://app@db.example:5433/billing', password: 's3cret' });
    assert.ok(ok.success);
    assert.deepEqual(
      { ...ok.data, url: undefined, name: undefined, password: undefined },
      {
        name: undefined,
        url: undefined,
        password: undefined,
        is_active: true,
        pool_size: 10,
        connect_timeout_ms: 5_000,
        query_timeout_ms: 30_000,
      },
    );
    for (const url of [
      'mysql://root@127.0.0.1/app',
      'mariadb://root@[::1]:3307/app',
      'postgres://u@h',
      'sqlite:data/app.db',
      'sqlite:///var/lib/app.db',
      'sqlite::memory:',
    ]) {
      assert.ok(parse({ url }).success, url);
    }
    const withPassword = parse({ url: 'postgresql://app:hunter22@db/billing' });
    assert.ok(!withPassword.success);
    assert.match(withPassword.error.issues[0]!.message, /password field/);
    assert.ok(!JSON.stringify(withPassword.error.issues).includes('hunter22'));
    assert.ok(!parse({ url: 'oracle://app@db/x' }).success);
    assert.ok(!parse({ url: 'postgresql://db/x' }).success, 'a user is required');
    assert.ok(!parse({ url: 'postgresql://app@db/x?sslmode=require' }).success);
    assert.ok(!parse({ url: 'sqlite:app.db', password: 'nope' }).success);
    assert.deepEqual(sqlConnectionKind.secretFields, ['password']);
  });

  test('connect_timeout_ms bounds a connection attempt that gets no answer', async (t) => {
    // A listener that accepts and never speaks: the driver's handshake waits in vain.
    const { createServer } = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    for (const scheme of ['postgresql', 'mysql']) {
      const peer = { ...(await sqlitePeer()), url: () => `${scheme}://app@127.0.0.1:${port}/x` };
      t.after(() => peer.drop());
      const { client } = openSql(t, peer, { connect_timeout_ms: 300 });
      const started = Date.now();
      const error = await rejection(client.query('SELECT 1'));
      assert.match(error.code ?? '', /^VIA_ERR_OUTGOING_(TIMEOUT|UNAVAILABLE)$/, `${scheme}: ${error.message}`);
      assert.ok(Date.now() - started < 2_000, `${scheme}: gave up after ${Date.now() - started} ms`);
    }
  });
});
