import { combineErrors } from '../broker-errors.js';
import { ViaductError, type SerializedError } from '../../errors.js';
import type { BrokerMessage } from '../broker.js';
import { PendingRequests } from './redis-pending-requests.js';

interface PendingBroadcast {
  readonly message: BrokerMessage;
  /** Members that have not acknowledged; undefined until the sender knows who is alive. */
  waiting: Set<string> | undefined;
  readonly errors: SerializedError[];
  readonly timer: NodeJS.Timeout;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The sender's side of its broadcasts: who still has to acknowledge each one. A broadcast is
 * done when every member alive at sending time has acknowledged, died or left.
 */
export class BroadcastTracker {
  readonly #pending = new PendingRequests<PendingBroadcast>();

  /** Starts the clock on a broadcast; it waits for nobody until `expect()` names the members. */
  track(id: string, message: BrokerMessage, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#timeOut(id, timeoutMs), timeoutMs);
      timer.unref();
      this.#pending.set(id, { message, waiting: undefined, errors: [], timer, resolve, reject });
    });
  }

  expect(id: string, members: ReadonlySet<string>): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    pending.waiting = new Set(members);
    this.#finishIfDone(id, pending);
  }

  ack(id: string, member: string, error: SerializedError | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined || pending.waiting?.delete(member) !== true) return;
    if (error !== undefined) pending.errors.push(error);
    this.#finishIfDone(id, pending);
  }

  /** Stops waiting for members that are no longer alive (or have said goodbye). */
  keepOnly(alive: ReadonlySet<string>): void {
    for (const [id, pending] of this.#pending) {
      if (pending.waiting === undefined) continue;
      for (const member of pending.waiting) if (!alive.has(member)) pending.waiting.delete(member);
      this.#finishIfDone(id, pending);
    }
  }

  forget(member: string): void {
    for (const [id, pending] of this.#pending) {
      if (pending.waiting?.delete(member) === true) this.#finishIfDone(id, pending);
    }
  }

  /** The broadcasts still waiting for `member`, to send again to it after it reconnected. */
  waitingFor(member: string): Array<{ id: string; message: BrokerMessage }> {
    return [...this.#pending]
      .filter(([, p]) => p.waiting?.has(member) === true)
      .map(([id, p]) => ({ id, message: p.message }));
  }

  /** Every unfinished broadcast, to publish again after this member's own reconnection. */
  unfinished(): Array<{ id: string; message: BrokerMessage }> {
    return [...this.#pending].filter(([, p]) => p.waiting !== undefined).map(([id, p]) => ({ id, message: p.message }));
  }

  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  fail(id: string, error: Error): void {
    this.#pending.fail(id, error);
  }

  failAll(error: Error): void {
    this.#pending.failAll(error);
  }

  #timeOut(id: string, timeoutMs: number): void {
    const missing = this.#pending.get(id)?.waiting?.size;
    const who = missing === undefined ? 'Redis did not answer' : `No acknowledgement from ${missing} member(s)`;
    this.fail(id, new ViaductError('VIA_ERR_CONFIG_APPLY', `${who} within ${timeoutMs} ms`));
  }

  #finishIfDone(id: string, pending: PendingBroadcast): void {
    if (pending.waiting === undefined || pending.waiting.size > 0) return;
    this.#pending.take(id);
    if (pending.errors.length === 0) pending.resolve();
    else pending.reject(combineErrors(pending.errors, 'members'));
  }
}
