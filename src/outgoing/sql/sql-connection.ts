import type { Logger } from 'pino';
import { ViaductError } from '../../errors.js';
import type { CallContext, OutgoingConnection } from '../outgoing-connection.js';
import type { SqlClient } from './sql-client.js';
import { NO_PARAMS, type SqlDone, type SqlDriver, type SqlResult, type SqlSession } from './sql-driver.js';
import { breaksConnection, sqlFailure, type SqlFailure } from './sql-errors.js';
import type { SqlDialect } from './sql-url.js';
import { SqlCallClient } from './sql-call-client.js';
import { SQL_TYPE } from './sql-config.js';
import type { SqlLease, SqlPool } from './sql-pool.js';

export interface SqlConnectionSettings {
  readonly name: string;
  readonly password: string | undefined;
  readonly logger: Logger;
  /** How long close() waits for checked-out connections before it ends the pool regardless. */
  readonly closeWaitMs: number;
}

/**
 * One SQL outgoing connection in one worker: the driver's pool, the count of connections lent
 * out (so close() can wait for them), and the coding of every driver error.
 */
export class SqlConnection implements OutgoingConnection<SqlClient>, SqlPool {
  readonly name: string;
  readonly dialect: SqlDialect;
  readonly label: string;
  readonly #driver: SqlDriver;
  readonly #settings: SqlConnectionSettings;
  #lent = 0;
  #ended = false;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(driver: SqlDriver, settings: SqlConnectionSettings) {
    this.#driver = driver;
    this.#settings = settings;
    this.name = settings.name;
    this.dialect = driver.dialect;
    this.label = `${SQL_TYPE} ${settings.name}`;
  }

  client(call: CallContext): SqlClient {
    return new SqlCallClient(this, call);
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1', NO_PARAMS);
  }

  /** Waits for the connections lent out (bounded), then ends the pool. */
  close(): Promise<void> {
    return (this.#closing ??= this.#drainAndEnd());
  }

  /** One statement on a connection of its own, given back at once; resolves to its rows. */
  query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    return new Promise((resolve, reject) => {
      this.run(sql, params, (error, result) => {
        if (error === null) resolve(result!.rows);
        else reject(this.failure(error).error);
      });
    });
  }

  /**
   * query() with a callback, for the services' hot path: `done` gets null and the result, or
   * the driver's own error (coded by failure()), exactly once and perhaps before run() returns.
   */
  run(sql: string, params: readonly unknown[], done: SqlDone): void {
    if (this.#ended) return done(this.#closed());
    this.#lent++;
    this.#driver.query(sql, params, breaksConnection, (error, result) => {
      this.#checkedIn();
      done(error, result);
    });
  }

  /** A connection kept for several statements (a transaction); `release()` it exactly once. */
  async lease(): Promise<SqlLease> {
    return new PooledLease(this, await this.#checkout(), () => this.#checkedIn());
  }

  failure(thrown: unknown): SqlFailure {
    return sqlFailure(thrown, this.label, this.#settings.password);
  }

  async #checkout(): Promise<SqlSession> {
    if (this.#ended) throw this.#closed();
    this.#lent++;
    try {
      return await this.#driver.acquire();
    } catch (thrown) {
      this.#checkedIn();
      throw this.failure(thrown).error;
    }
  }

  #closed(): ViaductError {
    return new ViaductError(
      'VIA_ERR_OUTGOING_UNAVAILABLE',
      `${this.label}: the connection was closed (it was edited, deactivated or deleted)`,
    );
  }

  #checkedIn(): void {
    this.#lent--;
    if (this.#lent === 0) this.#drained?.();
  }

  async #drainAndEnd(): Promise<void> {
    if (this.#lent > 0) {
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>(
        (resolve) => (timer = setTimeout(() => resolve('late'), this.#settings.closeWaitMs)),
      );
      if ((await Promise.race([drained, late])) === 'late') {
        this.#settings.logger.warn(
          { outgoing: this.name, lent: this.#lent },
          'Closing an SQL connection while some of its connections are still in use',
        );
      }
      clearTimeout(timer);
    }
    this.#ended = true;
    try {
      await this.#driver.end();
    } catch (error) {
      this.#settings.logger.warn(
        { outgoing: this.name, reason: this.failure(error).error.message },
        'Ending an SQL connection pool failed',
      );
    }
  }
}

/** One connection lent for several statements; it is closed rather than reused once it failed as a connection. */
class PooledLease implements SqlLease {
  readonly #connection: SqlConnection;
  readonly #session: SqlSession;
  readonly #giveBack: () => void;
  #broken = false;
  #released = false;

  constructor(connection: SqlConnection, session: SqlSession, giveBack: () => void) {
    this.#connection = connection;
    this.#session = session;
    this.#giveBack = giveBack;
  }

  async run(sql: string, params: readonly unknown[]): Promise<SqlResult> {
    try {
      return await this.#session.run(sql, params);
    } catch (thrown) {
      const failure = this.#connection.failure(thrown);
      if (failure.broken) this.#broken = true;
      throw failure.error;
    }
  }

  discard(): void {
    this.#broken = true;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#session.release(this.#broken);
    this.#giveBack();
  }
}
