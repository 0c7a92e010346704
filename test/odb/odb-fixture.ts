import assert from 'node:assert/strict';
import type { ConfigObject } from '../../src/config/config-kind.js';
import type { ConfigRegistry } from '../../src/config/config-registry.js';
import { createConfigRegistry } from '../../src/server/features.js';
import { ConfigWriter, type ConfigDraft } from '../../src/config/config-writer.js';
import type { ErrorCode } from '../../src/errors.js';
import { ConfigRepository } from '../../src/config/config-repository.js';
import { openOdb, type Odb } from '../../src/odb/database.js';
import { parseOdbUrl, type OdbLocation } from '../../src/odb/odb-url.js';
import { serviceRepository } from '../../src/service/service-repository.js';
import { SecretBox } from '../../src/util/secret-box.js';
import type { TestDatabase } from './odb-dialects.js';

/** The real ODB stack over one test database, wired as a worker wires it. */
export interface OdbFixture {
  readonly location: OdbLocation;
  readonly db: Odb;
  readonly registry: ConfigRegistry;
  readonly repository: ConfigRepository;
  readonly writer: ConfigWriter;
  close(): Promise<void>;
}

/** The fixture of the dialect being run; the cases get it lazily, as it is opened in before(). */
export type FixtureOf = () => OdbFixture;

export function openFixture(database: TestDatabase): OdbFixture {
  const location = parseOdbUrl(database.url, database.baseDir);
  // The database is dropped with the pool's last connections still closing: what they report is expected.
  const handle = openOdb(location, { poolSize: 4, onIdleError: () => undefined });
  const registry = createConfigRegistry();
  const repository = new ConfigRepository(new SecretBox(SecretBox.generateKey()), registry);
  const writer = new ConfigWriter(handle.db, repository, registry, (db) => serviceRepository.names(db));
  return { location, db: handle.db, registry, repository, writer, close: () => handle.close() };
}

export async function clearConfig(db: Odb): Promise<void> {
  await db.deleteFrom('config_item').execute();
}

export async function clearServices(db: Odb): Promise<void> {
  await db.deleteFrom('service').execute();
  await db.deleteFrom('service_file').execute();
}

/** The stored object of this type and name, secrets decrypted. */
export async function load(fixture: OdbFixture, type: string, name: string): Promise<ConfigObject | undefined> {
  return (await fixture.repository.loadAll(fixture.db)).find((o) => o.type === type && o.name === name);
}

/** Everything a config write touches: the rows, and the write lock's counter (bumped first in every write). */
async function writtenState(db: Odb): Promise<unknown> {
  const items = await db.selectFrom('config_item').selectAll().orderBy('id').execute();
  const lock = await db.selectFrom('write_lock').select('counter').where('id', '=', 1).executeTakeFirstOrThrow();
  return { items, lockCounter: Number(lock.counter) };
}

/** The commit fails with `code` (and a message matching `message`), and nothing of it is left written. */
export async function assertRejectedUnchanged(
  fixture: OdbFixture,
  mutate: (draft: ConfigDraft) => unknown,
  code: ErrorCode,
  message?: RegExp,
): Promise<void> {
  const before = await writtenState(fixture.db);
  await assert.rejects(fixture.writer.commit(mutate), {
    name: 'ViaductError',
    code,
    ...(message === undefined ? {} : { message }),
  });
  assert.deepEqual(await writtenState(fixture.db), before, 'a failed commit must leave the ODB as it was');
}
