import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ViaductError } from '../errors.js';
import type { Odb } from '../odb/database.js';
import type { ConfigRepository } from './config-repository.js';
import { withWriteLock, type WriteOptions } from '../odb/write-lock.js';
import { writeAudit, type Actor, type AuditEntry } from '../odb/audit-log.js';

/** What the audit log shows of a secret field's value. */
const MASK = '***';
import type { ConfigKind, ConfigObject, NamedObject } from './config-kind.js';
import type { ConfigRegistry } from './config-registry.js';

export interface ConfigChange {
  readonly type: string;
  readonly id: string;
  readonly op: 'created' | 'updated' | 'deleted';
  readonly name: string;
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/**
 * The whole configuration as one transaction sees it. Mutations apply here first; the result is
 * validated as a whole (names, references, conflicts) before anything is written, so a batch
 * either applies entirely or not at all.
 */
export class ConfigDraft {
  readonly #registry: ConfigRegistry;
  readonly #objects: Map<string, ConfigObject>;
  readonly #original: ReadonlyMap<string, ConfigObject>;

  constructor(registry: ConfigRegistry, objects: readonly ConfigObject[]) {
    this.#registry = registry;
    this.#original = new Map(objects.map((o) => [o.id, o]));
    this.#objects = new Map(this.#original);
  }

