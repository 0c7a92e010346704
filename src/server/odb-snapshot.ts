import { chmod, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { EnvironmentPaths } from '../config/environment.js';
import { openOdb, type Odb, type OdbHandle } from '../odb/database.js';
import { migrateToLatest } from '../odb/migrator.js';
import { markReadOnly, odbVersion } from '../odb/write-lock.js';

/**
 * What a worker reads from the ODB to start: the configuration, the deployed code and the version
 * they make. A server whose ODB is a database server keeps a copy of these tables in a local
 * SQLite file, so that a worker that replaces one that died can start while the ODB is away.
 */
const TABLES = ['write_lock', 'cluster_setting', 'config_item', 'service_file', 'service'] as const;

export function snapshotFile(paths: EnvironmentPaths, server: string): string {
  return path.join(paths.run, `odb-snapshot-${server}.sqlite`);
}

/**
 * Copies the tables above, as one transaction sees them, into `file` (written aside, then renamed
 * over it, readable by the owner only: it holds the configuration, secrets encrypted as in the ODB).
 * Answers the version copied.
 */
export async function writeOdbSnapshot(db: Odb, file: string): Promise<number> {
  const aside = `${file}.${process.pid}.tmp`;
  await rm(aside, { force: true });
  const copy = openOdb({ dialect: 'sqlite', target: aside });
  try {
    await migrateToLatest(copy.db, 'sqlite');
    const version = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        for (const table of TABLES) {
          const rows = await trx.selectFrom(table).selectAll().execute();
          await copy.db.deleteFrom(table).execute();
          for (const row of rows)
            await copy.db
              .insertInto(table)
              .values(row as never)
              .execute();
        }
        return odbVersion(trx);
      });
    // One file with no -wal beside it, so that it can be opened read-only.
    await sql`PRAGMA journal_mode = DELETE`.execute(copy.db);
    await copy.close();
    await chmod(aside, 0o600);
    await rename(aside, file);
    return version;
  } catch (error) {
    await copy.close().catch(() => undefined);
    await rm(aside, { force: true });
    throw error;
  }
}

/** The snapshot opened read-only, every write through withWriteLock refused; undefined when there is none. */
export function openOdbSnapshot(file: string): OdbHandle | undefined {
  if (!existsSync(file)) return undefined;
  const handle = openOdb({ dialect: 'sqlite', target: file }, { readOnly: true });
  markReadOnly(handle.db);
  return handle;
}

/**
 * Keeps the snapshot at the newest version the server's workers report, one copy at a time: a
 * burst of changes is copied once, at its end. A copy that fails (the ODB is away) is tried again
 * at the next version reported.
 */
export class OdbSnapshotKeeper {
  readonly #db: Odb;
  readonly #file: string;
  readonly #logger: Logger;
  #written = -1;
  #wanted = 0;
  #running: Promise<void> | undefined;

  constructor(db: Odb, file: string, logger: Logger) {
    this.#db = db;
    this.#file = file;
    this.#logger = logger;
  }

  /** A worker has `version` in force: the snapshot follows. */
  want(version: number): void {
    this.#wanted = Math.max(this.#wanted, version);
    if (this.#wanted <= this.#written || this.#running !== undefined) return;
    this.#running = this.#copy().finally(() => (this.#running = undefined));
  }

  /** Waits for a copy under way (before the ODB closes). */
  async stop(): Promise<void> {
    this.#wanted = -1;
    await this.#running;
  }

  async #copy(): Promise<void> {
    while (this.#wanted > this.#written) {
      try {
        this.#written = await writeOdbSnapshot(this.#db, this.#file);
        this.#logger.debug({ version: this.#written }, 'ODB snapshot written');
      } catch (error) {
        this.#logger.warn(
          { err: error },
          'The ODB snapshot could not be written; it is tried again at the next change',
        );
        return;
      }
    }
  }
}
