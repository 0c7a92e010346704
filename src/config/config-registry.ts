import { ViaductError } from '../errors.js';
import type { ConfigKind, NamedObject } from './config-kind.js';

/** The known configuration types, in the order they are applied (what is referred to comes first). */
export class ConfigRegistry {
  readonly #kinds = new Map<string, ConfigKind>();

  register<T extends NamedObject>(kind: ConfigKind<T>): this {
    if (this.#kinds.has(kind.type)) throw new Error(`Config type ${kind.type} is registered twice`);
    this.#kinds.set(kind.type, kind as unknown as ConfigKind);
    return this;
  }

  has(type: string): boolean {
    return this.#kinds.has(type);
  }

  get(type: string): ConfigKind {
    const kind = this.#kinds.get(type);
    if (kind === undefined) throw new ViaductError('VIA_ERR_VALIDATION', `Unknown configuration type ${type}`);
    return kind;
  }

  all(): ConfigKind[] {
    return [...this.#kinds.values()];
  }
}
