import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import {
  itemTable,
  mariadbPeer,
  openSql,
  postgresPeer,
  rejection,
  sqlitePeer,
  type Item,
  type SqlPeer,
} from './sql-fixture.js';

// SQLite is a file in the worker: it has no remote end to go away, so those tests are for the servers only.
const DIALECTS: ReadonlyArray<{ name: string; make: () => Promise<SqlPeer | { skip: string }>; remote: boolean }> = [
  { name: 'PostgreSQL', make: postgresPeer, remote: true },
  { name: 'MariaDB', make: mariadbPeer, remote: true },
  { name: 'SQLite', make: sqlitePeer, remote: false },
];

for (const { name, make, remote } of DIALECTS) {
  describe(`outgoing.sql on ${name}`, () => {
    let peer: SqlPeer;
    let skip: string | undefined;
    const ready = (t: TestContext): boolean => {
      if (skip !== undefined) t.skip(skip);
      return skip === undefined;
    };

    before(async () => {
      const made = await make();
      if ('skip' in made) skip = made.skip;
      else peer = made;
    });
    after(async () => peer?.drop());

    test("query binds parameters in the database's own placeholder style and returns rows", async (t) => {
      if (!ready(t)) return;
      const { client } = openSql(t, peer);
      assert.equal(client.dialect, peer.dialect);
      const table = await itemTable(client);
      const hostile = "O'Brien'); DROP TABLE x; --";
      await client.query(`INSERT INTO ${table} (id, name, qty) VALUES (${peer.p(1)}, ${peer.p(2)}, ${peer.p(3)})`, [
        1,
        hostile,
        5,
      ]);
      await client.query(`INSERT INTO ${table} (id, name, qty) VALUES (${peer.p(1)}, ${peer.p(2)}, ${peer.p(3)})`, [
        2,
        'plain',
        7,
      ]);
      const rows = await client.query<Item>(
        `SELECT id, name, qty FROM ${table} WHERE qty >= ${peer.p(1)} ORDER BY id`,
        [5],
      );
      assert.deepEqual(
        rows.map((r) => ({ ...r })),
        [
          { id: 1, name: hostile, qty: 5 },
          { id: 2, name: 'plain', qty: 7 },
        ],
      );
      assert.deepEqual(await client.query(`SELECT id FROM ${table} WHERE id = ${peer.p(1)}`, [99]), []);
    });

    test('every call is logged with the cid, the connection name, the operation and its duration', async (t) => {
      if (!ready(t)) return;
      const { client, log } = openSql(t, peer);
      await client.query('SELECT 1 AS one');
      const line = JSON.parse(log.lines.find((l) => l.includes('"Outgoing call"'))!) as Record<string, unknown>;
      assert.equal(line.cid, 'cid-sql-test');
      assert.equal(line.outgoing, 'billing');
      assert.equal(line.type, 'outgoing.sql');
      assert.equal(line.op, 'query');
      assert.equal(typeof line.ms, 'number');
    });

    test('transaction: commits when the function resolves, on one connection, and returns its value', async (t) => {
      if (!ready(t)) return;
      const { client } = openSql(t, peer, { pool_size: 3 });
      const table = await itemTable(client);
      const result = await client.transaction(async (tx) => {
        const [first] = await tx.query<{ id: unknown }>(peer.connectionId);
        await tx.query(`INSERT INTO ${table} (id, name, qty) VALUES (${peer.p(1)}, ${peer.p(2)}, ${peer.p(3)})`, [
          1,
          'a',
          1,
        ]);
        if (peer.dialect !== 'sqlite') {
          // Not committed yet: another pooled connection does not see the row.
          assert.deepEqual(await client.query(`SELECT id FROM ${table}`), []);
        }
        await tx.query(`UPDATE ${table} SET qty = qty + 1 WHERE id = ${peer.p(1)}`, [1]);
        const [last] = await tx.query<{ id: unknown }>(peer.connectionId);
        assert.equal(String(last!.id), String(first!.id), 'every statement ran on the same connection');
        return 'done';
      });
      assert.equal(result, 'done');
      assert.deepEqual(
        (await client.query<Item>(`SELECT qty FROM ${table}`)).map((r) => r.qty),
        [2],
      );
    });

    test('transaction: rolls back when the function throws, and the caller gets that same error', async (t) => {
      if (!ready(t)) return;
      const { client } = openSql(t, peer);
      const table = await itemTable(client);
      const mine = new Error('the service changed its mind');
      const thrown = await rejection(
        client.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id, name, qty) VALUES (${peer.p(1)}, ${peer.p(2)}, ${peer.p(3)})`, [
            1,
            'a',
            1,
          ]);
          throw mine;
        }),
      );
      assert.equal(thrown, mine);
      assert.deepEqual(await client.query(`SELECT id FROM ${table}`), []);
      // A failing statement inside is a coded error the function can let through: rolled back too.
      const failed = await rejection(
        client.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id, name, qty) VALUES (${peer.p(1)}, ${peer.p(2)}, ${peer.p(3)})`, [
            1,
            'a',
            1,
          ]);
          await tx.query(`INSERT INTO ${table} (id, name, qty) VALUES (${peer.p(1)}, ${peer.p(2)}, ${peer.p(3)})`, [
            1,
            'duplicate',
            1,
          ]);
        }),
      );
      assert.equal(failed.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.deepEqual(await client.query(`SELECT id FROM ${table}`), []);
    });

    test('transaction: its statements are refused once it has ended', async (t) => {
      if (!ready(t)) return;
      const { client } = openSql(t, peer);
      let kept: { query(sql: string): Promise<unknown> } | undefined;
      await client.transaction(async (tx) => {
        kept = tx;
      });
      const late = await rejection(kept!.query('SELECT 1'));
      assert.equal(late.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.match(late.message, /transaction has ended/);
    });

    test('kysely: typed queries and transactions over the same pool, each statement logged', async (t) => {
      if (!ready(t)) return;
      const { client, log } = openSql(t, peer);
      await client.query(
        'CREATE TABLE stock (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INTEGER NOT NULL)',
      );
      const db = client.kysely<{ stock: Item }>();
      await db
        .insertInto('stock')
        .values([
          { id: 1, name: 'bolt', qty: 10 },
          { id: 2, name: 'nut', qty: 3 },
        ])
        .execute();
      const updated = await db.updateTable('stock').set({ qty: 0 }).where('qty', '<', 5).executeTakeFirstOrThrow();
      assert.equal(updated.numUpdatedRows, 1n);
      const rows = await db.selectFrom('stock').select(['name', 'qty']).orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => ({ ...r })),
        [
          { name: 'bolt', qty: 10 },
          { name: 'nut', qty: 0 },
        ],
      );

      await db.transaction().execute(async (trx) => {
        await trx.insertInto('stock').values({ id: 3, name: 'washer', qty: 1 }).execute();
      });
      const undo = new Error('undo');
      assert.equal(
        await rejection(
          db.transaction().execute(async (trx) => {
            await trx.insertInto('stock').values({ id: 4, name: 'rivet', qty: 1 }).execute();
            throw undo;
          }),
        ),
        undo,
      );
      const names = await db.selectFrom('stock').select('name').orderBy('id').execute();
      assert.deepEqual(
        names.map((r) => r.name),
        ['bolt', 'nut', 'washer'],
      );

      const missing = await rejection(
        db
          .selectFrom('no_such_table' as 'stock')
          .selectAll()
          .execute(),
      );
      assert.equal(missing.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.ok(
        log.lines.filter((l) => l.includes('"op":"kysely"')).length >= 8,
        'each Kysely statement is an outgoing call',
      );
      // The Kysely instance of one invocation cannot end the connection's pool.
      await db.destroy();
      assert.deepEqual(await client.query('SELECT 1 AS one').then((r) => r.length), 1);
    });

    test("an SQL error is VIA_ERR_OUTGOING_FAILED with the database's message and code", async (t) => {
      if (!ready(t)) return;
      const { client, log } = openSql(t, peer);
      const error = await rejection(client.query('SELECT * FROM no_such_table'));
      assert.equal(error.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.match(error.message, /^outgoing\.sql billing: .*no_such_table/);
      assert.equal(typeof (error.details as { sqlCode?: unknown }).sqlCode, 'string');
      const table = await itemTable(client);
      await client.query(`INSERT INTO ${table} (id, name, qty) VALUES (1, 'a', 1)`);
      const duplicate = await rejection(client.query(`INSERT INTO ${table} (id, name, qty) VALUES (1, 'b', 2)`));
      const expected = { postgresql: '23505', mysql: 'ER_DUP_ENTRY', sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY' }[
        peer.dialect
      ];
      assert.deepEqual(duplicate.details, { sqlCode: expected }, 'a service can tell a duplicate from other failures');
      const syntax = await rejection(client.query('SELEC 1'));
      assert.equal(syntax.code, 'VIA_ERR_OUTGOING_FAILED');
      assert.match(log.text, /"code":"VIA_ERR_OUTGOING_FAILED"/);
      // The connection is still good after SQL errors.
      assert.equal((await client.query('SELECT 1 AS one')).length, 1);
    });

    test('a statement over query_timeout_ms is VIA_ERR_OUTGOING_TIMEOUT, and the pool is not poisoned', async (t) => {
      if (!ready(t)) return;
      const { client } = openSql(t, peer, { pool_size: 1, query_timeout_ms: 400 });
      if (peer.dialect === 'sqlite') {
        // Another process's write lock: the write waits for the busy timeout, then gives up.
        const table = await itemTable(client);
        const other = new Database(path.join(peer.baseDir, 'data.db'));
        other.exec('BEGIN IMMEDIATE');
        const started = Date.now();
        const error = await rejection(client.query(`INSERT INTO ${table} (id, name, qty) VALUES (1, 'a', 1)`));
        assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT');
        assert.ok(Date.now() - started >= 350, 'it waited for the lock');
        other.exec('ROLLBACK');
        other.close();
        await client.query(`INSERT INTO ${table} (id, name, qty) VALUES (1, 'a', 1)`);
        return;
      }
      const [before] = await client.query<{ id: unknown }>(peer.connectionId);
      const started = Date.now();
      const error = await rejection(client.query(peer.sleep(3)));
      assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT', error.message);
      assert.ok(Date.now() - started < 2_500, `cut off after ${Date.now() - started} ms`);
      // The database cancelled the statement itself: the one pooled connection serves on.
      const [after] = await client.query<{ id: unknown }>(peer.connectionId);
      assert.equal(String(after!.id), String(before!.id));
    });

    test('a pool busy for longer than the wait limit fails the waiting call with VIA_ERR_OUTGOING_TIMEOUT', async (t) => {
      if (!ready(t)) return;
      // SQLite's one connection is waited for up to query_timeout_ms; a pool's up to connect_timeout_ms.
      const { client } = openSql(t, peer, {
        pool_size: 1,
        connect_timeout_ms: 300,
        query_timeout_ms: peer.dialect === 'sqlite' ? 300 : 5_000,
      });
      let release: () => void = () => undefined;
      const held = client.transaction(() => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const waited = await rejection(client.query('SELECT 1'));
      assert.equal(waited.code, 'VIA_ERR_OUTGOING_TIMEOUT', waited.message);
      assert.ok(Date.now() - started < 1_500, `gave up after ${Date.now() - started} ms`);
      release();
      await held;
      assert.equal((await client.query('SELECT 1 AS one')).length, 1);
    });

    test('close() lets calls in flight finish, then refuses new ones with a coded error', async (t) => {
      if (!ready(t)) return;
      const { client, connection } = openSql(t, peer);
      const slow =
        peer.dialect === 'sqlite'
          ? client.transaction(async (tx) => {
              await new Promise((r) => setTimeout(r, 300));
              return tx.query('SELECT 2 AS two');
            })
          : client.query(`${peer.sleep(0.3)}`).then(() => [{ two: 2 }]);
      await new Promise((r) => setTimeout(r, 50));
      const closed = connection.close();
      assert.deepEqual(
        (await slow).map((r) => Number(r.two)),
        [2],
      );
      await closed;
      const refused = await rejection(client.query('SELECT 1'));
      assert.equal(refused.code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
      assert.match(refused.message, /closed/);
    });

    test('an unreachable database does not stop creation: calls and ping fail with a coded error, then recover', async (t) => {
      if (!ready(t)) return;
      if (peer.dialect === 'sqlite') {
        // A path that cannot be made (a plain file stands where its directory should be):
        // usable as soon as it can. A missing directory is made, relative to the environment.
        await writeFile(path.join(peer.baseDir, 'later'), 'not a directory');
        const { client, connection } = openSql(t, peer, { url: 'sqlite:later/app.db' });
        assert.equal((await rejection(client.query('SELECT 1'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
        await rm(path.join(peer.baseDir, 'later'));
        await connection.ping();
        assert.ok(
          existsSync(path.join(peer.baseDir, 'later', 'app.db')),
          'the relative path resolves against the environment directory',
        );
        return;
      }
      const proxy = new TcpProxy(peer.address.host, peer.address.port);
      const port = await proxy.start();
      await proxy.stop();
      const { client, connection } = openSql(t, peer, {
        url: peer.url({ host: '127.0.0.1', port }),
        connect_timeout_ms: 1_000,
      });
      const started = Date.now();
      const down = await rejection(client.query('SELECT 1'));
      assert.equal(down.code, 'VIA_ERR_OUTGOING_UNAVAILABLE', down.message);
      assert.ok(Date.now() - started < 1_500);
      assert.match((await rejection(connection.ping())).code ?? '', /^VIA_ERR_OUTGOING_(UNAVAILABLE|TIMEOUT)$/);
      await proxy.start();
      t.after(() => proxy.stop());
      await connection.ping();
      assert.equal((await client.query('SELECT 1 AS one')).length, 1);
    });

    if (remote) {
      test('a pooled connection the remote end dropped does not poison the pool', async (t) => {
        if (!ready(t)) return;
        const { client } = openSql(t, peer, { pool_size: 1 });
        const [first] = await client.query<{ id: unknown }>(peer.connectionId);
        await peer.killSessions();
        // At most the one call that meets the dead socket fails (coded); the next one reconnects.
        const outcomes: string[] = [];
        let id: unknown;
        for (let i = 0; i < 3 && id === undefined; i++) {
          await client.query<{ id: unknown }>(peer.connectionId).then(
            ([row]) => (id = row!.id),
            (error: { code: string }) => outcomes.push(error.code),
          );
        }
        assert.ok(outcomes.length <= 1, `failures: ${outcomes.join(', ')}`);
        assert.ok(
          outcomes.every((c) => c === 'VIA_ERR_OUTGOING_UNAVAILABLE'),
          outcomes.join(', '),
        );
        assert.notEqual(String(id), String(first!.id), 'a new server session');
      });

      test('an answer that never comes: VIA_ERR_OUTGOING_TIMEOUT after the client-side limit, and the connection is closed, not reused', async (t) => {
        if (!ready(t)) return;
        const proxy = new TcpProxy(peer.address.host, peer.address.port);
        const port = await proxy.start();
        t.after(() => proxy.stop());
        // The client-side limit is query_timeout_ms plus a second: the database's own cancellation comes first when it can.
        const { client } = openSql(t, peer, {
          url: peer.url({ host: '127.0.0.1', port }),
          pool_size: 2,
          query_timeout_ms: 300,
        });
        // Both pooled connections are open before the network falls silent (a new one could not even log in).
        const before = (
          await Promise.all([
            client.query<{ id: unknown }>(peer.connectionId),
            client.query<{ id: unknown }>(peer.connectionId),
          ])
        ).map(([row]) => String(row!.id));
        assert.equal(new Set(before).size, 2);
        proxy.silence(true);
        const started = Date.now();
        // A statement of its own, and a transaction's (its BEGIN), on the two connections at once.
        const [lost, inTransaction] = await Promise.all([
          rejection(client.query('SELECT 1')),
          rejection(client.transaction((tx) => tx.query('SELECT 2'))),
        ]);
        const waited = Date.now() - started;
        for (const error of [lost, inTransaction]) {
          assert.equal(error.code, 'VIA_ERR_OUTGOING_TIMEOUT', error.message);
          assert.match(error.message, /no answer within 1300 ms/);
        }
        assert.ok(waited >= 1_200 && waited < 3_000, `gave up after ${waited} ms`);
        proxy.silence(false);
        const after = (
          await Promise.all([
            client.query<{ id: unknown }>(peer.connectionId),
            client.query<{ id: unknown }>(peer.connectionId),
          ])
        ).map(([row]) => String(row!.id));
        assert.ok(
          after.every((id) => !before.includes(id)),
          `the connections that fell silent were closed, new ones serve: ${before} then ${after}`,
        );
      });

      test('the remote end going away mid-way and coming back: coded errors, then service resumes by itself', async (t) => {
        if (!ready(t)) return;
        const proxy = new TcpProxy(peer.address.host, peer.address.port);
        const port = await proxy.start();
        t.after(() => proxy.stop());
        const { client } = openSql(t, peer, {
          url: peer.url({ host: '127.0.0.1', port }),
          pool_size: 2,
          connect_timeout_ms: 1_000,
        });
        await Promise.all([client.query('SELECT 1'), client.query('SELECT 1')]);
        const inFlight = client.query(peer.sleep(1));
        await new Promise((r) => setTimeout(r, 100));
        await proxy.stop();
        assert.equal((await rejection(inFlight)).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
        assert.equal((await rejection(client.query('SELECT 1'))).code, 'VIA_ERR_OUTGOING_UNAVAILABLE');
        await proxy.start();
        await waitFor(
          async () =>
            client.query('SELECT 1').then(
              () => true,
              () => false,
            ),
          5_000,
          50,
        );
        assert.equal((await Promise.all([client.query('SELECT 1'), client.query('SELECT 1')])).length, 2);
      });
    }
  });
}
