import { sql, type Kysely, type Migration } from 'kysely';
import type { OdbDialect } from '../odb-url.js';

/** Long text: MySQL's TEXT stops at 64 KB, too little for a service file. */
function longText(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`longtext` : sql`text`;
}

/**
 * MySQL compares strings case-insensitively by default, and a server's default character set may
 * not hold all of Unicode; names are case-sensitive on every dialect, and text is UTF-8.
 */
function tableOptions(dialect: OdbDialect) {
  return dialect === 'mysql' ? sql`character set utf8mb4 collate utf8mb4_bin` : sql``;
}

export function initial(dialect: OdbDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('service_file')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('source', longText(dialect), (c) => c.notNull())
        .addColumn('code', longText(dialect), (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('deployed_at', 'varchar(32)', (c) => c.notNull())
        .modifyEnd(tableOptions(dialect))
        .execute();
      await db.schema
        .createTable('service')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('file_name', 'varchar(255)', (c) => c.notNull())
        .modifyEnd(tableOptions(dialect))
        .execute();
      await db.schema.createIndex('service_file_name_idx').on('service').column('file_name').execute();
      await db.schema
        .createTable('config_item')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('data', longText(dialect), (c) => c.notNull())
        .addColumn('secret', longText(dialect))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addUniqueConstraint('config_item_type_name_uq', ['type', 'name'])
        .modifyEnd(tableOptions(dialect))
        .execute();
      await db.schema
        .createTable('server')
        .addColumn('name', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('last_seen', 'varchar(32)', (c) => c.notNull())
        .modifyEnd(tableOptions(dialect))
        .execute();
      // One row that every configuration write locks first: it serializes writers across the
      // cluster on every dialect (a row lock on PostgreSQL and MySQL, the write lock on SQLite).
      await db.schema
        .createTable('write_lock')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('counter', 'integer', (c) => c.notNull())
        .execute();
      await (db as Kysely<{ write_lock: { id: number; counter: number } }>)
        .insertInto('write_lock')
        .values({ id: 1, counter: 0 })
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['write_lock', 'server', 'config_item', 'service', 'service_file'])
        await db.schema.dropTable(table).execute();
    },
  };
}
