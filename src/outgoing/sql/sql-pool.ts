import type { SqlDone, SqlResult } from './sql-driver.js';
import type { SqlFailure } from './sql-errors.js';
import type { SqlDialect } from './sql-url.js';

/**
 * What a service's SQL client, its transactions and its Kysely instance need of a connection:
 * statements on the pool, a connection of their own, and the coding of driver errors. The
 * connection implements it; the clients depend on this, not on the connection's module.
 */
export interface SqlPool {
  readonly name: string;
  readonly dialect: SqlDialect;
  readonly label: string;
  run(sql: string, params: readonly unknown[], done: SqlDone): void;
  lease(): Promise<SqlLease>;
  failure(thrown: unknown): SqlFailure;
}

/** One connection lent for several statements. */
export interface SqlLease {
  run(sql: string, params: readonly unknown[]): Promise<SqlResult>;
  /** Closes the connection instead of reusing it: its state is unknown (e.g. a ROLLBACK failed). */
  discard(): void;
  release(): void;
}
