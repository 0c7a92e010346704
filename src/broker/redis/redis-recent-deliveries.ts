import type { Outcome } from './redis-protocol.js';

/** What a member knows about a delivery it may have seen before. */
export type Seen =
  { readonly state: 'new' } | { readonly state: 'running' } | { readonly state: 'done'; readonly outcome: Outcome };

/**
 * The deliveries this member handled lately, by request id. After a reconnection the same
 * broadcast can come twice (published again, sent again to this member); a member that has
 * applied it answers again with the same outcome instead of applying it a second time. Only
 * small outcomes belong here (an ack's error), as they are kept for `keepMs`.
 */
export class RecentDeliveries {
  readonly #entries = new Map<string, { outcome: Outcome | undefined; at: number }>();
  readonly #keepMs: number;

  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  /** Marks `key` as running if it is new; says what was known before. */
  begin(key: string): Seen {
    const known = this.#entries.get(key);
    if (known === undefined) {
      this.#entries.set(key, { outcome: undefined, at: Date.now() });
      return { state: 'new' };
    }
    return known.outcome === undefined ? { state: 'running' } : { state: 'done', outcome: known.outcome };
  }

  finish(key: string, outcome: Outcome): void {
    this.#entries.set(key, { outcome, at: Date.now() });
  }

  /** Forgets what is older than any sender still waits (a finished one) or could redeliver. */
  prune(): void {
    const before = Date.now() - this.#keepMs;
    for (const [key, known] of this.#entries) {
      if (known.at < before && known.outcome !== undefined) this.#entries.delete(key);
    }
  }
}