  find(type: string, name: string): ConfigObject | undefined {
    for (const object of this.#objects.values()) if (object.type === type && object.name === name) return object;
    return undefined;
  }

  list(type: string): ConfigObject[] {
    return [...this.#objects.values()].filter((o) => o.type === type);
  }

  create(type: string, input: unknown): ConfigObject {
    const kind = this.#registry.get(type);
    const data = parse(kind, input);
    if (this.find(type, data.name) !== undefined) {
      throw new ViaductError('VIA_ERR_OBJECT_EXISTS', `A ${kind.label} named ${data.name} exists already`);
    }
    const object: ConfigObject = { id: randomUUID(), type, name: data.name, version: 1, data };
    this.#objects.set(object.id, object);
    return object;
  }

  /** Changes the fields given in `patch`; `new_name` renames. Omitted fields, secrets included, keep their values. */
  edit(type: string, name: string, patch: Record<string, unknown>): ConfigObject {
    const kind = this.#registry.get(type);
    const current = this.#require(kind, name);
    const { new_name: newName, ...fields } = patch;
    const merged: Record<string, unknown> = {
      ...current.data,
      ...stripUndefined(fields),
      name: typeof newName === 'string' ? newName : current.name,
    };
    // null in an edit clears an optional field (the schema then applies its default, if any).
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    const data = parse(kind, merged);
    if (data.name !== current.name && this.find(type, data.name) !== undefined) {
      throw new ViaductError('VIA_ERR_OBJECT_EXISTS', `A ${kind.label} named ${data.name} exists already`);
    }
    const object: ConfigObject = { ...current, name: data.name, data, version: current.version + 1 };
    this.#objects.set(object.id, object);
    return object;
  }

  remove(type: string, name: string): ConfigObject {
    const object = this.#require(this.#registry.get(type), name);
    this.#objects.delete(object.id);
    return object;
  }

  /** Creates, or replaces whole (defaults filled in again), the object of this name. */
  upsert(type: string, input: unknown): UpsertOutcome {
    const kind = this.#registry.get(type);
    const data = parse(kind, input);
    const current = this.find(type, data.name);
    if (current === undefined) {
      this.create(type, data);
      return 'created';
    }
    if (isDeepStrictEqual(current.data, data)) return 'unchanged';
    this.#objects.set(current.id, { ...current, data, version: current.version + 1 });
    return 'updated';
  }

  /** Checks the whole draft; throws the first problem found, naming the object. */
  validate(serviceExists: (name: string) => boolean): void {
    const all = [...this.#objects.values()];
    const spaces = new Map<string, ConfigObject>();
    for (const object of all) {
      const kind = this.#registry.get(object.type);
      const key = `${kind.nameSpace ?? kind.type}\u0000${object.name}`;
      const clash = spaces.get(key);
      if (clash !== undefined) {
        const other = this.#registry.get(clash.type);
        throw new ViaductError(
          'VIA_ERR_OBJECT_EXISTS',
          `The ${kind.label} ${object.name} has the same name as the ${other.label} ${clash.name}`,
        );
      }
      spaces.set(key, object);
    }
    const changed = new Set(this.#changed());
    for (const object of all) {
      const kind = this.#registry.get(object.type);
      for (const ref of kind.references?.(object.data) ?? []) {
        // The name was there before and is gone now: its object was deleted or renamed.
        const removed =
          ref.to !== 'service' &&
          [...this.#original.values()].some((o) => o.name === ref.name && this.#objects.get(o.id)?.name !== ref.name);
        // An object this change did not touch is checked only for what the change removed, so a
        // reference broken elsewhere (a redeployed file) never blocks unrelated writes.
        if (!changed.has(object) && !removed) continue;
        const found =
          ref.to === 'service'
            ? serviceExists(ref.name)
            : all.some(
                (o) => o.name === ref.name && (o.type === ref.to || this.#registry.get(o.type).nameSpace === ref.to),
              );
        if (found) continue;
        const what = ref.to === 'service' ? 'service' : ref.to;
        throw new ViaductError(
          removed ? 'VIA_ERR_OBJECT_IN_USE' : 'VIA_ERR_UNKNOWN_REFERENCE',
          removed
            ? `${ref.name} is in use: the ${kind.label} ${object.name} refers to it in ${ref.field}`
            : `The ${kind.label} ${object.name} refers to an unknown ${what} ${ref.name} in ${ref.field}`,
        );
      }
    }
    for (const object of this.#changed()) {
      const kind = this.#registry.get(object.type);
      if (kind.conflict === undefined) continue;
      const others = all.filter((o) => o.type === object.type && o.id !== object.id).map((o) => o.data);
      const reason = kind.conflict(object.data, others);
      if (reason !== undefined)
        throw new ViaductError('VIA_ERR_DUPLICATE_PATH', `The ${kind.label} ${object.name}: ${reason}`);
    }
  }

  /** What differs from the state the draft started with. */
  changes(): { upserted: ConfigObject[]; list: ConfigChange[] } {
    const upserted = this.#changed();
    const deleted = [...this.#original.values()].filter((o) => !this.#objects.has(o.id));
    const list: ConfigChange[] = [
      ...deleted.map((o) => ({ type: o.type, id: o.id, name: o.name, op: 'deleted' as const })),
      ...upserted.map((o) => ({
        type: o.type,
        id: o.id,
        name: o.name,
        op: this.#original.has(o.id) ? ('updated' as const) : ('created' as const),
      })),
    ];
    return { upserted, list };
  }

  /** What the change did to each object, for the audit log: set fields, changed fields, secrets masked. */
  auditEntries(): AuditEntry[] {
    return this.changes().list.map((change) => {
      const kind = this.#registry.get(change.type);
      const secret = new Set(kind.secretFields ?? []);
      const shown = (field: string, value: unknown): unknown => (secret.has(field) ? MASK : value);
      const before = this.#original.get(change.id)?.data as Record<string, unknown> | undefined;
      const after = this.#objects.get(change.id)?.data as Record<string, unknown> | undefined;
      const diff: Record<string, unknown> = {};
      if (change.op === 'created' && after !== undefined)
        for (const [field, value] of Object.entries(after)) diff[field] = shown(field, value);
      if (change.op === 'updated' && after !== undefined && before !== undefined) {
        for (const field of new Set([...Object.keys(before), ...Object.keys(after)]))
          if (!isDeepStrictEqual(before[field], after[field]))
            diff[field] = [shown(field, before[field]), shown(field, after[field])];
      }
      return { action: change.op, objectType: change.type, objectName: change.name, diff };
    });
  }

  #changed(): ConfigObject[] {
    return [...this.#objects.values()].filter((o) => this.#original.get(o.id) !== o);
  }

  #require(kind: ConfigKind, name: string): ConfigObject {
    const object = this.find(kind.type, name);
    if (object === undefined) throw new ViaductError('VIA_ERR_OBJECT_NOT_FOUND', `No ${kind.label} named ${name}`);
    return object;
  }
}

/** The one write path for configuration objects: lock, load, mutate, validate, write, report. */
export class ConfigWriter {
  readonly #db: Odb;
  readonly #repository: ConfigRepository;
  readonly #registry: ConfigRegistry;
  readonly #serviceNames: (db: Odb) => Promise<ReadonlySet<string>>;
  readonly #writeOptions: WriteOptions;

  constructor(
    db: Odb,
    repository: ConfigRepository,
    registry: ConfigRegistry,
    serviceNames: (db: Odb) => Promise<ReadonlySet<string>>,
    writeOptions: WriteOptions = {},
  ) {
    this.#db = db;
    this.#repository = repository;
    this.#registry = registry;
    this.#serviceNames = serviceNames;
    this.#writeOptions = writeOptions;
  }

  /**
   * Applies `mutate` in one transaction; `version` is the ODB's version this commit made. With an
   * `actor`, what changed goes to the audit log in the same transaction.
   */
  async commit<T>(
    mutate: (draft: ConfigDraft) => T,
    actor?: Actor,
  ): Promise<{ result: T; changes: ConfigChange[]; version: number }> {
    return withWriteLock(
      this.#db,
      async (trx, version) => {
        const draft = new ConfigDraft(this.#registry, await this.#repository.loadAll(trx));
        const result = mutate(draft);
        const services = await this.#serviceNames(trx);
        draft.validate((name) => services.has(name));
        const { upserted, list } = draft.changes();
        const byId = new Map(upserted.map((o) => [o.id, o]));
        for (const change of list) {
          const object = byId.get(change.id);
          if (change.op === 'deleted') await this.#repository.delete(trx, change.id);
          else if (change.op === 'created' && object !== undefined) await this.#repository.insert(trx, object);
          else if (object !== undefined) await this.#repository.update(trx, object);
        }
        if (actor !== undefined && list.length > 0) await writeAudit(trx, actor, version, draft.auditEntries());
        return { result, changes: list, version };
      },
      this.#writeOptions,
    );
  }
}

function parse<T extends NamedObject>(kind: ConfigKind<T>, input: unknown): T {
  const result = kind.schema.safeParse(input);
  if (result.success) return result.data;
  const name =
    typeof (input as { name?: unknown } | null)?.name === 'string' ? ` ${(input as { name: string }).name}` : '';
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(object)'}: ${issue.message}`);
  throw new ViaductError('VIA_ERR_VALIDATION', `Invalid ${kind.label}${name}: ${problems.join('; ')}`, {
    details: { problems },
  });
}

function stripUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
