import type { Client, ClientConfig, Pool, PoolClient, PoolConfig, QueryResult } from 'pg';
import { requireDriver } from '../../util/lazy-require.js';
import { clientTimeoutMs, type SqlDone, type SqlDriver, type SqlDriverSettings, type SqlResult } from './sql-driver.js';
import { PooledDriver, StatementLimits } from './sql-statement.js';
import type { NetworkTarget } from './sql-url.js';

type PgModule = { Pool: new (config: PoolConfig) => Pool; Client: new (config: ClientConfig) => Client };

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** PostgreSQL through pg's Pool. */
export function createPostgresDriver(target: NetworkTarget, settings: SqlDriverSettings): SqlDriver {
  const pg = requireDriver<PgModule>('pg');
  const connectMs = settings.connectTimeoutMs;
  // pg's own limits (the pool's connectionTimeoutMillis, query_timeout) set a timer for every
  // checkout and every statement; the driver keeps both in deadline lists instead. Only making a
  // new connection keeps pg's timer, in the client, so a connection attempt that hangs is ended.
  class TimedClient extends pg.Client {
    constructor(config: ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectMs });
    }
  }
  const pool = new pg.Pool({
    Client: TimedClient as unknown as PoolConfig['Client'],
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    password: settings.password,
    max: settings.poolSize,
    // The server cancels a statement that runs too long and the connection stays usable; the
    // driver's own limit on the answer is for when no answer comes at all.
    statement_timeout: settings.queryTimeoutMs,
    // Finds sockets to a host that vanished without closing them.
    keepAlive: true,
    application_name: `viaduct ${settings.name}`.slice(0, 63),
  });
  // An idle connection whose socket dies is reported here; pg drops it from the pool by itself.
  pool.on('error', settings.onBackgroundError);
  // While checked out, pg's pool does not listen for a client's errors, and an unheard 'error'
  // event would end the process; the next statement on it fails and closes it instead.
  pool.on('connect', (client) => void client.on('error', () => undefined));
  return new PostgresDriver(pool, new StatementLimits(connectMs, clientTimeoutMs(settings.queryTimeoutMs)));
}

class PostgresDriver extends PooledDriver<PoolClient> implements SqlDriver {
  readonly dialect = 'postgresql' as const;
  readonly #pool: Pool;

  constructor(pool: Pool, limits: StatementLimits) {
    super(limits);
    this.#pool = pool;
  }

  checkout(done: (error: unknown, client?: PoolClient) => void): void {
    this.#pool.connect(done);
  }

  execute(client: PoolClient, sql: string, params: readonly unknown[], done: SqlDone): void {
    client.query(sql, params as unknown[], (failure: Error | null, answer: QueryResult | QueryResult[]) => {
      if (failure !== null) done(failure);
      else done(null, toResult(answer));
    });
  }

  release(client: PoolClient, broken: boolean): void {
    client.release(broken);
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

function toResult(answer: QueryResult | QueryResult[]): SqlResult {
  // Several statements without parameters come back as one result each; the last one counts.
  const result = Array.isArray(answer) ? answer.at(-1) : answer;
  if (result === undefined) return { rows: [] };
  const rows = result.rows ?? [];
  return WRITES.has(result.command)
    ? { rows, command: result.command, numAffectedRows: BigInt(result.rowCount ?? 0) }
    : { rows, command: result.command };
}
