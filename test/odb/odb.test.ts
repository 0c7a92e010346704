import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { migrateToLatest } from '../../src/odb/migrator.js';
import { serviceRepository } from '../../src/service/service-repository.js';
import { compile } from '../../src/service/loader.js';
import { configCases } from './config-cases.js';
import { configRuleCases } from './config-rule-cases.js';
import { skipReason, testDialects, type TestDatabase } from './odb-dialects.js';
import { clearServices, openFixture, type OdbFixture } from './odb-fixture.js';
import { serviceRepositoryCases, serviceSource } from './service-cases.js';
import { lostSessionCases, migrationCases, writeLockCases } from './schema-cases.js';

// Every server is checked before any test starts, so that under CI=true a missing one fails the file at once.
const skipReasons = await Promise.all(testDialects.map(skipReason));

// One suite, every dialect: each case is written once and runs against a fresh database of each.
testDialects.forEach((dialect, index) => {
  describe(`ODB on ${dialect.name}`, { skip: skipReasons[index] }, () => {
    let database: TestDatabase | undefined;
    let odb: OdbFixture | undefined;
    const fixture = (): OdbFixture => odb ?? assert.fail(`the ${dialect.name} database was not set up`);

    before(async () => {
      database = await dialect.create();
      odb = openFixture(database);
    });
    after(async () => {
      await odb?.close();
      await database?.drop();
    });

    // First: it needs the database fresh. Every later group migrates (a no-op by then) itself.
    describe('migrations', () => migrationCases(fixture));

    describe('write lock', () => {
      before(() => migrateToLatest(fixture().db, fixture().location.dialect));
      writeLockCases(fixture);
    });

    describe('service repository', () => {
      before(() => migrateToLatest(fixture().db, fixture().location.dialect));
      serviceRepositoryCases(fixture);
    });

    describe('config objects', () => {
      before(() => deployHello(fixture()));
      configCases(fixture);
    });

    describe('config writer rules', () => {
      before(() => deployHello(fixture()));
      configRuleCases(fixture);
    });

    describe(
      'lost sessions',
      { skip: dialect.server === undefined ? 'an embedded database has no sessions to lose' : undefined },
      () => {
        lostSessionCases(() => database ?? assert.fail(`the ${dialect.name} database was not set up`));
      },
    );
  });
});

/** Migrates and deploys demo.hello alone, for channels to refer to. */
async function deployHello({ db, location }: OdbFixture): Promise<void> {
  await migrateToLatest(db, location.dialect);
  await clearServices(db);
  await serviceRepository.save(db, await compile('hello.ts', serviceSource(['demo.hello'])), ['demo.hello']);
}
