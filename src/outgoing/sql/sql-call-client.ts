import type { Kysely } from 'kysely';
import { callFailed, callSucceeded, startCallSpan } from '../outgoing-call.js';
import type { CallContext } from '../outgoing-connection.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';
import { SQL_TYPE } from './sql-config.js';
import type { SqlPool } from './sql-pool.js';
import { NO_PARAMS } from './sql-driver.js';
import { callKysely } from './sql-kysely.js';
import { runTransaction } from './sql-transaction.js';
import type { SqlDialect } from './sql-url.js';

/** What `this.out.sql(name)` gives a service: the connection, bound to the invocation's cid. */
export class SqlCallClient implements SqlClient {
  readonly #connection: SqlPool;
  readonly #call: CallContext;
  #kysely: Kysely<unknown> | undefined;

  constructor(connection: SqlPool, call: CallContext) {
    this.#connection = connection;
    this.#call = call;
  }

  get dialect(): SqlDialect {
    return this.#connection.dialect;
  }

  /** One promise, resolved from the driver's callback: no promise step of the connection's or of outgoingCall()'s. */
  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = NO_PARAMS): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      const connection = this.#connection;
      const call = this.#call;
      const started = performance.now();
      const span = call.tracing === undefined ? undefined : startCallSpan(call, SQL_TYPE, connection.name, 'query');
      connection.run(sql, params, (error, result) => {
        if (error === null) {
          callSucceeded(call, SQL_TYPE, connection.name, 'query', started, span);
          resolve(result!.rows as R[]);
        } else {
          const site = { type: SQL_TYPE, connection: connection.name, operation: 'query' };
          reject(callFailed(call, site, started, connection.failure(error).error, span));
        }
      });
    });
  }

  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return runTransaction(this.#connection, this.#call, work);
  }

  kysely<DB>(): Kysely<DB> {
    return (this.#kysely ??= callKysely<unknown>(this.#connection, this.#call)) as Kysely<DB>;
  }
}
