import type { Kysely } from 'kysely';

/** Runs statements with bound parameters, in the database's own placeholder style ($1 for PostgreSQL, ? for MySQL and SQLite). */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** What a service gets from `this.out.sql(name)`. */
export interface SqlClient extends SqlQueryable {
  readonly dialect: 'postgresql' | 'mysql' | 'sqlite';
  /** Commits when `work` resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** A typed Kysely instance over the same pool. */
  kysely<DB>(): Kysely<DB>;
}
