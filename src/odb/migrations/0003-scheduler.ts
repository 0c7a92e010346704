import { sql, type Kysely, type Migration } from 'kysely';
import type { OdbDialect } from '../odb-url.js';

/** Error messages can be long (a stack-less message from a service), more than VARCHAR holds. */
function longText(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`mediumtext` : sql`text`;
}

/** Names compare case-sensitively and hold all of Unicode on MySQL too (see 0001). */
function tableOptions(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`character set utf8mb4 collate utf8mb4_bin` : sql``;
}

/**
 * The scheduler's runtime state; the jobs themselves are config_item rows (type scheduler.job).
 *
 * scheduler_run is the history and the exactly-once ledger at once: the worker that takes a run
 * inserts its row first, and the primary key (job_id, manual, planned_at) lets only one insert
 * of a fire time succeed, whichever singleton or worker tries. The key also finds a job's runs
 * (at most about history_size of them), so no other index slows down the writes every run makes;
 * `id` is only what the admin API calls a run. Times are ISO 8601 UTC strings with milliseconds,
 * which sort and compare as text everywhere.
 */
export function scheduler(dialect: OdbDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('scheduler_run')
        .addColumn('job_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('job_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('planned_at', 'varchar(24)', (c) => c.notNull())
        // 1 for a run started by viaduct.scheduler.job.execute: its own key space, so running a
        // job by hand at the very millisecond of a fire time can never take that fire time's place.
        .addColumn('manual', 'integer', (c) => c.notNull())
        .addColumn('id', 'varchar(36)', (c) => c.notNull())
        .addColumn('run_trigger', 'varchar(16)', (c) => c.notNull())
        // A fire time's place in a schedule that began long ago, every second, outgrows 32 bits.
        .addColumn('run_number', 'bigint', (c) => c.notNull())
        .addColumn('generation', 'integer')
        .addColumn('worker', 'varchar(255)', (c) => c.notNull())
        .addColumn('started_at', 'varchar(24)', (c) => c.notNull())
        .addColumn('duration_ms', 'integer')
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('error_code', 'varchar(64)')
        .addColumn('error', longText(dialect))
        .addPrimaryKeyConstraint('scheduler_run_pk', ['job_id', 'manual', 'planned_at'])
        .modifyEnd(tableOptions(dialect))
        .execute();
      await db.schema
        .createTable('scheduler_job_state')
        .addColumn('job_id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('next_run_at', 'varchar(24)')
        .addColumn('updated_at', 'varchar(24)', (c) => c.notNull())
        .modifyEnd(tableOptions(dialect))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('scheduler_job_state').execute();
      await db.schema.dropTable('scheduler_run').execute();
    },
  };
}
