import { Migrator, NO_MIGRATIONS, type Migration, type MigrationProvider } from 'kysely';
import { ViaductError } from '../errors.js';
import type { Odb } from './database.js';
import { initial } from './migrations/0001-initial.js';
import { cluster } from './migrations/0002-cluster.js';
import { scheduler } from './migrations/0003-scheduler.js';
import { observability } from './migrations/0004-observability.js';
import type { OdbDialect } from './odb-url.js';

/** Versioned migrations, in order; a name is never reused or edited once released. */
function migrations(dialect: OdbDialect): Record<string, Migration> {
  return {
    '0001-initial': initial(dialect),
    '0002-cluster': cluster(),
    '0003-scheduler': scheduler(dialect),
    '0004-observability': observability(dialect),
  };
}

class InCodeProvider implements MigrationProvider {
  readonly #dialect: OdbDialect;
  constructor(dialect: OdbDialect) {
    this.#dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.#dialect);
  }
}

const TABLE = 'viaduct_migration';
const LOCK_TABLE = 'viaduct_migration_lock';

/** Brings the ODB to the newest schema; safe to run from several processes at once. */
export async function migrateToLatest(db: Odb, dialect: OdbDialect): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(dialect),
    migrationTableName: TABLE,
    migrationLockTableName: LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new ViaductError(
      'VIA_ERR_ODB_UNREACHABLE',
      `ODB migration failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The names of migrations not yet applied; empty when the ODB is current. */
export async function pendingMigrations(db: Odb, dialect: OdbDialect): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(dialect),
    migrationTableName: TABLE,
    migrationLockTableName: LOCK_TABLE,
  });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Drops everything the migrations made (used by tests to leave a shared database clean). */
export async function migrateDownAll(db: Odb, dialect: OdbDialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(dialect),
    migrationTableName: TABLE,
    migrationLockTableName: LOCK_TABLE,
  });
  const { error } = await migrator.migrateTo(NO_MIGRATIONS);
  if (error !== undefined) throw error;
}
