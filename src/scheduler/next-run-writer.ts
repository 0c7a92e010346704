import type { Logger } from 'pino';
import type { Clock } from './clock.js';

/** Changes are written together, this soon after the first of them. */
const FLUSH_DELAY_MS = 20;

export type SaveNext = (
  updates: ReadonlyArray<{ readonly jobId: string; readonly nextRunAt: number | null }>,
) => Promise<void>;

/**
 * Writes where jobs' schedules stand (their next fire time, or null) to the ODB for the
 * scheduler: the jobs marked within a few milliseconds go in one write, one write at a time,
 * and a failed write is tried again with whatever was marked since.
 */
export class NextRunWriter {
  readonly #clock: Clock;
  readonly #save: SaveNext;
  /** The value to write for a job, read when the write happens. */
  readonly #nextOf: (jobId: string) => number | null;
  readonly #logger: Logger;
  readonly #marked = new Set<string>();
  #timer: unknown;
  #writing: Promise<void> | undefined;
  #stopped = false;

  constructor(clock: Clock, save: SaveNext, nextOf: (jobId: string) => number | null, logger: Logger) {
    this.#clock = clock;
    this.#save = save;
    this.#nextOf = nextOf;
    this.#logger = logger;
  }

  mark(jobId: string): void {
    this.#stopped = false;
    this.#marked.add(jobId);
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      void this.flush();
    }, FLUSH_DELAY_MS);
  }

  /** A deleted job: nothing to write for it. */
  forget(jobId: string): void {
    this.#marked.delete(jobId);
  }

  /** Writes what is marked now, after any write in progress. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    const updates = [...this.#marked].map((jobId) => ({ jobId, nextRunAt: this.#nextOf(jobId) }));
    this.#marked.clear();
    if (updates.length === 0) return;
    this.#writing = this.#save(updates).catch((error: unknown) => {
      this.#logger.warn({ reason: (error as Error).message }, 'Scheduler: next fire times were not written; retrying');
      if (!this.#stopped) for (const update of updates) this.mark(update.jobId);
    });
    try {
      await this.#writing;
    } finally {
      this.#writing = undefined;
    }
  }

  /** Writes what is marked, then no more retries. */
  async stop(): Promise<void> {
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#stopped = true;
  }
}
