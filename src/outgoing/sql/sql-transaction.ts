import type { TransactionSettings } from 'kysely';
import { ViaductError } from '../../errors.js';
import { outgoingCall } from '../outgoing-call.js';
import type { CallContext } from '../outgoing-connection.js';
import type { SqlQueryable } from './sql-client.js';
import { SQL_TYPE } from './sql-config.js';
import type { SqlLease, SqlPool } from './sql-pool.js';
import { NO_PARAMS } from './sql-driver.js';
import type { SqlDialect } from './sql-url.js';

/**
 * How a transaction starts. SQLite takes the write lock at once (BEGIN IMMEDIATE): a deferred
 * transaction that reads and then writes could fail half-way when another worker writes meanwhile.
 */
export function beginStatements(dialect: SqlDialect, settings: TransactionSettings = {}): string[] {
  const { isolationLevel, accessMode } = settings;
  if (dialect === 'sqlite') return ['BEGIN IMMEDIATE'];
  if (isolationLevel === undefined && accessMode === undefined) return ['BEGIN'];
  const parts = [
    isolationLevel === undefined ? undefined : `ISOLATION LEVEL ${isolationLevel.toUpperCase()}`,
    accessMode?.toUpperCase(),
  ].filter((p) => p !== undefined);
  // PostgreSQL takes the characteristics with the start; MySQL sets them for the next transaction.
  return dialect === 'postgresql' ? [`BEGIN ${parts.join(' ')}`] : [`SET TRANSACTION ${parts.join(', ')}`, 'BEGIN'];
}

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws (the caller then gets `work`'s own error). Every statement is an outgoing call of its own.
 */
export async function runTransaction<T>(
  connection: SqlPool,
  call: CallContext,
  work: (tx: SqlQueryable) => Promise<T>,
): Promise<T> {
  const step = <R>(operation: string, fn: () => Promise<R>): Promise<R> =>
    outgoingCall(call, SQL_TYPE, connection.name, operation, fn);
  const lease = await step('begin', async () => {
    const lease = await connection.lease();
    try {
      for (const statement of beginStatements(connection.dialect)) await lease.run(statement, NO_PARAMS);
      return lease;
    } catch (error) {
      lease.release();
      throw error;
    }
  });
  const tx = new SqlTransactionClient(connection, lease, call);
  let result: T;
  try {
    result = await work(tx);
  } catch (error) {
    tx.end();
    // A failed ROLLBACK is logged by outgoingCall; the connection's state is then unknown, so it is closed.
    await step('rollback', () => lease.run('ROLLBACK', NO_PARAMS)).catch(() => lease.discard());
    lease.release();
    throw error;
  }
  tx.end();
  try {
    await step('commit', async () => {
      const answer = await lease.run('COMMIT', NO_PARAMS);
      if (answer.command === 'ROLLBACK') {
        throw new ViaductError(
          'VIA_ERR_OUTGOING_FAILED',
          `${connection.label}: the transaction was rolled back, not committed: a statement in it had failed`,
        );
      }
    });
  } catch (error) {
    lease.discard();
    throw error;
  } finally {
    lease.release();
  }
  return result;
}

/** What `work` gets: statements on the transaction's connection, refused once it has ended. */
class SqlTransactionClient implements SqlQueryable {
  readonly #connection: SqlPool;
  readonly #lease: SqlLease;
  readonly #call: CallContext;
  #open = true;

  constructor(connection: SqlPool, lease: SqlLease, call: CallContext) {
    this.#connection = connection;
    this.#lease = lease;
    this.#call = call;
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = NO_PARAMS): Promise<R[]> {
    if (!this.#open) {
      return Promise.reject(
        new ViaductError(
          'VIA_ERR_OUTGOING_FAILED',
          `${this.#connection.label}: the transaction has ended; run its statements inside its function, awaited`,
        ),
      );
    }
    return outgoingCall(
      this.#call,
      SQL_TYPE,
      this.#connection.name,
      'query',
      async () => (await this.#lease.run(sql, params)).rows as R[],
    );
  }

  end(): void {
    this.#open = false;
  }
}
