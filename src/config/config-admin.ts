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
    const { result, changes, version } = await this.#writer.commit(mutate);
    // The version lets a worker see that it missed a change (a lost broadcast) and catch up.
    if (changes.length > 0) await this.#broker.broadcast({ action: CONFIG_CHANGED, changes, version });
    return { result, changes };
  }
}
