import {
  CompiledQuery,
  createQueryId,
  IdentifierNode,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  RawNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { ViaductError } from '../../errors.js';
import { outgoingCall } from '../outgoing-call.js';
import type { CallContext } from '../outgoing-connection.js';
import { SQL_TYPE } from './sql-config.js';
import type { SqlLease, SqlPool } from './sql-pool.js';
import { beginStatements } from './sql-transaction.js';
import type { SqlDialect } from './sql-url.js';

interface DialectParts {
  adapter(): DialectAdapter;
  compiler(): QueryCompiler;
  introspector(db: Kysely<unknown>): DatabaseIntrospector;
}

// Kysely's own SQL generation for each dialect; only the driver (below) is Viaduct's.
const PARTS: Readonly<Record<SqlDialect, DialectParts>> = {
  postgresql: {
    adapter: () => new PostgresAdapter(),
    compiler: () => new PostgresQueryCompiler(),
    introspector: (db) => new PostgresIntrospector(db),
  },
  mysql: {
    adapter: () => new MysqlAdapter(),
    compiler: () => new MysqlQueryCompiler(),
    introspector: (db) => new MysqlIntrospector(db),
  },
  sqlite: {
    adapter: () => new SqliteAdapter(),
    compiler: () => new SqliteQueryCompiler(),
    introspector: (db) => new SqliteIntrospector(db),
  },
};

/**
 * A typed Kysely instance for one invocation over the connection's pool: every statement it runs
 * is an outgoing call (logged with the cid, errors coded), and its destroy() leaves the pool alone.
 */
export function callKysely<DB>(connection: SqlPool, call: CallContext): Kysely<DB> {
  const parts = PARTS[connection.dialect];
  const dialect: Dialect = {
    createAdapter: parts.adapter,
    createQueryCompiler: parts.compiler,
    createIntrospector: (db) => parts.introspector(db as Kysely<unknown>),
    createDriver: () => new CallDriver(connection, call),
  };
  return new Kysely<DB>({ dialect });
}

class CallDriver implements Driver {
  readonly #connection: SqlPool;
  readonly #call: CallContext;

  constructor(connection: SqlPool, call: CallContext) {
    this.#connection = connection;
    this.#call = call;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new LazyConnection(this.#connection, this.#call);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    for (const statement of beginStatements(this.#connection.dialect, settings))
      await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const answer = await connection.executeQuery(CompiledQuery.raw('COMMIT'));
    if ((answer as { command?: string }).command === 'ROLLBACK') {
      throw new ViaductError(
        'VIA_ERR_OUTGOING_FAILED',
        `${this.#connection.label}: the transaction was rolled back, not committed: a statement in it had failed`,
      );
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('SAVEPOINT', name), createQueryId()));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('ROLLBACK TO SAVEPOINT', name), createQueryId()));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('RELEASE SAVEPOINT', name), createQueryId()));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as LazyConnection).release();
  }

  /** The pool belongs to the outgoing connection, not to this invocation's Kysely instance. */
  async destroy(): Promise<void> {}
}

/** Takes a pooled connection at its first statement (inside the outgoing call, so the wait is timed and coded). */
class LazyConnection implements DatabaseConnection {
  readonly #connection: SqlPool;
  readonly #call: CallContext;
  // The promise, not the lease: statements started together must share one connection.
  #lease: Promise<SqlLease> | undefined;

  constructor(connection: SqlPool, call: CallContext) {
    this.#connection = connection;
    this.#call = call;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return outgoingCall(this.#call, SQL_TYPE, this.#connection.name, 'kysely', async () => {
      const lease = await (this.#lease ??= this.#connection.lease());
      return (await lease.run(query.sql, query.parameters)) as QueryResult<R>;
    });
  }

  // eslint-disable-next-line require-yield -- Kysely's driver interface asks for a generator; this one only refuses.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new ViaductError(
      'VIA_ERR_OUTGOING_FAILED',
      `${this.#connection.label}: streaming results is not supported; page through them (LIMIT/OFFSET or keyset) instead`,
    );
  }

  release(): void {
    const lease = this.#lease;
    this.#lease = undefined;
    lease?.then(
      (l) => l.release(),
      () => undefined, // nothing was lent
    );
  }
}

function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}
