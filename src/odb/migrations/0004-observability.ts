import { sql, type Kysely, type Migration } from 'kysely';
import type { OdbDialect } from '../odb-url.js';

/** A histogram of a busy object fills most of its buckets, a diff may be long: more than VARCHAR holds. */
function longText(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`mediumtext` : sql`text`;
}

/** Names compare case-sensitively and hold all of Unicode on MySQL too (see 0001). */
function tableOptions(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`character set utf8mb4 collate utf8mb4_bin` : sql``;
}

/**
 * The audit log of admin changes, and statistics per minute.
 *
 * audit_change: one row per object an admin change created, updated or deleted (a configuration
 * object, a deployed file), written in the change's own transaction, so a row exists exactly when
 * the change committed. `diff` is JSON, secrets masked; `at` an ISO 8601 UTC string.
 *
 * captured_request: requests and answers of channels with capture on, masked (`request`, `response`:
 * JSON), and the request as it came, encrypted with the environment's key (`sealed`), to resubmit.
 *
 * stats_minute: statistics per minute: one row per object (a channel, a service, an outgoing connection, a
 * job), server and minute, which the server's primary writes from its workers' figures. `minute`
 * is minutes since 1970 (UTC); `codes` and `buckets` are JSON (failures by code, the latency
 * histogram as [bucket, count] pairs, src/stats/histogram.ts).
 */
export function observability(dialect: OdbDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_change')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('at', 'varchar(24)', (c) => c.notNull())
        .addColumn('user_name', 'varchar(200)')
        .addColumn('cid', 'varchar(64)', (c) => c.notNull())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('action', 'varchar(16)', (c) => c.notNull())
        .addColumn('object_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('object_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('diff', longText(dialect), (c) => c.notNull())
        .modifyEnd(tableOptions(dialect))
        .execute();
      await db.schema.createIndex('audit_change_at').on('audit_change').column('at').execute();
      await db.schema
        .createTable('captured_request')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('at', 'varchar(24)', (c) => c.notNull())
        .addColumn('channel', 'varchar(200)', (c) => c.notNull())
        .addColumn('service', 'varchar(255)', (c) => c.notNull())
        .addColumn('cid', 'varchar(64)', (c) => c.notNull())
        .addColumn('outcome', 'varchar(8)', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('error_code', 'varchar(64)')
        .addColumn('duration_ms', 'double precision', (c) => c.notNull())
        .addColumn('request', longText(dialect), (c) => c.notNull())
        .addColumn('response', longText(dialect), (c) => c.notNull())
        .addColumn('sealed', longText(dialect))
        .modifyEnd(tableOptions(dialect))
        .execute();
      await db.schema.createIndex('captured_request_at').on('captured_request').column('at').execute();
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
      await db.schema.dropTable('captured_request').execute();
      await db.schema.dropTable('audit_change').execute();
    },
  };
}
