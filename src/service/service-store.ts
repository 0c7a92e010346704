import type { ConcreteServiceClass } from './service.js';

export interface ServiceEntry {
  readonly name: string;
  readonly cls: ConcreteServiceClass;
  /** The deployed file the service came from; undefined for the platform's own services. */
  readonly file: string | undefined;
  readonly timeout: number | undefined;
}

/**
 * Every service this worker can run, by name. A file's services are replaced in one synchronous
 * step, so an invocation sees either the old version or the new one, never a mix; invocations
 * already running keep the class they started with.
 */
export class ServiceStore {
  #byName = new Map<string, ServiceEntry>();
  #byFile = new Map<string, readonly string[]>();

  get(name: string): ServiceEntry | undefined {
    return this.#byName.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The services this worker serves from a deployed file. */
  servicesOf(file: string): readonly string[] {
    return this.#byFile.get(file) ?? [];
  }

  list(): ServiceEntry[] {
    return [...this.#byName.values()];
  }

  /** Replaces everything `file` provided with `entries`. */
  replaceFile(file: string, entries: readonly ServiceEntry[]): void {
    for (const name of this.#byFile.get(file) ?? []) this.#byName.delete(name);
    for (const entry of entries) {
      const previousFile = this.#byName.get(entry.name)?.file;
      if (previousFile !== undefined && previousFile !== file) this.#forget(previousFile, entry.name);
      this.#byName.set(entry.name, entry);
    }
    if (entries.length > 0)
      this.#byFile.set(
        file,
        entries.map((e) => e.name),
      );
    else this.#byFile.delete(file);
  }

  /** Removes one service; the file stays known while it still provides others. */
  remove(name: string): boolean {
    const entry = this.#byName.get(name);
    if (entry === undefined) return false;
    this.#byName.delete(name);
    if (entry.file !== undefined) this.#forget(entry.file, name);
    return true;
  }

  addInternal(entry: ServiceEntry): void {
    this.#byName.set(entry.name, entry);
  }

  #forget(file: string, name: string): void {
    const rest = (this.#byFile.get(file) ?? []).filter((n) => n !== name);
    if (rest.length > 0) this.#byFile.set(file, rest);
    else this.#byFile.delete(file);
  }
}
