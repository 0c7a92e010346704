import { Deadline, type DeadlineList, Deadlines } from '../../util/deadlines.js';
import type { SqlDone, SqlResult, SqlSession } from './sql-driver.js';

/** What a driver's error says when no connection came in time; sql-errors.ts codes it as a timeout. */
export const NO_CONNECTION = 'SQL_NO_CONNECTION';
/** What a driver's error says when a statement's answer did not come in time: a timeout, and the connection is closed. */
export const NO_ANSWER = 'SQL_NO_ANSWER';

/** A statement's answer that did not come in time; sql-errors.ts codes it a timeout that breaks the connection. */
function noAnswer(answerMs: number): Error {
  return Object.assign(new Error(`no answer within ${answerMs} ms`), { code: NO_ANSWER });
}

/** A network driver's pool, as far as running one statement goes. */
export interface StatementPool<C> {
  /** Lends a connection; the pool may make it, or queue the caller until one is free. */
  checkout(done: (error: unknown, connection?: C) => void): void;
  /** Runs one statement on a lent connection. */
  execute(connection: C, sql: string, params: readonly unknown[], done: SqlDone): void;
  /** Gives a connection back, or closes it when `broken`. */
  release(connection: C, broken: boolean): void;
}

/**
 * The client-side limits of one driver, kept in deadline lists of its own (src/util/deadlines.ts):
 * a statement's wait for a connection and for its answer cost no timer of their own. Most
 * statements finish in a fraction of either limit, and a timer set and cleared twice per statement
 * cost more than the rest of the driver's bookkeeping.
 */
export class StatementLimits {
  readonly connectMs: number;
  readonly answerMs: number;
  readonly connect: DeadlineList;
  readonly answer: DeadlineList;

  constructor(connectMs: number, answerMs: number) {
    const deadlines = new Deadlines();
    this.connectMs = connectMs;
    this.answerMs = answerMs;
    this.connect = deadlines.list(connectMs);
    this.answer = deadlines.list(answerMs);
  }
}

/**
 * A wait for a pooled connection, at most `connectMs`. A connection that comes after the wait
 * was given up goes straight back to the pool, to serve the next caller.
 */
abstract class PoolWait<C> extends Deadline {
  protected readonly pool: StatementPool<C>;
  protected readonly limits: StatementLimits;
  protected settled = false;

  constructor(pool: StatementPool<C>, limits: StatementLimits) {
    super();
    this.pool = pool;
    this.limits = limits;
  }

  start(): void {
    this.setDeadlineOn(this.limits.connect);
    this.pool.checkout(this.#connected);
  }

  /** The connection came in time. */
  protected abstract lent(connection: C): void;
  /** No connection: the pool's error, or the wait's limit passed. Called at most once. */
  protected abstract failed(error: unknown): void;

  readonly #connected = (error: unknown, connection?: C): void => {
    if (this.settled) {
      if (connection !== undefined) this.pool.release(connection, false);
      return;
    }
    this.clearDeadline();
    if ((error !== null && error !== undefined) || connection === undefined) {
      this.settled = true;
      if (connection !== undefined) this.pool.release(connection, true);
      this.failed(error ?? new Error('the pool lent no connection'));
      return;
    }
    this.lent(connection);
  };

  protected expired(): void {
    this.settled = true;
    this.failed(
      Object.assign(new Error(`no connection could be had within ${this.limits.connectMs} ms`), {
        code: NO_CONNECTION,
      }),
    );
  }
}

/** A connection for a caller that keeps it for several statements (a transaction). */
class PooledCheckout<C> extends PoolWait<C> {
  readonly #done: (error: unknown, connection?: C) => void;

  constructor(pool: StatementPool<C>, limits: StatementLimits, done: (error: unknown, connection?: C) => void) {
    super(pool, limits);
    this.#done = done;
  }

  protected lent(connection: C): void {
    this.settled = true;
    this.#done(null, connection);
  }

  protected failed(error: unknown): void {
    this.#done(error);
  }
}

/**
 * One statement on a pooled connection: waits for the connection, runs the statement (at most
 * `answerMs` for the answer), gives the connection back, and answers `done` exactly once. A
 * connection whose answer is late is closed, as it may still be busy with the statement.
 */
