import type { Kysely } from 'kysely';
import type { ConfigObject, NamedObject } from './config-kind.js';
import type { ConfigRegistry } from './config-registry.js';
import type { SecretBox } from '../util/secret-box.js';
import type { ConfigItemTable, OdbSchema } from '../odb/schema.js';

/** Reads and writes config_item rows; secret fields are encrypted on the way in, decrypted on the way out. */
export class ConfigRepository {
  readonly #box: SecretBox;
  readonly #registry: ConfigRegistry;

  constructor(box: SecretBox, registry: ConfigRegistry) {
    this.#box = box;
    this.#registry = registry;
  }

  async loadAll(db: Kysely<OdbSchema>): Promise<ConfigObject[]> {
    const rows = await db.selectFrom('config_item').selectAll().execute();
    return rows.filter((row) => this.#registry.has(row.type)).map((row) => this.#fromRow(row));
  }

  async loadByIds(db: Kysely<OdbSchema>, ids: readonly string[]): Promise<ConfigObject[]> {
    if (ids.length === 0) return [];
    const rows = await db.selectFrom('config_item').selectAll().where('id', 'in', ids).execute();
    return rows.filter((row) => this.#registry.has(row.type)).map((row) => this.#fromRow(row));
  }

  async insert(db: Kysely<OdbSchema>, object: ConfigObject): Promise<void> {
    await db.insertInto('config_item').values(this.#toRow(object)).execute();
  }

  async update(db: Kysely<OdbSchema>, object: ConfigObject): Promise<void> {
    const { id, ...rest } = this.#toRow(object);
    await db.updateTable('config_item').set(rest).where('id', '=', id).execute();
  }

  async delete(db: Kysely<OdbSchema>, id: string): Promise<void> {
    await db.deleteFrom('config_item').where('id', '=', id).execute();
  }

  #toRow(object: ConfigObject): ConfigItemTable {
    const secretFields = this.#registry.get(object.type).secretFields;
    const plain: Record<string, unknown> = {};
    const secret: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(object.data)) {
      if (secretFields.includes(key)) secret[key] = value;
      else plain[key] = value;
    }
    return {
      id: object.id,
      type: object.type,
      name: object.name,
      data: JSON.stringify(plain),
      secret: Object.keys(secret).length > 0 ? this.#box.encrypt(JSON.stringify(secret)) : null,
      version: object.version,
      updated_at: new Date().toISOString(),
    };
  }

  #fromRow(row: ConfigItemTable): ConfigObject {
    const data = JSON.parse(row.data) as Record<string, unknown>;
    if (row.secret !== null) Object.assign(data, JSON.parse(this.#box.decrypt(row.secret)));
    return {
      id: row.id,
      type: row.type,
      name: row.name,
      version: Number(row.version),
      data: data as unknown as NamedObject,
    };
  }
}
