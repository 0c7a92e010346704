import { ViaductError } from '../errors.js';

/** Why and since when a service is quarantined. */
export interface QuarantineEntry {
  readonly name: string;
  readonly why: string;
  /** ISO 8601. */
  readonly since: string;
}

/**
 * The services this worker refuses to run, as its primary last said. The primary decides (it
 * sees every worker of the server go down); a worker only applies the list it is sent, whole.
 */
export class QuarantineList {
  #byName = new Map<string, QuarantineEntry>();

  replace(entries: readonly QuarantineEntry[]): void {
    this.#byName = new Map(entries.map((e) => [e.name, e]));
  }

  get(name: string): QuarantineEntry | undefined {
    return this.#byName.get(name);
  }

  get size(): number {
    return this.#byName.size;
  }

  /** The error an invocation of a quarantined service gets. */
  static refusal(entry: QuarantineEntry): ViaductError {
    return new ViaductError(
      'VIA_ERR_SERVICE_QUARANTINED',
      `Service ${entry.name} is quarantined since ${entry.since} (${entry.why}); ` +
        'redeploy it or release it with viaduct.service.release',
      { details: { service: entry.name, why: entry.why, since: entry.since } },
    );
  }
}
