import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { ViaductError } from '../errors.js';
import type { Odb } from './database.js';
import { isOdbUnreachable } from './odb-errors.js';
import type { OdbSchema } from './schema.js';

export interface WriteOptions {
  /**
   * How long the write may take before its caller is answered. Until COMMIT is sent, the answer
   * is VIA_ERR_ODB_UNREACHABLE and the transaction is rolled back whenever the ODB answers again,
   * so it can never commit later; once COMMIT is sent and not confirmed, it is VIA_ERR_OUTCOME_UNKNOWN.
   */
  readonly deadlineMs?: number;
  /** Told how a write its caller stopped waiting for ended. */
  readonly logger?: Logger;
}

/** ODBs a server reads from a local copy while the real one is away: every write is refused. */
const readOnly = new WeakSet<Kysely<OdbSchema>>();

/** Marks `db` as a read-only copy of the ODB (the snapshot a worker starts from during an outage). */
export function markReadOnly(db: Kysely<OdbSchema>): void {
  readOnly.add(db);
}

/** Whether `db` is such a copy. */
export function isReadOnly(db: Kysely<OdbSchema>): boolean {
  return readOnly.has(db);
}

class Abandoned extends Error {}

/**
 * Runs `work` in a transaction that first takes the cluster-wide write lock, so that a check
 * made inside it (a duplicate name or path) still holds when the transaction commits.
 *
 * The lock's counter is also the ODB's version of the configuration and the deployed code:
 * every write of either goes through here and adds one, in the same transaction, so a worker
 * that knows the version it has applied can tell it is behind (docs/architecture.md).
 * `work` gets the version its own commit will make.
 *
 * The answer is the truth about the commit (docs/architecture.md, "What an admin change answers"):
 * success only once committed; VIA_ERR_ODB_UNREACHABLE only when nothing was or ever will be
 * committed; VIA_ERR_OUTCOME_UNKNOWN when COMMIT was sent and its answer did not come in time.
 */
export function withWriteLock<T>(
  db: Odb,
  work: (trx: Transaction<OdbSchema>, version: number) => Promise<T>,
  options: WriteOptions = {},
): Promise<T> {
  if (isReadOnly(db)) {
    return Promise.reject(
      new ViaductError(
        'VIA_ERR_ODB_UNREACHABLE',
        'The ODB cannot be reached: this worker serves from its last copy, and nothing can be changed until the ODB is back',
      ),
    );
  }
  let state: 'waiting' | 'working' | 'committing' | 'abandoned' = 'waiting';
  let version = 0;
  // Read through a function: the deadline's timer changes the state between the awaits below.
  const abandoned = (): boolean => state === 'abandoned';
  const transaction = db.transaction().execute(async (trx) => {
    if (abandoned()) throw new Abandoned();
    state = 'working';
    await trx
      .updateTable('write_lock')
      .set({ counter: sql`counter + 1` })
      .where('id', '=', 1)
      .execute();
    version = await odbVersion(trx);
    const result = await work(trx, version);
    // Past this check nothing awaits before the driver sends COMMIT, so a deadline that has not
    // fired yet cannot fire in between: the caller is told either "not committed" or "unknown".
    if (abandoned()) throw new Abandoned();
    state = 'committing';
    return result;
  });
  const settled = transaction.then(
    (result) => result,
    (error: unknown) => {
      throw classify(error, state === 'committing', version);
    },
  );
  const { deadlineMs } = options;
  if (deadlineMs === undefined) return settled;
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      if (state === 'committing') {
        reject(
          new ViaductError(
            'VIA_ERR_OUTCOME_UNKNOWN',
            `The ODB did not confirm the commit within ${deadlineMs} ms: the change may be in force or not; ` +
              `it is if the ODB's version reaches ${version} (viaduct info)`,
            { details: { version } },
          ),
        );
        return;
      }
      state = 'abandoned';
      reject(
        new ViaductError(
          'VIA_ERR_ODB_UNREACHABLE',
          `The ODB did not answer within ${deadlineMs} ms; nothing was changed`,
        ),
      );
    }, deadlineMs);
    settled.then(
      (result) => {
        clearTimeout(timer);
        if (!answered) resolve(result);
        else options.logger?.warn({ version }, 'A change whose commit timed out was committed after all');
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!answered) reject(error as Error);
        else if (state === 'committing')
          options.logger?.warn({ version, err: error }, 'A change whose commit timed out was not committed');
      },
    );
  });
}

/** A driver's failure as the caller should see it; a coded error passes unchanged. */
function classify(error: unknown, committing: boolean, version: number): unknown {
  if (error instanceof ViaductError || error instanceof Abandoned) return error;
  if (!isOdbUnreachable(error)) return error;
  return committing
    ? new ViaductError(
        'VIA_ERR_OUTCOME_UNKNOWN',
        `The connection to the ODB failed while committing: the change may be in force or not; ` +
          `it is if the ODB's version reaches ${version} (viaduct info)`,
        { cause: error, details: { version } },
      )
    : new ViaductError('VIA_ERR_ODB_UNREACHABLE', 'The ODB cannot be reached; nothing was changed', { cause: error });
}

/** The version of the configuration and deployed code the ODB holds now. */
export async function odbVersion(db: Kysely<OdbSchema>): Promise<number> {
  const row = await db.selectFrom('write_lock').select('counter').where('id', '=', 1).executeTakeFirst();
  return Number(row?.counter ?? 0);
}
