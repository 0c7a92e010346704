import { ViaductError } from '../../errors.js';
import { PendingRequests } from './redis-pending-requests.js';
import type { DispatchEntry, Outcome } from './redis-protocol.js';

interface PendingDispatch {
  readonly entry: DispatchEntry;
  /** Where the entry sits in the stream; undefined while XADD has not answered. */
  entryId: string | undefined;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The sender's side of its dispatches: each one waits for a result, and remembers its stream
 * entry so it can be added again if Redis lost it.
 */
export class DispatchTracker {
  readonly #pending = new PendingRequests<PendingDispatch>();

  track(entry: DispatchEntry, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The entry stays in the stream: at-least-once means the work may still be done.
        this.fail(
          entry.id,
          new ViaductError('VIA_ERR_TIMEOUT', `No member finished ${entry.message.action} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      timer.unref();
      this.#pending.set(entry.id, { entry, entryId: undefined, timer, resolve, reject });
    });
  }

  added(id: string, entryId: string): void {
    const pending = this.#pending.get(id);
    if (pending !== undefined) pending.entryId = entryId;
  }

  settle(id: string, outcome: Outcome): void {
    const pending = this.#pending.take(id);
    if (pending === undefined) return;
    if (outcome.error !== undefined) pending.reject(ViaductError.fromJSON(outcome.error));
    else pending.resolve(outcome.result);
  }

  /** Dispatches already in the stream and still without a result. */
  inStream(): Array<{ entry: DispatchEntry; entryId: string }> {
    return [...this.#pending.values()]
      .filter((p) => p.entryId !== undefined)
      .map((p) => ({ entry: p.entry, entryId: p.entryId! }));
  }

  fail(id: string, error: Error): void {
    this.#pending.fail(id, error);
  }

  failAll(error: Error): void {
    this.#pending.failAll(error);
  }
}
