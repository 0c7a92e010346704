import type { Broker } from '../broker/broker.js';
import type { ConfigDraft, ConfigChange, ConfigWriter } from './config-writer.js';

export const CONFIG_CHANGED = 'config.changed';

/**
 * Writes configuration and puts it in force: one ODB transaction, then a broadcast that resolves
 * once every worker applied the change, so an admin call returns with the change live everywhere.
 */
export class ConfigAdmin {
  readonly #writer: ConfigWriter;
  readonly #broker: Broker;

  constructor(writer: ConfigWriter, broker: Broker) {
    this.#writer = writer;
    this.#broker = broker;
  }

  async commit<T>(mutate: (draft: ConfigDraft) => T): Promise<{ result: T; changes: ConfigChange[] }> {
    const outcome = await this.#writer.commit(mutate);
    if (outcome.changes.length > 0) await this.#broker.broadcast({ action: CONFIG_CHANGED, changes: outcome.changes });
    return outcome;
  }
}
