import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { publishChange } from '../broker/publish-change.js';
import type { Actor } from '../odb/audit-log.js';
import type { ConfigDraft, ConfigChange, ConfigWriter } from './config-writer.js';

export const CONFIG_CHANGED = 'config.changed';

/**
 * Writes configuration and puts it in force: one ODB transaction, then a broadcast that resolves
 * once every worker applied the change, so an admin call returns with the change live everywhere.
 * What it answers when the ODB or a worker does not answer in time: docs/architecture.md, "What
 * an admin change answers".
 */
export class ConfigAdmin {
  readonly #writer: ConfigWriter;
  readonly #broker: Broker;
  readonly #confirmMs: number;
  readonly #logger: Logger;

  constructor(writer: ConfigWriter, broker: Broker, options: { confirmMs: number; logger: Logger }) {
    this.#writer = writer;
    this.#broker = broker;
    this.#confirmMs = options.confirmMs;
    this.#logger = options.logger;
  }

  /** `actor` (who asked, under which cid) goes to the audit log with what changed. */
  async commit<T>(mutate: (draft: ConfigDraft) => T, actor: Actor): Promise<{ result: T; changes: ConfigChange[] }> {
    const { result, changes, version } = await this.#writer.commit(mutate, actor);
    // The version lets a worker see that it missed a change (a lost broadcast) and catch up.
    if (changes.length > 0)
      await publishChange(this.#broker, { action: CONFIG_CHANGED, changes, version }, this.#confirmMs, this.#logger);
    return { result, changes };
  }
}
