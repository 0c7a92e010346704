import type { BrokerMessage } from '../broker/broker.js';
import { ViaductError } from '../errors.js';
import type { ActionHandler } from '../feature/worker-context.js';

/**
 * The broker actions a worker handles, built once at start from its features and closed after:
 * an action claimed twice stops the worker from starting, and a message naming an action that
 * nothing claimed is answered with VIA_ERR_UNKNOWN_ACTION rather than dropped.
 */
export class ActionTable {
  readonly #handlers = new Map<string, { readonly owner: string; readonly handle: ActionHandler }>();
  #closed = false;

  add(owner: string, action: string, handle: ActionHandler): void {
    if (this.#closed) throw new Error(`The action table is closed; ${owner} cannot add ${action}`);
    const existing = this.#handlers.get(action);
    if (existing !== undefined)
      throw new Error(`The broker action ${action} is claimed by both ${existing.owner} and ${owner}`);
    this.#handlers.set(action, { owner, handle });
  }

  close(): void {
    this.#closed = true;
  }

  async handle(message: BrokerMessage): Promise<unknown> {
    const entry = this.#handlers.get(message.action);
    if (entry === undefined)
      throw new ViaductError(
        'VIA_ERR_UNKNOWN_ACTION',
        `No feature handles the broker action ${JSON.stringify(message.action)}`,
      );
    return entry.handle(message);
  }
}
