import type { Pool, PoolClient, PoolConfig, QueryResult } from 'pg';
import { requireDriver } from '../../util/lazy-require.js';
import { clientTimeoutMs, type SqlDone, type SqlDriver, type SqlDriverSettings, type SqlResult, type SqlSession } from './sql-driver.js';
import type { NetworkTarget } from './sql-url.js';

type PgModule = { Pool: new (config: PoolConfig) => Pool };

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** PostgreSQL through pg's Pool. */
export function createPostgresDriver(target: NetworkTarget, settings: SqlDriverSettings): SqlDriver {
  const pg = requireDriver<PgModule>('pg', 'PostgreSQL outgoing connections');
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    password: settings.password,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // The server cancels a statement that runs too long and the connection stays usable;
    // query_timeout is the client's own guard for when no answer comes at all.
    statement_timeout: settings.queryTimeoutMs,
    query_timeout: clientTimeoutMs(settings.queryTimeoutMs),
    // Finds sockets to a host that vanished without closing them.
    keepAlive: true,
    application_name: `viaduct ${settings.name}`.slice(0, 63),
  });
  // An idle connection whose socket dies is reported here; pg drops it from the pool by itself.
  pool.on('error', settings.onBackgroundError);
  return new PostgresDriver(pool);
}

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgresql' as const;
  readonly #pool: Pool;
  readonly #watched = new WeakSet<PoolClient>();

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async acquire(): Promise<SqlSession> {
    const client = await this.#pool.connect();
    this.#watch(client);
    return new PostgresSession(client);
  }

  query(sql: string, params: readonly unknown[], broken: (error: unknown) => boolean, done: SqlDone): void {
    this.#pool.connect((error, client) => {
      if (error !== undefined && error !== null) return done(error);
      this.#watch(client!);
      client!.query(sql, params as unknown[], (failure: Error | null, answer: QueryResult | QueryResult[]) => {
        client!.release(failure !== null && broken(failure));
        if (failure !== null) done(failure);
        else done(null, toResult(answer));
      });
    });
  }

  /**
   * While checked out, pg's pool does not listen for a client's errors, and an unheard 'error'
   * event would end the process; the next statement on it fails and closes it instead.
   */
  #watch(client: PoolClient): void {
    if (this.#watched.has(client)) return;
    client.on('error', () => undefined);
    this.#watched.add(client);
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

class PostgresSession implements SqlSession {
  readonly #client: PoolClient;

  constructor(client: PoolClient) {
    this.#client = client;
  }

  async run(sql: string, params: readonly unknown[]): Promise<SqlResult> {
    return toResult((await this.#client.query(sql, params as unknown[])) as QueryResult | QueryResult[]);
  }

  release(broken: boolean): void {
    this.#client.release(broken);
  }
}

function toResult(answer: QueryResult | QueryResult[]): SqlResult {
  // Several statements without parameters come back as one result each; the last one counts.
  const result = Array.isArray(answer) ? answer.at(-1) : answer;
  if (result === undefined) return { rows: [] };
  const rows = result.rows ?? [];
  return WRITES.has(result.command) ? { rows, command: result.command, numAffectedRows: BigInt(result.rowCount ?? 0) } : { rows, command: result.command };
}
