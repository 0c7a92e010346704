import type { Kysely, Migration } from 'kysely';

/** The singleton lease (one row), the record of every generation that held it, and cluster-wide settings. */
export function cluster(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('singleton_lease')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(255)')
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('beat', 'integer', (c) => c.notNull())
        .execute();
      await (db as Kysely<{ singleton_lease: { id: number; holder: string | null; generation: number; beat: number } }>)
        .insertInto('singleton_lease')
        .values({ id: 1, holder: null, generation: 0, beat: 0 })
        .execute();
      await db.schema
        .createTable('singleton_history')
        .addColumn('generation', 'integer', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(255)', (c) => c.notNull())
        .addColumn('acquired_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('cluster_setting')
        .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('value', 'varchar(1000)', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('cluster_setting').execute();
      await db.schema.dropTable('singleton_history').execute();
      await db.schema.dropTable('singleton_lease').execute();
    },
  };
}
