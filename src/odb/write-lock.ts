import { sql, type Kysely, type Transaction } from 'kysely';
import type { Odb } from './database.js';
import type { OdbSchema } from './schema.js';

/**
 * Runs `work` in a transaction that first takes the cluster-wide write lock, so that a check
 * made inside it (a duplicate name or path) still holds when the transaction commits.
 *
 * The lock's counter is also the ODB's version of the configuration and the deployed code:
 * every write of either goes through here and adds one, in the same transaction, so a worker
 * that knows the version it has applied can tell it is behind (docs/architecture.md).
 * `work` gets the version its own commit will make.
 */
export function withWriteLock<T>(
  db: Odb,
  work: (trx: Transaction<OdbSchema>, version: number) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('write_lock')
      .set({ counter: sql`counter + 1` })
      .where('id', '=', 1)
      .execute();
    return work(trx, await odbVersion(trx));
  });
}

/** The version of the configuration and deployed code the ODB holds now. */
export async function odbVersion(db: Kysely<OdbSchema>): Promise<number> {
  const row = await db.selectFrom('write_lock').select('counter').where('id', '=', 1).executeTakeFirst();
  return Number(row?.counter ?? 0);
}
