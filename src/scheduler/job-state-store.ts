import type { Kysely } from 'kysely';
import type { OdbDialect } from '../odb/odb-url.js';
import type { OdbSchema } from '../odb/schema.js';
import { SCHEDULER_JOB } from './job-kind.js';

const ROWS_PER_STATEMENT = 200;

/** scheduler_job_state: each job's next fire time, written by the scheduler as it plans. */
export const jobStateStore = {
  async saveNext(
    db: Kysely<OdbSchema>,
    dialect: OdbDialect,
    updates: ReadonlyArray<{ readonly jobId: string; readonly nextRunAt: number | null }>,
  ): Promise<void> {
    const updatedAt = new Date().toISOString();
    for (let i = 0; i < updates.length; i += ROWS_PER_STATEMENT) {
      const rows = updates.slice(i, i + ROWS_PER_STATEMENT).map((u) => ({
        job_id: u.jobId,
        next_run_at: u.nextRunAt === null ? null : new Date(u.nextRunAt).toISOString(),
        updated_at: updatedAt,
      }));
      const insert = db.insertInto('scheduler_job_state').values(rows);
      // Each statement is a transaction of its own: a long one would hold SQLite's write lock
      // while workers wait to claim runs.
      if (dialect === 'mysql') {
        await insert
          .onDuplicateKeyUpdate({
            next_run_at: (eb) => eb.fn('values', [eb.ref('next_run_at')]),
            updated_at: updatedAt,
          })
          .execute();
      } else {
        await insert
          .onConflict((oc) =>
            oc.column('job_id').doUpdateSet((eb) => ({
              next_run_at: eb.ref('excluded.next_run_at'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    }
  },

  /** Next fire times by job id; a job without a row is absent, one with nothing pending maps to null. */
  async nextRuns(db: Kysely<OdbSchema>, jobIds?: readonly string[]): Promise<Map<string, string | null>> {
    if (jobIds !== undefined && jobIds.length === 0) return new Map();
    let query = db.selectFrom('scheduler_job_state').select(['job_id', 'next_run_at']);
    if (jobIds !== undefined) query = query.where('job_id', 'in', jobIds);
    const rows = await query.execute();
    return new Map(rows.map((r) => [r.job_id, r.next_run_at]));
  },

  /** A deleted job's state and history. */
  async forget(db: Kysely<OdbSchema>, jobId: string): Promise<void> {
    await db.deleteFrom('scheduler_run').where('job_id', '=', jobId).execute();
    await db.deleteFrom('scheduler_job_state').where('job_id', '=', jobId).execute();
  },

  /** State and history of jobs deleted while no scheduler ran to forget them. */
  async removeOrphans(db: Kysely<OdbSchema>): Promise<void> {
    const jobs = db.selectFrom('config_item').select('id').where('type', '=', SCHEDULER_JOB);
    await db.deleteFrom('scheduler_run').where('job_id', 'not in', jobs).execute();
    await db.deleteFrom('scheduler_job_state').where('job_id', 'not in', jobs).execute();
  },
};
