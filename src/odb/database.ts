import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Client as PgClient, ClientConfig, Pool as PgPool, PoolConfig } from 'pg';
import type { Logger } from 'pino';
import type * as Mysql2 from 'mysql2';
import { requireDriver } from '../util/lazy-require.js';
import type { OdbLocation } from './odb-url.js';
import { guardStatements, sessionBusy } from './pg-stall-guard.js';
import type { OdbSchema } from './schema.js';

export type Odb = Kysely<OdbSchema>;

export interface OdbHandle {
  readonly db: Odb;
  readonly location: OdbLocation;
  close(): Promise<void>;
}

/** How long opening a connection to a PostgreSQL or MySQL ODB (or, on PostgreSQL, a wait for a pooled one) may take. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface OdbOptions {
  readonly poolSize?: number;
  /**
   * Told when an idle pooled connection fails (the database restarted, or an administrator ended
   * the session), or when a PostgreSQL connection is closed because its answers stopped coming.
   * The pool has already dropped that connection, and the next query opens another.
   */
  readonly onIdleError?: (error: Error) => void;
  /** SQLite only: open the file read-only (a snapshot of the ODB); it must exist. */
  readonly readOnly?: boolean;
  /**
   * PostgreSQL: how long a statement goes unanswered before the server is asked, on a connection
   * of its own, whether it still runs it; if not, the connection is closed (pg-stall-guard.ts).
   */
  readonly stallCheckMs?: number;
}

/** An onIdleError that logs the failure as a warning. */
export function logIdleErrors(logger: Logger): (error: Error) => void {
  return (error) =>
    logger.warn({ err: error }, 'An ODB connection failed and was dropped; the next query opens another');
}

/** Opens the ODB; the driver for its dialect is loaded only now. */
export function openOdb(location: OdbLocation, options: OdbOptions = {}): OdbHandle {
  const db = new Kysely<OdbSchema>({
    dialect: makeDialect(location, {
      poolSize: options.poolSize ?? 5,
      onIdleError: options.onIdleError ?? (() => undefined),
      stallCheckMs: options.stallCheckMs ?? 5_000,
      readOnly: options.readOnly ?? false,
    }),
  });
  return { db, location, close: () => db.destroy() };
}

function makeDialect(location: OdbLocation, options: Required<OdbOptions>): Dialect {
  const { poolSize, onIdleError, stallCheckMs } = options;
  switch (location.dialect) {
    case 'sqlite': {
      const Database = requireDriver<typeof BetterSqlite3>('better-sqlite3');
      if (options.readOnly === true)
        return new SqliteDialect({ database: new Database(location.target, { readonly: true, fileMustExist: true }) });
      const database = new Database(location.target);
      // Several worker processes share the file: WAL lets readers run beside one writer.
      database.pragma('journal_mode = WAL');
      database.pragma('busy_timeout = 10000');
      database.pragma('synchronous = NORMAL');
      return new SqliteDialect({ database });
    }
    case 'postgresql': {
      const pg = requireDriver<{
        Pool: new (config: PoolConfig) => PgPool;
        Client: new (config: ClientConfig) => PgClient;
      }>('pg');
      const pool = new pg.Pool({
        connectionString: location.target,
        max: poolSize,
        // A database that accepts the connection and then says nothing would keep the caller
        // (and every caller queued for the pool behind it) waiting for ever.
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        keepAlive: true,
      });
      // Without a listener, pg's pool throws an idle connection's error (a database restart, a
      // terminated session) as an uncaught exception and takes the process down; so does a
      // client in use between two queries (inside a transaction), which the pool does not watch.
      pool.on('error', onIdleError);
      pool.on('connect', (client) => {
        // The pool listens for errors only while a connection is idle. One that breaks while a
        // statement runs fails that statement, and the pool drops it when it comes back; without a
        // listener of its own, the same error is also thrown as an uncaught exception.
        client.on('error', () => undefined);
        guardStatements(client, {
          checkAfterMs: stallCheckMs,
          busy: (pid) => sessionBusy(pg.Client, location.target, pid, stallCheckMs),
          onStall: (pid) =>
            onIdleError(new Error(`The ODB did not answer a statement within ${stallCheckMs} ms (backend ${pid})`)),
        });
      });
      return new PostgresDialect({ pool });
    }
    case 'mysql': {
      const mysql = requireDriver<typeof Mysql2>('mysql2');
      return new MysqlDialect({
        pool: mysql.createPool({
          uri: location.target,
          connectionLimit: poolSize,
          connectTimeout: CONNECT_TIMEOUT_MS,
          enableKeepAlive: true,
        }),
      });
    }
  }
}
