/** A worker that dies sooner than this after starting is restarted with a growing delay. */
const CRASH_LOOP_MS = 2_000;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;

/**
 * How long to wait before replacing a worker that died: at once, unless workers die soon after
 * starting (a crash loop), which would otherwise fork as fast as the machine allows.
 */
export class RestartBackoff {
  #delayMs = 0;

  /** The delay before replacing a worker that started at `startedAt` and died just now. */
  next(startedAt: Date | undefined): number {
    const lived = startedAt === undefined ? 0 : Date.now() - startedAt.getTime();
    this.#delayMs = lived < CRASH_LOOP_MS ? Math.min(Math.max(this.#delayMs * 2, FIRST_DELAY_MS), MAX_DELAY_MS) : 0;
    return this.#delayMs;
  }
}
