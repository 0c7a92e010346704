import type { Kysely, Selectable } from 'kysely';
import type { OdbSchema, SchedulerRunTable } from '../odb/schema.js';

type RunRow = Selectable<SchedulerRunTable>;

/** A run as the admin API shows it. */
export interface RunView {
  readonly id: string;
  readonly job: string;
  readonly planned_at: string;
  readonly run_number: number;
  readonly trigger: string;
  readonly generation: number | null;
  readonly worker: string;
  readonly started_at: string;
  readonly duration_ms: number | null;
  /** running, ok, error or timeout. */
  readonly outcome: string;
  readonly error: { readonly code: string | null; readonly message: string } | null;
}

export function viewOf(row: RunRow): RunView {
  return {
    id: row.id,
    job: row.job_name,
    planned_at: row.planned_at,
    run_number: Number(row.run_number),
    trigger: row.run_trigger,
    generation: row.generation === null ? null : Number(row.generation),
    worker: row.worker,
    started_at: row.started_at,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    outcome: row.outcome,
    error: row.error === null && row.error_code === null ? null : { code: row.error_code, message: row.error ?? '' },
  };
}

/** Reads of the run history: for the admin API, and for a scheduler taking over. */
export const runHistory = {
  /** A job's runs, newest first. */
  async list(db: Kysely<OdbSchema>, jobId: string, limit: number): Promise<RunView[]> {
    const rows = await db
      .selectFrom('scheduler_run')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(viewOf);
  },

  /** Each job's newest run (by start), for the given jobs or all of them. */
  async latest(db: Kysely<OdbSchema>, jobIds?: readonly string[]): Promise<Map<string, RunView>> {
    if (jobIds !== undefined && jobIds.length === 0) return new Map();
    let newest = db
      .selectFrom('scheduler_run')
      .select(['job_id', (eb) => eb.fn.max('started_at').as('latest')])
      .groupBy('job_id');
    if (jobIds !== undefined) newest = newest.where('job_id', 'in', jobIds);
    const rows = await db
      .selectFrom('scheduler_run as r')
      .innerJoin(newest.as('n'), (join) =>
        join.onRef('n.job_id', '=', 'r.job_id').onRef('n.latest', '=', 'r.started_at'),
      )
      .selectAll('r')
      .execute();
    const byJob = new Map<string, RunView>();
    // Two runs that started in the same millisecond: the larger id wins, as in list().
    for (const row of rows) if ((byJob.get(row.job_id)?.id ?? '') < row.id) byJob.set(row.job_id, viewOf(row));
    return byJob;
  },

  /** Per job: the newest fire time that ran and the largest run number (runs by hand left out). */
  async progress(db: Kysely<OdbSchema>): Promise<Map<string, { lastPlannedAt: number; lastRunNumber: number }>> {
    const rows = await db
      .selectFrom('scheduler_run')
      .select([
        'job_id',
        (eb) => eb.fn.max('planned_at').as('last_planned'),
        (eb) => eb.fn.max('run_number').as('last_number'),
      ])
      .where('manual', '=', 0)
      .groupBy('job_id')
      .execute();
    return new Map(
      rows.map((r) => [
        r.job_id,
        { lastPlannedAt: Date.parse(String(r.last_planned)), lastRunNumber: Number(r.last_number) },
      ]),
    );
  },
};
