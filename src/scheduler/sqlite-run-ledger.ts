import type BetterSqlite3 from 'better-sqlite3';
import { requireDriver } from '../util/lazy-require.js';
import { claimResults, claimRows, Fenced, finishedRow, jobsToPrune, newIds, staleBatches, writeWithoutStale, type ClaimResult, type LedgerWrite, type RunLedger } from './run-ledger.js';

/**
 * How long a write waits for SQLite's write lock before it gives the event loop back and tries
 * again. Writes here take a millisecond or two, so another process rarely holds the lock longer;
 * the one that can is this process's own ODB connection in the middle of an asynchronous
 * transaction, which cannot finish while this one waits.
 */
const LOCK_WAIT_MS = 100;
const GIVE_UP_AFTER_MS = 30_000;

interface Statements {
  readonly claim: BetterSqlite3.Statement;
  readonly finish: BetterSqlite3.Statement;
  readonly prune: BetterSqlite3.Statement;
  readonly lease: BetterSqlite3.Statement;
}

/**
 * The run ledger on SQLite: its own connection to the ODB file, prepared statements, and each
 * write as one synchronous IMMEDIATE transaction. SQLite has one writer at a time across all the
 * workers; a transaction that waited on the event loop between its statements would hold the
 * lock while the worker did other work, and every other worker would sleep in SQLite's busy
 * handler meanwhile.
 */
export class SqliteRunLedger implements RunLedger {
  readonly #db: BetterSqlite3.Database;
  readonly #worker: string;
  #statements: Statements | undefined;

  constructor(file: string, worker: string) {
    const Database = requireDriver<typeof BetterSqlite3>('better-sqlite3', 'the SQLite ODB');
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    this.#db.pragma('synchronous = NORMAL');
    this.#worker = worker;
  }

  write(work: LedgerWrite): Promise<ClaimResult[]> {
    return writeWithoutStale(work.claims, async (fenced) => {
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        try {
          return this.#writeOnce(work, fenced);
        } catch (error) {
          const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
          if (!busy || Date.now() - started > GIVE_UP_AFTER_MS) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.min(attempt, 20)));
        }
      }
    });
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #writeOnce({ claims, finished }: LedgerWrite, fenced: ReadonlySet<number>): ClaimResult[] {
    const ids = newIds(claims, fenced);
    const rows = claimRows(claims, ids, this.#worker);
    const claimed = new Set<string>();
    if (rows.length === 0 && finished.length === 0) return claimResults(claims, ids, fenced, claimed);
    const statements = (this.#statements ??= this.#prepare());
    const transaction = this.#db.transaction(() => {
      for (const run of finished) {
        const row = finishedRow(run, this.#worker);
        statements.finish.run(row.started_at, row.duration_ms, row.outcome, row.error_code, row.error, row.job_id, row.manual, row.planned_at);
      }
      for (const [keep, jobs] of jobsToPrune(finished)) for (const job of jobs) statements.prune.run(job, job, keep);
      for (const r of rows) {
        const inserted = statements.claim.run(r.job_id, r.job_name, r.planned_at, r.manual, r.id, r.run_trigger, r.run_number, r.generation, r.worker, r.started_at, r.outcome);
        if (inserted.changes === 1) claimed.add(r.id);
      }
      if (claims.some((batch, b) => batch.generation !== null && !fenced.has(b))) {
        const lease = statements.lease.get() as { generation: number } | undefined;
        const stale = staleBatches(claims, fenced, Number(lease?.generation ?? 0));
        // Throwing rolls the transaction back; it is written again without the stale batches.
        if (stale.length > 0) throw new Fenced(stale);
      }
    });
    transaction.immediate();
    return claimResults(claims, ids, fenced, claimed);
  }

  #prepare(): Statements {
    return {
      claim: this.#db.prepare(
        `insert into scheduler_run (job_id, job_name, planned_at, manual, id, run_trigger, run_number, generation, worker, started_at, outcome)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
      ),
      finish: this.#db.prepare(
        'update scheduler_run set started_at = ?, duration_ms = ?, outcome = ?, error_code = ?, error = ? where job_id = ? and manual = ? and planned_at = ?',
      ),
      prune: this.#db.prepare(
        `delete from scheduler_run where job_id = ? and id in (
           select id from (select id, row_number() over (order by started_at desc, id desc) as newer from scheduler_run where job_id = ?) where newer > ?
         )`,
      ),
      lease: this.#db.prepare('select generation from singleton_lease where id = 1'),
    };
  }
}
