import { ViaductError, type SerializedError } from '../../errors.js';

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export interface WaitOptions {
  /** Fails the request with VIA_ERR_TIMEOUT when no reply came within this long; none by default. */
  readonly timeoutMs?: number;
  /** Fails the request with the signal's reason (a coded error) once it is aborted. */
  readonly signal?: AbortSignal;
}

/** An end's requests still waiting for their reply, by id; the one place a reply is matched. */
export class PendingReplies {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  /** A new request id and the promise its reply settles. */
  open(name: string, options: WaitOptions = {}): { id: number; reply: Promise<unknown> } {
    const id = this.#nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const { timeoutMs, signal } = options;
      if (signal?.aborted) return reject(abortReason(signal));
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => this.fail(id, new ViaductError('VIA_ERR_TIMEOUT', `No reply to ${name} within ${timeoutMs} ms`)),
              timeoutMs,
            );
      // A request alone must not keep a process alive that has nothing else to do.
      timer?.unref();
      const onAbort = () => this.fail(id, abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, { resolve, reject, timer, signal, onAbort });
    });
    return { id, reply };
  }

  /** Settles request `id` with its reply; a late or unknown reply is ignored. */
  settle(id: number, outcome: { readonly result?: unknown; readonly error?: SerializedError }): void {
    const pending = this.#take(id);
    if (pending === undefined) return;
    // The error is rebuilt from its code, so it surfaces here as the same coded error it was there.
    if (outcome.error !== undefined) pending.reject(ViaductError.fromJSON(outcome.error));
    else pending.resolve(outcome.result);
  }

  fail(id: number, error: Error): void {
    this.#take(id)?.reject(error);
  }

  failAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) this.fail(id, error);
  }

  /** Whether request `id` still waits (it does not if it was cancelled before it was sent). */
  has(id: number): boolean {
    return this.#pending.has(id);
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.signal?.removeEventListener('abort', pending.onAbort);
    return pending;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The request was cancelled');
}
