/**
 * The bytes of request bodies a worker may hold at once while it reads them, across every request
 * in flight. Each body has its own limit (a channel's max_body_size), but many clients that each
 * send most of a large body and then wait would otherwise grow the worker without bound; past this
 * budget a body is refused (VIA_ERR_SERVER_BUSY) and its bytes are dropped at once.
 */
export class BodyBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now by bodies being read. */
  get used(): number {
    return this.#used;
  }

  /** Whether `bytes` more may be held; if so they are counted until given back. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** For callers with no budget of their own (tests, tools): nothing is ever refused. */
export const UNLIMITED_BUDGET = new BodyBudget(Number.POSITIVE_INFINITY);
