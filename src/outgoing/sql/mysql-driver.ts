import type * as Mysql2 from 'mysql2';
import { requireDriver } from '../../util/lazy-require.js';
import { clientTimeoutMs, type SqlDone, type SqlDriver, type SqlDriverSettings, type SqlResult, type SqlSession } from './sql-driver.js';
import type { NetworkTarget } from './sql-url.js';

type Pool = Mysql2.Pool;
type PoolConnection = Mysql2.PoolConnection;

/** MySQL and MariaDB through mysql2's pool (its callback API: no promise wrapper per call). */
export function createMysqlDriver(target: NetworkTarget, settings: SqlDriverSettings): SqlDriver {
  const mysql = requireDriver<typeof Mysql2>('mysql2', 'MySQL/MariaDB outgoing connections');
  const pool = mysql.createPool({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    password: settings.password,
    connectionLimit: settings.poolSize,
    maxIdle: settings.poolSize,
    waitForConnections: true,
    connectTimeout: settings.connectTimeoutMs,
    // Finds sockets to a host that vanished without closing them.
    enableKeepAlive: true,
  });
  pool.on('connection', (connection) => {
    // A connection's socket can die between two checkouts; mysql2 then drops it from the pool,
    // and an unheard 'error' event would end the process.
    connection.on('error', () => undefined);
    // The server cancels a statement that runs too long, and the connection stays usable. This
    // is queued before whatever the caller runs on the new connection.
    const limit = (connection as unknown as { _isMariaDB?: boolean })._isMariaDB
      ? `SET SESSION max_statement_time = ${settings.queryTimeoutMs / 1000}`
      : `SET SESSION max_execution_time = ${settings.queryTimeoutMs}`;
    connection.query(limit, (error) => {
      if (error !== null) settings.onBackgroundError(error);
    });
  });
  return new MysqlDriver(pool, settings);
}

type Done<T> = (error: Error | null, value?: T) => void;

class MysqlDriver implements SqlDriver {
  readonly dialect = 'mysql' as const;
  readonly #pool: Pool;
  readonly #connectTimeoutMs: number;
  readonly #statementTimeoutMs: number;

  constructor(pool: Pool, settings: SqlDriverSettings) {
    this.#pool = pool;
    this.#connectTimeoutMs = settings.connectTimeoutMs;
    this.#statementTimeoutMs = clientTimeoutMs(settings.queryTimeoutMs);
  }

  acquire(): Promise<SqlSession> {
    return new Promise((resolve, reject) => {
      this.#checkout((error, connection) => (error ? reject(error) : resolve(new MysqlSession(connection!, this.#statementTimeoutMs))));
    });
  }

  query(sql: string, params: readonly unknown[], broken: (error: unknown) => boolean, done: SqlDone): void {
    this.#checkout((error, connection) => {
      if (error) return done(error);
      runStatement(connection!, sql, params, this.#statementTimeoutMs, (failure, result) => {
        if (failure !== null && broken(failure)) connection!.destroy();
        else connection!.release();
        if (failure !== null) done(failure);
        else done(null, result!);
      });
    });
  }

  end(): Promise<void> {
    return new Promise((resolve, reject) => this.#pool.end((error) => (error ? reject(error) : resolve())));
  }

  /** mysql2 waits for a free connection without a limit; a caller should not. */
  #checkout(done: Done<PoolConnection>): void {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      done(Object.assign(new Error(`no connection could be had within ${this.#connectTimeoutMs} ms`), { code: 'TIMEOUT' }));
    }, this.#connectTimeoutMs);
    this.#pool.getConnection((error, connection) => {
      if (late) {
        connection?.release();
        return;
      }
      clearTimeout(timer);
      if (error) done(error);
      else done(null, connection);
    });
  }
}

class MysqlSession implements SqlSession {
  readonly #connection: PoolConnection;
  readonly #timeoutMs: number;

  constructor(connection: PoolConnection, timeoutMs: number) {
    this.#connection = connection;
    this.#timeoutMs = timeoutMs;
  }

  run(sql: string, params: readonly unknown[]): Promise<SqlResult> {
    return new Promise((resolve, reject) => runStatement(this.#connection, sql, params, this.#timeoutMs, (error, result) => (error ? reject(error) : resolve(result!))));
  }

  release(broken: boolean): void {
    if (broken) this.#connection.destroy();
    else this.#connection.release();
  }
}

/**
 * Our own timer, not mysql2's `timeout` option: that one outlives a connection that died
 * mid-statement and holds the process open until it fires.
 */
function runStatement(connection: PoolConnection, sql: string, params: readonly unknown[], timeoutMs: number, done: Done<SqlResult>): void {
  let settled = false;
  const timer = setTimeout(() => {
    settled = true;
    done(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }));
  }, timeoutMs);
  connection.query({ sql, values: params as unknown[] as Mysql2.QueryValues }, (error, result) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (error) done(error);
    else done(null, toResult(result));
  });
}

function toResult(result: unknown): SqlResult {
  if (Array.isArray(result)) return { rows: result as Record<string, unknown>[] };
  // INSERT, UPDATE, DELETE ... answer with a header instead of rows.
  const header = result as Partial<Mysql2.ResultSetHeader> | undefined;
  return {
    rows: [],
    numAffectedRows: header?.affectedRows === undefined ? undefined : BigInt(header.affectedRows),
    numChangedRows: header?.changedRows === undefined ? undefined : BigInt(header.changedRows),
    insertId: header?.insertId === undefined || header.insertId === 0 ? undefined : BigInt(header.insertId),
  };
}
