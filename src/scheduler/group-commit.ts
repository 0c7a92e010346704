interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while a flush is running wait and go together in the next one.
 * Idle, an item goes at once (on the next turn of the event loop, with whatever else arrived in
 * the same turn); under load, one ODB transaction carries many items instead of one each.
 */
export class GroupCommit<I, O> {
  readonly #flush: (items: I[]) => Promise<O[]>;
  readonly #maxBatch: number;
  readonly #minIntervalMs: number;
  #lastFlush = Number.NEGATIVE_INFINITY;
  #queue: Array<Waiting<I, O>> = [];
  #draining: Promise<void> | undefined;

  /**
   * `flush` answers with one output per item, in order. `minIntervalMs`: a flush starts at least
   * this long after the one before, so that under load items gather into fewer flushes.
   */
  constructor(flush: (items: I[]) => Promise<O[]>, maxBatch = 1_000, minIntervalMs = 0) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
    this.#minIntervalMs = minIntervalMs;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      // #drain keeps the minimum interval between flushes itself.
      this.#draining ??= new Promise<void>((done) => setImmediate(() => void this.#drain().then(done)));
    });
  }

  /** Resolves once everything submitted so far is flushed. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  #waitMs(): number {
    return this.#lastFlush + this.#minIntervalMs - performance.now();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // A timer counts from the event loop's cached time, which lags behind when the turn that
        // set it was busy, so it can fire a little early: wait until the interval truly passed.
        for (let wait = this.#waitMs(); wait > 0; wait = this.#waitMs())
          await new Promise((resolve) => setTimeout(resolve, wait));
        this.#lastFlush = performance.now();
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const outputs = await this.#flush(batch.map((w) => w.item));
          batch.forEach((waiting, i) => waiting.resolve(outputs[i]!));
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
