import type { Logger } from 'pino';
import type { ConfigObject } from './config-kind.js';
import { ConfigSnapshot } from './config-snapshot.js';
import type { ConfigChange } from './config-writer.js';
import type { Odb } from '../odb/database.js';
import type { ConfigRepository } from './config-repository.js';

export interface AppliedChange {
  readonly type: string;
  readonly before: ConfigObject | undefined;
  readonly after: ConfigObject | undefined;
}

export type ChangeListener = (change: AppliedChange) => void;

/**
 * Holds this worker's configuration snapshot. A change names objects by id; each is read again
 * from the ODB (secrets never travel through the broker) and the snapshot is replaced whole.
 */
export class ConfigManager {
  readonly #db: Odb;
  readonly #repository: ConfigRepository;
  readonly #logger: Logger;
  readonly #listeners = new Map<string, ChangeListener[]>();
  #snapshot = ConfigSnapshot.of([]);

  constructor(db: Odb, repository: ConfigRepository, logger: Logger) {
    this.#db = db;
    this.#repository = repository;
    this.#logger = logger;
  }

  get snapshot(): ConfigSnapshot {
    return this.#snapshot;
  }

  /** Listeners see every object of their type as it is loaded, changed or removed. */
  on(type: string, listener: ChangeListener): void {
    const list = this.#listeners.get(type) ?? [];
    list.push(listener);
    this.#listeners.set(type, list);
  }

  async load(): Promise<void> {
    const objects = await this.#repository.loadAll(this.#db);
    this.#snapshot = ConfigSnapshot.of(objects);
    for (const object of objects) this.#notify({ type: object.type, before: undefined, after: object });
  }

  /**
   * Reads the whole configuration again (catching up after lost broadcasts) and tells listeners
   * only of what differs from this worker's snapshot: removed, changed and new objects.
   */
  async reload(): Promise<void> {
    const objects = await this.#repository.loadAll(this.#db);
    const before = this.#snapshot;
    const ids = new Set(objects.map((o) => o.id));
    this.#snapshot = ConfigSnapshot.of(objects);
    for (const old of before.all())
      if (!ids.has(old.id)) this.#notify({ type: old.type, before: old, after: undefined });
    for (const object of objects) {
      const old = before.byId(object.id);
      if (old?.version !== object.version) this.#notify({ type: object.type, before: old, after: object });
    }
  }

  async apply(changes: readonly ConfigChange[]): Promise<void> {
    const live = changes.filter((c) => c.op !== 'deleted').map((c) => c.id);
    const loaded = await this.#repository.loadByIds(this.#db, live);
    const loadedIds = new Set(loaded.map((o) => o.id));
    // An object deleted again before this worker read it counts as deleted.
    const removed = changes.filter((c) => !loadedIds.has(c.id)).map((c) => c.id);
    const before = this.#snapshot;
    this.#snapshot = before.with(loaded, removed);
    for (const id of removed) {
      const old = before.byId(id);
      if (old !== undefined) this.#notify({ type: old.type, before: old, after: undefined });
    }
    for (const object of loaded) {
      const old = before.byId(object.id);
      // The same version again (a change applied twice, a catch-up) changes nothing: listeners are not told.
      if (old?.version !== object.version) this.#notify({ type: object.type, before: old, after: object });
    }
    this.#logger.debug({ changes: changes.map((c) => `${c.op} ${c.type} ${c.name}`) }, 'Configuration applied');
  }

  #notify(change: AppliedChange): void {
    for (const listener of this.#listeners.get(change.type) ?? []) listener(change);
  }
}
