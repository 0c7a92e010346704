import type BetterSqlite3 from 'better-sqlite3';
import { requireDriver } from '../util/lazy-require.js';
import {
  claimResults,
  claimRows,
  Fenced,
  finishedRow,
  jobsToPrune,
  newIds,
  staleBatches,
  type ClaimResult,
  type LedgerWrite,
} from './run-ledger.js';

/** How long a write goes on trying to get SQLite's write lock before it fails. */
const GIVE_UP_AFTER_MS = 30_000;
/**
 * How long SQLite's busy handler waits for the write lock at a time, sleeping in steps; the
 * thread then pauses a little longer and tries again. Waiting blocks this thread only.
 */
const LOCK_WAIT_MS = 100;

interface Statements {
  readonly claim: BetterSqlite3.Statement;
  readonly finish: BetterSqlite3.Statement;
  readonly finishByRowid: BetterSqlite3.Statement;
  readonly prune: BetterSqlite3.Statement;
  readonly lease: BetterSqlite3.Statement;
}

/**
 * The run ledger's writes on SQLite, synchronous: its own connection to the ODB file, prepared
 * statements, and each write as one IMMEDIATE transaction. It runs in a thread of its own (see
 * sqlite-run-ledger.ts), so that it may wait for the write lock, and for SQLite's own work
 * (checkpoints included), without holding up the worker's event loop.
 */
export class SqliteLedgerWriter {
  readonly #db: BetterSqlite3.Database;
  readonly #worker: string;
  readonly #pause = new Int32Array(new SharedArrayBuffer(4));
  #statements: Statements | undefined;
  /** The row of each run claimed here and not ended yet, so that its outcome goes straight to it. */
  readonly #rowids = new Map<string, number | bigint>();

  constructor(file: string, worker: string) {
    const Database = requireDriver<typeof BetterSqlite3>('better-sqlite3');
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    this.#db.pragma('synchronous = NORMAL');
    this.#worker = worker;
  }

  /** Writes, leaving out the batches found stale, until it goes through; waits for the lock as long as it takes (up to 30 s). */
  write(work: LedgerWrite): ClaimResult[] {
    const fenced = new Set<number>();
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return this.#writeOnce(work, fenced);
      } catch (error) {
        if (error instanceof Fenced) {
          for (const b of error.batches) fenced.add(b);
          continue;
        }
        const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
        if (!busy || Date.now() - started > GIVE_UP_AFTER_MS) throw error;
        Atomics.wait(this.#pause, 0, 0, Math.min(attempt, 20));
      }
    }
  }

  close(): void {
    this.#db.close();
  }

  #writeOnce({ claims, finished }: LedgerWrite, fenced: ReadonlySet<number>): ClaimResult[] {
    const ids = newIds(claims, fenced);
    const rows = claimRows(claims, ids, this.#worker);
    const claimed = new Set<string>();
    const newRows: Array<[string, number | bigint]> = [];
    if (rows.length === 0 && finished.length === 0) return claimResults(claims, ids, fenced, claimed);
    const statements = (this.#statements ??= this.#prepare());
    const transaction = this.#db.transaction(() => {
      for (const run of finished) {
        const row = finishedRow(run, this.#worker);
        const rowid = this.#rowids.get(run.id);
        if (rowid !== undefined) {
          this.#rowids.delete(run.id);
          const updated = statements.finishByRowid.run(
            row.started_at,
            row.duration_ms,
            row.outcome,
            row.error_code,
            row.error,
            rowid,
            run.id,
          );
          if (updated.changes === 1) continue;
        }
        statements.finish.run(
          row.started_at,
          row.duration_ms,
          row.outcome,
          row.error_code,
          row.error,
          row.job_id,
          row.manual,
          row.planned_at,
        );
      }
      for (const [keep, jobs] of jobsToPrune(finished)) for (const job of jobs) statements.prune.run(job, job, keep);
      for (const r of rows) {
        const inserted = statements.claim.get(
          r.job_id,
          r.job_name,
          r.planned_at,
          r.manual,
          r.id,
          r.run_trigger,
          r.run_number,
          r.generation,
          r.worker,
          r.started_at,
          r.outcome,
        ) as { rowid: number | bigint } | undefined;
        if (inserted !== undefined) {
          claimed.add(r.id);
          newRows.push([r.id, inserted.rowid]);
        }
      }
      if (claims.some((batch, b) => batch.generation !== null && !fenced.has(b))) {
        const lease = statements.lease.get() as { generation: number } | undefined;
        const stale = staleBatches(claims, fenced, Number(lease?.generation ?? 0));
        // Throwing rolls the transaction back; it is written again without the stale batches.
        if (stale.length > 0) throw new Fenced(stale);
      }
    });
    transaction.immediate();
    for (const [id, rowid] of newRows) this.#rowids.set(id, rowid);
    return claimResults(claims, ids, fenced, claimed);
  }

  #prepare(): Statements {
    return {
      claim: this.#db.prepare(
        `insert into scheduler_run (job_id, job_name, planned_at, manual, id, run_trigger, run_number, generation, worker, started_at, outcome)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning rowid`,
      ),
      finish: this.#db.prepare(
        'update scheduler_run set started_at = ?, duration_ms = ?, outcome = ?, error_code = ?, error = ? where job_id = ? and manual = ? and planned_at = ?',
      ),
      finishByRowid: this.#db.prepare(
        'update scheduler_run set started_at = ?, duration_ms = ?, outcome = ?, error_code = ?, error = ? where rowid = ? and id = ?',
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
