import { sql, type Kysely, type Migration } from 'kysely';
import type { OdbDialect } from '../odb-url.js';

/** A histogram of a busy object fills most of its buckets: more than VARCHAR holds. */
function longText(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`mediumtext` : sql`text`;
}

/** Names compare case-sensitively and hold all of Unicode on MySQL too (see 0001). */
function tableOptions(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`character set utf8mb4 collate utf8mb4_bin` : sql``;
}

/**
 * Statistics per minute: one row per object (a channel, a service, an outgoing connection, a
 * job), server and minute, which the server's primary writes from its workers' figures. `minute`
 * is minutes since 1970 (UTC); `codes` and `buckets` are JSON (failures by code, the latency
 * histogram as [bucket, count] pairs, src/stats/histogram.ts).
 */
export function stats(dialect: OdbDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stats_minute')
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('server', 'varchar(100)', (c) => c.notNull())
        .addColumn('minute', 'integer', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('errors', 'integer', (c) => c.notNull())
        .addColumn('sum_ms', 'double precision', (c) => c.notNull())
        .addColumn('max_ms', 'double precision', (c) => c.notNull())
        .addColumn('codes', longText(dialect), (c) => c.notNull())
        .addColumn('buckets', longText(dialect), (c) => c.notNull())
        .addPrimaryKeyConstraint('stats_minute_pk', ['minute', 'kind', 'name', 'server'])
        .modifyEnd(tableOptions(dialect))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('stats_minute').execute();
    },
  };
}
