import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { migrateDownAll, migrateToLatest, pendingMigrations } from '../../src/odb/migrator.js';
import { withWriteLock } from '../../src/odb/write-lock.js';
import { openOdb, type Odb } from '../../src/odb/database.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import type { TestDatabase } from './odb-dialects.js';
import type { FixtureOf } from './odb-fixture.js';

async function lockCounter(db: Odb): Promise<number> {
  const row = await db.selectFrom('write_lock').select('counter').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.counter);
}

/** Migrations on a fresh database; the fixture's database must not be migrated yet. */
export function migrationCases(fixture: FixtureOf): void {
  test('migrations apply to a fresh database, leave nothing pending, and a second run is a no-op', async () => {
    const { db, location } = fixture();
    const pending = await pendingMigrations(db, location.dialect);
    assert.ok(pending.includes('0001-initial'), `pending on a fresh database: ${pending.join(', ')}`);

    assert.deepEqual(await migrateToLatest(db, location.dialect), pending);
    assert.deepEqual(await pendingMigrations(db, location.dialect), []);
    assert.equal(await lockCounter(db), 0);

    assert.deepEqual(await migrateToLatest(db, location.dialect), []);
    assert.deepEqual(await pendingMigrations(db, location.dialect), []);
    assert.deepEqual(
      await db.selectFrom('write_lock').selectAll().execute(),
      [{ id: 1, counter: 0 }],
      'the second run must not insert the lock row again',
    );
  });

  test('migrateDownAll drops what the migrations made, and migrateToLatest makes it again', async () => {
    const { db, location } = fixture();
    await migrateToLatest(db, location.dialect);
    await migrateDownAll(db, location.dialect);
    assert.ok((await pendingMigrations(db, location.dialect)).includes('0001-initial'));
    await assert.rejects(db.selectFrom('config_item').selectAll().execute());

    assert.ok((await migrateToLatest(db, location.dialect)).includes('0001-initial'));
    assert.deepEqual(await db.selectFrom('config_item').selectAll().execute(), []);
    assert.equal(await lockCounter(db), 0);
  });
}

export function writeLockCases(fixture: FixtureOf): void {
  test('withWriteLock serializes transactions that read a value and write it back incremented', async () => {
    const { db } = fixture();
    const now = new Date().toISOString();
    await db.deleteFrom('server').execute();
    await db
      .insertInto('server')
      .values({ name: 'counter', host: 'localhost', port: 0, pid: 0, started_at: now, last_seen: now })
      .execute();
    const lockBefore = await lockCounter(db);

    let inside = 0;
    let mostInside = 0;
    const increment = () =>
      withWriteLock(db, async (trx) => {
        mostInside = Math.max(mostInside, ++inside);
        const row = await trx
          .selectFrom('server')
          .select('port')
          .where('name', '=', 'counter')
          .executeTakeFirstOrThrow();
        // Long enough for an unserialized writer to read the same value.
        await delay(50);
        await trx
          .updateTable('server')
          .set({ port: Number(row.port) + 1 })
          .where('name', '=', 'counter')
          .execute();
        inside--;
      });
    await Promise.all([increment(), increment(), increment()]);

    const row = await db.selectFrom('server').select('port').where('name', '=', 'counter').executeTakeFirstOrThrow();
    assert.equal(Number(row.port), 3);
    assert.equal(mostInside, 1, 'two transactions held the write lock at once');
    assert.equal(await lockCounter(db), lockBefore + 3);
    await db.deleteFrom('server').execute();
  });

  test('withWriteLock rolls back everything, the lock counter included, when the work throws', async () => {
    const { db } = fixture();
    const lockBefore = await lockCounter(db);
    const now = new Date().toISOString();
    await assert.rejects(
      withWriteLock(db, async (trx) => {
        await trx
          .insertInto('server')
          .values({ name: 'doomed', host: 'localhost', port: 1, pid: 1, started_at: now, last_seen: now })
          .execute();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(
      await db.selectFrom('server').select('name').where('name', '=', 'doomed').executeTakeFirst(),
      undefined,
    );
    assert.equal(await lockCounter(db), lockBefore);
    // The lock was released: the next writer gets it.
    await withWriteLock(db, async () => undefined);
    assert.equal(await lockCounter(db), lockBefore + 1);
  });
}

/** The database server ends the pool's sessions (a restart, an administrator): the process goes on and the ODB serves again. */
export function lostSessionCases(database: () => TestDatabase): void {
  test('sessions ended by the server while idle: no uncaught error, and the next queries succeed', async () => {
    const { url, baseDir, endSessions } = database();
    assert.ok(endSessions, 'the dialect has no sessions to end');
    // Opened here, so that an error of its connections belongs to this test.
    const idleErrors: Error[] = [];
    const { db, location, close } = openOdb(parseOdbUrl(url, baseDir), {
      poolSize: 3,
      onIdleError: (error) => idleErrors.push(error),
    });
    try {
      await migrateToLatest(db, location.dialect);
      // Several connections at once, so that the pool holds more than one idle.
      await Promise.all([1, 2, 3].map(() => db.selectFrom('write_lock').select('counter').execute()));
      await endSessions();
      // The idle connections learn of it from the server; give them the time to.
      await delay(200);
      if (location.dialect === 'postgresql') assert.ok(idleErrors.length > 0, 'the pool reports what it dropped');
      for (let i = 0; i < 3; i++)
        await Promise.all([1, 2, 3].map(() => db.selectFrom('write_lock').select('counter').execute()));
      await withWriteLock(db, async () => undefined);
    } finally {
      await close();
    }
  });
}
