import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { requireDriver } from '../../util/lazy-require.js';
import type { SqlDone, SqlDriver, SqlDriverSettings, SqlResult, SqlSession } from './sql-driver.js';
import type { SqliteTarget } from './sql-url.js';

const STATEMENT_CACHE_SIZE = 200;

interface Waiter {
  readonly resolve: (session: SqlSession) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * SQLite through better-sqlite3: one connection per worker, lent to one caller at a time, so a
 * transaction's statements are never interleaved with another caller's. Statements run
 * synchronously on the worker's thread; the file is opened on first use.
 */
export function createSqliteDriver(target: SqliteTarget, settings: SqlDriverSettings): SqlDriver {
  const Database = requireDriver<typeof BetterSqlite3>('better-sqlite3');
  return new SqliteDriver(Database, target.file, settings.queryTimeoutMs);
}

class SqliteDriver implements SqlDriver, SqlSession {
  readonly dialect = 'sqlite' as const;
  readonly #Database: typeof BetterSqlite3;
  readonly #file: string;
  readonly #timeoutMs: number;
  readonly #statements = new Map<string, BetterSqlite3.Statement<unknown[]>>();
  readonly #waiters: Waiter[] = [];
  #database: BetterSqlite3.Database | undefined;
  #lent = false;

  constructor(Database: typeof BetterSqlite3, file: string, timeoutMs: number) {
    this.#Database = Database;
    this.#file = file;
    this.#timeoutMs = timeoutMs;
  }

  acquire(): Promise<SqlSession> {
    if (!this.#lent) {
      try {
        this.#open();
      } catch (error) {
        return Promise.reject(error);
      }
      this.#lent = true;
      return Promise.resolve(this);
    }
    // Another caller holds the connection (a transaction awaiting something): wait, but not forever.
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            Object.assign(
              new Error(`the SQLite connection was not free within ${this.#timeoutMs} ms (a transaction holds it)`),
              { code: 'TIMEOUT' },
            ),
          );
        }, this.#timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  query(sql: string, params: readonly unknown[], _broken: (error: unknown) => boolean, done: SqlDone): void {
    // While a transaction holds the connection, wait for it like any caller.
    if (this.#lent) {
      this.acquire().then((session) => this.#answer(sql, params, done, () => session.release(false)), done);
      return;
    }
    this.#answer(sql, params, done);
  }

  /** Runs one statement and answers `done`; the lease, when there is one, is given back first. */
  #answer(sql: string, params: readonly unknown[], done: SqlDone, release?: () => void): void {
    let result: SqlResult;
    try {
      this.#open();
      result = this.#execute(sql, params);
    } catch (error) {
      release?.();
      return done(error);
    }
    release?.();
    done(null, result);
  }

  async run(sql: string, params: readonly unknown[]): Promise<SqlResult> {
    return this.#execute(sql, params);
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) {
      this.#lent = false;
      return;
    }
    clearTimeout(next.timer);
    next.resolve(this);
  }

  async end(): Promise<void> {
    this.#statements.clear();
    this.#database?.close();
    this.#database = undefined;
  }

  #open(): void {
    if (this.#database !== undefined) return;
    // The busy timeout is how long a write waits for another worker's write to finish.
    let database: BetterSqlite3.Database;
    try {
      // Like the file, its directory is made when missing: `sqlite:data/app.db` works in a new environment.
      if (this.#file !== ':memory:') mkdirSync(path.dirname(this.#file), { recursive: true });
      database = new this.#Database(this.#file, { timeout: this.#timeoutMs });
    } catch (error) {
      // Neither node:fs nor better-sqlite3 report this with SQLite's code.
      const code = String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_')
        ? (error as { code: string }).code
        : 'SQLITE_CANTOPEN';
      throw Object.assign(new Error(`cannot open ${this.#file}: ${(error as Error).message}`, { cause: error }), {
        code,
      });
    }
    try {
      // Every worker opens the file: WAL lets readers run beside one writer.
      if (this.#file !== ':memory:') database.pragma('journal_mode = WAL');
      database.pragma('foreign_keys = ON');
    } catch (error) {
      database.close();
      throw error;
    }
    this.#database = database;
  }

  #execute(sql: string, params: readonly unknown[]): SqlResult {
    const statement = this.#prepare(sql);
    const values = bindable(params);
    if (statement.reader) return { rows: statement.all(values) as Record<string, unknown>[] };
    const { changes, lastInsertRowid } = statement.run(values);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  #prepare(sql: string): BetterSqlite3.Statement<unknown[]> {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#database!.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value!);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/** SQLite binds numbers, strings, bigints, buffers and null; booleans and dates are stored the usual way. */
function bindable(params: readonly unknown[]): unknown[] {
  let values: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    const converted =
      typeof value === 'boolean' ? (value ? 1 : 0) : value instanceof Date ? value.toISOString() : value;
    if (converted !== value) (values ??= [...params])[i] = converted;
  }
  return values ?? (params as unknown[]);
}
