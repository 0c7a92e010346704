import type { SqlDialect } from './sql-url.js';

/** One shared empty list: a statement without parameters allocates none. */
export const NO_PARAMS: readonly unknown[] = Object.freeze([]);

/** What one statement gave back, in the shape Kysely's QueryResult has. */
export interface SqlResult {
  readonly rows: Record<string, unknown>[];
  readonly numAffectedRows?: bigint;
  readonly numChangedRows?: bigint;
  readonly insertId?: bigint;
  /** PostgreSQL's command tag: a COMMIT of a failed transaction answers ROLLBACK, not an error. */
  readonly command?: string;
}

/** One connection checked out of a driver's pool. */
export interface SqlSession {
  /** Runs one statement with bound parameters in the dialect's own placeholder style. */
  run(sql: string, params: readonly unknown[]): Promise<SqlResult>;
  /**
   * Gives the connection back. `broken` closes it instead: after a lost socket or a client-side
   * timeout it may be dead or mid-conversation, and must not serve the next caller.
   */
  release(broken: boolean): void;
}

/**
 * One database's pool, as the generic SQL connection needs it. Creating a driver must not
 * connect: connections are made on checkout, so a database that is down at start-up only fails
 * the calls made while it is down.
 */
/** How a driver answers one statement: `null` and the result, or the driver's own error. */
export type SqlDone = (error: unknown, result?: SqlResult) => void;

export interface SqlDriver {
  readonly dialect: SqlDialect;
  acquire(): Promise<SqlSession>;
  /**
   * One statement on a pooled connection, given back (or closed, when `broken(error)` says so)
   * at once: the hot path, done with the driver's callbacks and no promise of its own. `done` is
   * called exactly once, perhaps before query() returns, with null and the result or with the
   * driver's error.
   */
  query(sql: string, params: readonly unknown[], broken: (error: unknown) => boolean, done: SqlDone): void;
  /** Closes every connection; called once no session is checked out any more. */
  end(): Promise<void>;
}

/** What every driver is built from, besides its target. */
export interface SqlDriverSettings {
  readonly name: string;
  readonly password: string | undefined;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  /** Reports problems that surface outside any call (an idle connection's socket dying). */
  readonly onBackgroundError: (error: Error) => void;
}

/**
 * The client-side guard beyond the statement timeout the database enforces itself: only a
 * silent network lets it fire, so it gives the database's own cancellation time to arrive first.
 */
export function clientTimeoutMs(queryTimeoutMs: number): number {
  return queryTimeoutMs + Math.min(5_000, Math.max(1_000, Math.round(queryTimeoutMs / 10)));
}
