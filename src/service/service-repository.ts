import type { Kysely } from 'kysely';
import type { CompiledFile } from './loader.js';
import type { OdbSchema } from '../odb/schema.js';

export interface StoredFile {
  readonly file: string;
  readonly code: string;
  readonly hash: string;
  readonly services: readonly string[];
}

/** Deployed service files and which services each one provides. */
export const serviceRepository = {
  async names(db: Kysely<OdbSchema>): Promise<Set<string>> {
    const rows = await db.selectFrom('service').select('name').execute();
    return new Set(rows.map((r) => r.name));
  },

  async list(db: Kysely<OdbSchema>): Promise<Array<{ name: string; file: string; deployed_at: string; hash: string }>> {
    return db
      .selectFrom('service')
      .innerJoin('service_file', 'service_file.name', 'service.file_name')
      .select([
        'service.name as name',
        'service.file_name as file',
        'service_file.deployed_at as deployed_at',
        'service_file.hash as hash',
      ])
      .orderBy('service.name')
      .execute();
  },

  async fileHash(db: Kysely<OdbSchema>, file: string): Promise<string | undefined> {
    const row = await db.selectFrom('service_file').select('hash').where('name', '=', file).executeTakeFirst();
    return row?.hash;
  },

  /** Stores the file and makes it the provider of `services` (taking them from other files). */
  async save(db: Kysely<OdbSchema>, compiled: CompiledFile, services: readonly string[]): Promise<void> {
    const deployedAt = new Date().toISOString();
    const exists = await db
      .selectFrom('service_file')
      .select('name')
      .where('name', '=', compiled.file)
      .executeTakeFirst();
    if (exists === undefined) {
      await db
        .insertInto('service_file')
        .values({
          name: compiled.file,
          source: compiled.source,
          code: compiled.code,
          hash: compiled.hash,
          deployed_at: deployedAt,
        })
        .execute();
    } else {
      await db
        .updateTable('service_file')
        .set({ source: compiled.source, code: compiled.code, hash: compiled.hash, deployed_at: deployedAt })
        .where('name', '=', compiled.file)
        .execute();
    }
    await db.deleteFrom('service').where('file_name', '=', compiled.file).execute();
    if (services.length > 0) {
      await db.deleteFrom('service').where('name', 'in', services).execute();
      await db
        .insertInto('service')
        .values(services.map((name) => ({ name, file_name: compiled.file })))
        .execute();
    }
    await this.dropEmptyFiles(db);
  },

  async remove(db: Kysely<OdbSchema>, name: string): Promise<string | undefined> {
    const row = await db.selectFrom('service').select('file_name').where('name', '=', name).executeTakeFirst();
    if (row === undefined) return undefined;
    await db.deleteFrom('service').where('name', '=', name).execute();
    await this.dropEmptyFiles(db);
    return row.file_name;
  },

  async dropEmptyFiles(db: Kysely<OdbSchema>): Promise<void> {
    await db.deleteFrom('service_file').where('name', 'not in', db.selectFrom('service').select('file_name')).execute();
  },

  async loadAll(db: Kysely<OdbSchema>): Promise<StoredFile[]> {
    const files = await db.selectFrom('service_file').select(['name', 'code', 'hash', 'source']).execute();
    const services = await db.selectFrom('service').select(['name', 'file_name']).execute();
    return files.map((f) => ({
      file: f.name,
      code: f.code,
      hash: f.hash,
      services: services.filter((s) => s.file_name === f.name).map((s) => s.name),
    }));
  },
};
