import { sql, type Transaction } from 'kysely';
import type { Odb } from '../odb/database.js';
import type { OdbDialect } from '../odb/odb-url.js';
import type { OdbSchema, SchedulerRunTable } from '../odb/schema.js';
import {
  claimResults,
  claimRows,
  Fenced,
  finishedRow,
  jobsToPrune,
  newIds,
  staleBatches,
  writeWithoutStale,
  type ClaimResult,
  type LedgerWrite,
  type RunLedger,
} from './run-ledger.js';

/** Rows per statement: well under every dialect's limit on bound parameters. */
const ROWS_PER_STATEMENT = 100;
const MAX_ATTEMPTS = 4;

/** The run ledger on PostgreSQL and MySQL/MariaDB, through the ODB's connection pool. */
export class KyselyRunLedger implements RunLedger {
  readonly #db: Odb;
  readonly #dialect: OdbDialect;
  readonly #worker: string;

  constructor(db: Odb, dialect: OdbDialect, worker: string) {
    this.#db = db;
    this.#dialect = dialect;
    this.#worker = worker;
  }

  write(work: LedgerWrite): Promise<ClaimResult[]> {
    return writeWithoutStale(work.claims, async (fenced) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#writeOnce(work, fenced);
        } catch (error) {
          if (error instanceof Fenced || attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
        }
      }
    });
  }

  async close(): Promise<void> {
    // The pool belongs to the ODB handle.
  }

  async #writeOnce({ claims, finished }: LedgerWrite, fenced: ReadonlySet<number>): Promise<ClaimResult[]> {
    const ids = newIds(claims, fenced);
    const rows = claimRows(claims, ids, this.#worker);
    const outcomes = finished.map((run) => finishedRow(run, this.#worker));
    const claimed = new Set<string>();
    if (rows.length === 0 && outcomes.length === 0) return claimResults(claims, ids, fenced, claimed);
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < outcomes.length; i += ROWS_PER_STATEMENT)
        await this.#upsertOutcomes(trx, outcomes.slice(i, i + ROWS_PER_STATEMENT));
      for (const [keep, jobs] of jobsToPrune(finished)) await this.#prune(trx, jobs, keep);
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        for (const id of await this.#insertIgnoringTaken(trx, rows.slice(i, i + ROWS_PER_STATEMENT))) claimed.add(id);
      }
      if (claims.some((batch, b) => batch.generation !== null && !fenced.has(b))) {
        const lease = await trx
          .selectFrom('singleton_lease')
          .select('generation')
          .where('id', '=', 1)
          .executeTakeFirst();
        const stale = staleBatches(claims, fenced, Number(lease?.generation ?? 0));
        // Throwing rolls the transaction back; it is written again without the stale batches.
        if (stale.length > 0) throw new Fenced(stale);
      }
    });
    return claimResults(claims, ids, fenced, claimed);
  }

  /** Inserts the rows whose fire time is free; answers with the ids of those inserted. */
  async #insertIgnoringTaken(trx: Transaction<OdbSchema>, rows: SchedulerRunTable[]): Promise<string[]> {
    const insert = trx.insertInto('scheduler_run').values(rows);
    if (this.#dialect !== 'mysql')
      return (
        await insert
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .execute()
      ).map((r) => r.id);
    // No RETURNING on MySQL: the rows that carry this attempt's fresh ids are the ones inserted.
    await insert.ignore().execute();
    const found = await trx
      .selectFrom('scheduler_run')
      .select('id')
      .where('job_id', 'in', [...new Set(rows.map((r) => r.job_id))])
      .where('planned_at', 'in', [...new Set(rows.map((r) => r.planned_at))])
      .execute();
    const mine = new Set(rows.map((r) => r.id));
    return found.map((r) => r.id).filter((id) => mine.has(id));
  }

  #upsertOutcomes(trx: Transaction<OdbSchema>, rows: SchedulerRunTable[]) {
    const insert = trx.insertInto('scheduler_run').values(rows);
    if (this.#dialect === 'mysql') {
      return insert
        .onDuplicateKeyUpdate({
          started_at: sql`values(started_at)`,
          duration_ms: sql`values(duration_ms)`,
          outcome: sql`values(outcome)`,
          error_code: sql`values(error_code)`,
          error: sql`values(error)`,
        })
        .execute();
    }
    return insert
      .onConflict((oc) =>
        oc.columns(['job_id', 'manual', 'planned_at']).doUpdateSet((eb) => ({
          started_at: eb.ref('excluded.started_at'),
          duration_ms: eb.ref('excluded.duration_ms'),
          outcome: eb.ref('excluded.outcome'),
          error_code: eb.ref('excluded.error_code'),
          error: eb.ref('excluded.error'),
        })),
      )
      .execute();
  }

  /** Keeps each job's `keep` newest runs, a chunk of jobs per statement. */
  async #prune(trx: Transaction<OdbSchema>, jobs: readonly string[], keep: number): Promise<void> {
    for (let i = 0; i < jobs.length; i += 200) {
      const chunk = sql.join(jobs.slice(i, i + 200));
      // The ranking is wrapped in a derived table so MySQL materializes it before deleting from the same table.
      await sql`delete from scheduler_run where job_id in (${chunk}) and id in (
        select id from (
          select id, row_number() over (partition by job_id order by started_at desc, id desc) as newer
          from scheduler_run where job_id in (${chunk})
        ) ranked where newer > ${keep}
      )`.execute(trx);
    }
  }
}

/** Deadlocks and lock timeouts: the transaction can simply run again. */
function isRetryable(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown };
  return e.errno === 1213 || e.errno === 1205 || e.code === '40P01' || e.code === '40001';
}
