import type { ConfigObject, NamedObject } from './config-kind.js';

const EMPTY: ReadonlyMap<string, ConfigObject> = new Map();

/**
 * An immutable view of every configuration object. A change makes a new snapshot; work in
 * flight keeps the one it started with.
 */
export class ConfigSnapshot {
  readonly #byType: ReadonlyMap<string, ReadonlyMap<string, ConfigObject>>;
  readonly #byId: ReadonlyMap<string, ConfigObject>;

  private constructor(
    byType: ReadonlyMap<string, ReadonlyMap<string, ConfigObject>>,
    byId: ReadonlyMap<string, ConfigObject>,
  ) {
    this.#byType = byType;
    this.#byId = byId;
  }

  static of(objects: Iterable<ConfigObject>): ConfigSnapshot {
    const byType = new Map<string, Map<string, ConfigObject>>();
    const byId = new Map<string, ConfigObject>();
    for (const object of objects) {
      let names = byType.get(object.type);
      if (names === undefined) byType.set(object.type, (names = new Map()));
      names.set(object.name, object);
      byId.set(object.id, object);
    }
    return new ConfigSnapshot(byType, byId);
  }

  get<T extends NamedObject>(type: string, name: string): ConfigObject<T> | undefined {
    return this.#byType.get(type)?.get(name) as ConfigObject<T> | undefined;
  }

  byId(id: string): ConfigObject | undefined {
    return this.#byId.get(id);
  }

  list<T extends NamedObject>(type: string): ConfigObject<T>[] {
    return [...(this.#byType.get(type) ?? EMPTY).values()] as ConfigObject<T>[];
  }

  all(): ConfigObject[] {
    return [...this.#byId.values()];
  }

  /** A new snapshot with `upserts` in place (by id) and `removedIds` gone. */
  with(upserts: readonly ConfigObject[], removedIds: readonly string[] = []): ConfigSnapshot {
    const byId = new Map(this.#byId);
    for (const id of removedIds) byId.delete(id);
    for (const object of upserts) byId.set(object.id, object);
    return ConfigSnapshot.of(byId.values());
  }
}
