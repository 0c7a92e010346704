import { sql, type Transaction } from 'kysely';
import type { Odb } from './database.js';
import type { OdbSchema } from './schema.js';

/**
 * Runs `work` in a transaction that first takes the cluster-wide write lock, so that a check
 * made inside it (a duplicate name or path) still holds when the transaction commits.
 */
export function withWriteLock<T>(db: Odb, work: (trx: Transaction<OdbSchema>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('write_lock')
      .set({ counter: sql`counter + 1` })
      .where('id', '=', 1)
      .execute();
    return work(trx);
  });
}
