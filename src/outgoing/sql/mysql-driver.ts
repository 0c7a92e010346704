import type * as Mysql2 from 'mysql2';
import { requireDriver } from '../../util/lazy-require.js';
import { clientTimeoutMs, type SqlDone, type SqlDriver, type SqlDriverSettings, type SqlResult } from './sql-driver.js';
import { PooledDriver, StatementLimits } from './sql-statement.js';
import type { NetworkTarget } from './sql-url.js';

type Pool = Mysql2.Pool;
type PoolConnection = Mysql2.PoolConnection;

/** MySQL and MariaDB through mysql2's pool (its callback API: no promise wrapper per call). */
export function createMysqlDriver(target: NetworkTarget, settings: SqlDriverSettings): SqlDriver {
  const mysql = requireDriver<typeof Mysql2>('mysql2');
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

class MysqlDriver extends PooledDriver<PoolConnection> implements SqlDriver {
  readonly dialect = 'mysql' as const;
  readonly #pool: Pool;

  constructor(pool: Pool, settings: SqlDriverSettings) {
    // mysql2 waits for a free connection without a limit; a caller should not. Its own statement
    // `timeout` outlives a connection that died mid-statement and holds the process open.
    super(new StatementLimits(settings.connectTimeoutMs, clientTimeoutMs(settings.queryTimeoutMs)));
    this.#pool = pool;
  }

  checkout(done: (error: unknown, connection?: PoolConnection) => void): void {
    this.#pool.getConnection(done);
  }

  execute(connection: PoolConnection, sql: string, params: readonly unknown[], done: SqlDone): void {
    connection.query({ sql, values: params as unknown[] as Mysql2.QueryValues }, (error, result) => {
      if (error) done(error);
      else done(null, toResult(result));
    });
  }

  release(connection: PoolConnection, broken: boolean): void {
    if (broken) connection.destroy();
    else connection.release();
  }

  end(): Promise<void> {
    return new Promise((resolve, reject) => this.#pool.end((error) => (error ? reject(error) : resolve())));
  }
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