export class PooledStatement<C> extends PoolWait<C> {
  readonly #sql: string;
  readonly #params: readonly unknown[];
  readonly #broken: (error: unknown) => boolean;
  readonly #done: SqlDone;
  #connection: C | undefined;

  constructor(
    pool: StatementPool<C>,
    limits: StatementLimits,
    sql: string,
    params: readonly unknown[],
    broken: (error: unknown) => boolean,
    done: SqlDone,
  ) {
    super(pool, limits);
    this.#sql = sql;
    this.#params = params;
    this.#broken = broken;
    this.#done = done;
  }

  protected lent(connection: C): void {
    this.#connection = connection;
    this.setDeadlineOn(this.limits.answer);
    this.pool.execute(connection, this.#sql, this.#params, this.#answered);
  }

  protected failed(error: unknown): void {
    this.#done(error);
  }

  readonly #answered = (error: unknown, result?: SqlResult): void => {
    // After a late answer the connection was closed already; what it says now is of no use.
    if (this.settled) return;
    this.settled = true;
    this.clearDeadline();
    this.pool.release(this.#connection!, error !== null && this.#broken(error));
    if (error !== null) this.#done(error);
    else this.#done(null, result);
  };

  protected override expired(): void {
    if (this.#connection === undefined) return super.expired();
    this.settled = true;
    this.pool.release(this.#connection, true);
    this.#done(noAnswer(this.limits.answerMs));
  }
}

/** One statement on a connection the caller holds (a transaction's), with the answer's limit. */
class HeldStatement<C> extends Deadline {
  readonly #done: SqlDone;
  readonly #answerMs: number;
  #settled = false;

  constructor(
    pool: StatementPool<C>,
    limits: StatementLimits,
    connection: C,
    sql: string,
    params: readonly unknown[],
    done: SqlDone,
  ) {
    super();
    this.#done = done;
    this.#answerMs = limits.answerMs;
    this.setDeadlineOn(limits.answer);
    pool.execute(connection, sql, params, this.#answered);
  }

  readonly #answered = (error: unknown, result?: SqlResult): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.clearDeadline();
    if (error !== null) this.#done(error);
    else this.#done(null, result);
  };

  /** The holder closes the connection: the error says it is broken (sql-errors.ts). */
  protected expired(): void {
    this.#settled = true;
    this.#done(noAnswer(this.#answerMs));
  }
}

/** A connection lent for several statements, each with the answer's limit. */
class HeldSession<C> implements SqlSession {
  readonly #pool: StatementPool<C>;
  readonly #limits: StatementLimits;
  readonly #connection: C;

  constructor(pool: StatementPool<C>, limits: StatementLimits, connection: C) {
    this.#pool = pool;
    this.#limits = limits;
    this.#connection = connection;
  }

  run(sql: string, params: readonly unknown[]): Promise<SqlResult> {
    return new Promise((resolve, reject) => {
      new HeldStatement(this.#pool, this.#limits, this.#connection, sql, params, (error, result) =>
        error === null ? resolve(result!) : reject(error),
      );
    });
  }

  release(broken: boolean): void {
    this.#pool.release(this.#connection, broken);
  }
}

/**
 * What the PostgreSQL and MySQL/MariaDB drivers share: checking out a connection for a
 * transaction and running one statement on a pooled connection, both within the limits. Each
 * driver says how its pool lends, runs and takes back a connection.
 */
export abstract class PooledDriver<C> implements StatementPool<C> {
  readonly #limits: StatementLimits;

  constructor(limits: StatementLimits) {
    this.#limits = limits;
  }

  abstract checkout(done: (error: unknown, connection?: C) => void): void;
  abstract execute(connection: C, sql: string, params: readonly unknown[], done: SqlDone): void;
  abstract release(connection: C, broken: boolean): void;

  /** SqlDriver.acquire(): a connection of the pool, waited for at most `connectMs`. */
  acquire(): Promise<SqlSession> {
    const limits = this.#limits;
    return new Promise((resolve, reject) => {
      new PooledCheckout<C>(this, limits, (error, connection) =>
        connection === undefined ? reject(error) : resolve(new HeldSession(this, limits, connection)),
      ).start();
    });
  }

  /** SqlDriver.query(). */
  query(sql: string, params: readonly unknown[], broken: (error: unknown) => boolean, done: SqlDone): void {
    new PooledStatement(this, this.#limits, sql, params, broken, done).start();
  }
}
