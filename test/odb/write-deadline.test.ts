import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ViaductError } from '../../src/errors.js';
import { openOdb, type OdbHandle } from '../../src/odb/database.js';
import { migrateToLatest } from '../../src/odb/migrator.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import { markReadOnly, odbVersion, withWriteLock } from '../../src/odb/write-lock.js';
import { waitFor } from '../helpers/env.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { skipReason, testDialects, type TestDatabase } from './odb-dialects.js';

const DEADLINE_MS = 1_000;
const servers = testDialects.filter((d) => d.server !== undefined);
const skipReasons = await Promise.all(servers.map(skipReason));

/** Rejects with the ViaductError `promise` rejects with; fails when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<ViaductError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ViaductError, `not a coded error: ${String(error)}`);
    return error;
  }
  assert.fail('the write succeeded');
}

for (const [index, dialect] of servers.entries()) {
  describe(
    `an admin change's answer tells the truth about its commit, on ${dialect.name}`,
    { skip: skipReasons[index] },
    () => {
      let database: TestDatabase;
      let direct: OdbHandle;
      let proxied: OdbHandle;
      let proxy: TcpProxy;
      const lines: string[] = [];
      const logger = pino(
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
      );
      const settings = async () =>
        (await direct.db.selectFrom('cluster_setting').select('name').execute()).map((row) => row.name).sort();

      before(async () => {
        database = await dialect.create();
        const location = parseOdbUrl(database.url, database.baseDir);
        direct = openOdb(location, { onIdleError: () => undefined });
        await migrateToLatest(direct.db, location.dialect);
        proxy = new TcpProxy('127.0.0.1', dialect.server!.port);
        const port = await proxy.start();
        proxied = openOdb(
          parseOdbUrl(database.url.replace(`:${dialect.server!.port}/`, `:${port}/`), database.baseDir),
          {
            onIdleError: () => undefined,
          },
        );
      });
      after(async () => {
        proxy.hold(false);
        await proxy.stop();
        await proxied.close().catch(() => undefined);
        await direct.close();
        await database.drop();
      });

      test('a stall before COMMIT: refused as ODB unreachable, and rolled back when the ODB answers again', async () => {
        const before = await odbVersion(direct.db);
        const started = Date.now();
        const error = await codeOf(
          withWriteLock(
            proxied.db,
            async (trx) => {
              proxy.hold(true);
              await trx.insertInto('cluster_setting').values({ name: 'abandoned', value: 'x' }).execute();
            },
            { deadlineMs: DEADLINE_MS, logger },
          ),
        );
        assert.equal(error.code, 'VIA_ERR_ODB_UNREACHABLE');
        assert.equal(error.status, 503);
        assert.ok(Date.now() - started < DEADLINE_MS + 2_000, 'answered at the deadline');
        proxy.hold(false);
        // The next writer queues on the lock until the abandoned transaction ended: it makes the very
        // next version, so the abandoned one never committed.
        const version = await withWriteLock(proxied.db, async (trx, version) => {
          await trx.insertInto('cluster_setting').values({ name: 'after-stall', value: 'x' }).execute();
          return version;
        });
        assert.equal(version, before + 1);
        assert.deepEqual(await settings(), ['after-stall']);
      });

      test('a stall of COMMIT itself: outcome unknown, with the version that tells, and the late commit logged', async () => {
        const before = await odbVersion(direct.db);
        const error = await codeOf(
          withWriteLock(
            proxied.db,
            async (trx) => {
              await trx.insertInto('cluster_setting').values({ name: 'late-commit', value: 'x' }).execute();
              // Nothing is awaited after this: the next bytes on the wire are the COMMIT.
              proxy.hold(true);
            },
            { deadlineMs: DEADLINE_MS, logger },
          ),
        );
        assert.equal(error.code, 'VIA_ERR_OUTCOME_UNKNOWN');
        assert.deepEqual(error.details, { version: before + 1 });
        assert.equal(await odbVersion(direct.db), before, 'not committed while COMMIT is held back');
        proxy.hold(false);
        await waitFor(async () => (await odbVersion(direct.db)) === before + 1, 10_000);
        assert.ok((await settings()).includes('late-commit'));
        await waitFor(() => lines.some((line) => line.includes('committed after all')), 5_000);
      });

      test('an ODB that refuses connections: refused at once, nothing changed', async () => {
        const before = await odbVersion(direct.db);
        await proxy.stop();
        try {
          const started = Date.now();
          const error = await codeOf(
            withWriteLock(
              proxied.db,
              async (trx) => {
                await trx.insertInto('cluster_setting').values({ name: 'refused', value: 'x' }).execute();
              },
              { deadlineMs: 30_000, logger },
            ),
          );
          assert.equal(error.code, 'VIA_ERR_ODB_UNREACHABLE');
          assert.ok(Date.now() - started < 10_000, 'not left to the deadline');
        } finally {
          await proxy.start();
        }
        assert.equal(await odbVersion(direct.db), before);
      });

      test('a write through a read-only copy of the ODB is refused as ODB unreachable', async () => {
        const copy = openOdb(parseOdbUrl(database.url, database.baseDir), { onIdleError: () => undefined });
        try {
          markReadOnly(copy.db);
          const error = await codeOf(withWriteLock(copy.db, async () => undefined));
          assert.equal(error.code, 'VIA_ERR_ODB_UNREACHABLE');
        } finally {
          await copy.close();
        }
      });
    },
  );
}
