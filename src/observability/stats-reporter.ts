import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { PrimaryLink } from '../feature/server-part.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import { minuteOf, REPORT_EVERY_MS, STATS_REPORT } from './stats-messages.js';

/**
 * Sends the worker's figures to its primary at every REPORT_EVERY_MS boundary of the clock (so a
 * report's period lies within one minute), and once more when the worker stops. Nothing of this
 * runs on a request's path.
 */
export class StatsReporter {
  readonly #recorder: StatsRecorder;
  readonly #primary: PrimaryLink;
  readonly #logger: Logger;
  readonly #process = new Registry();
  #periodStart = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(recorder: StatsRecorder, primary: PrimaryLink, logger: Logger) {
    this.#recorder = recorder;
    this.#primary = primary;
    this.#logger = logger;
    collectDefaultMetrics({ register: this.#process });
  }

  start(): void {
    this.#schedule();
  }

  /** The last period's figures, then no more. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#report();
  }

  #schedule(): void {
    const now = Date.now();
    this.#timer = setTimeout(
      () => {
        void this.#report().finally(() => {
          if (this.#timer !== undefined) this.#schedule();
        });
      },
      REPORT_EVERY_MS - (now % REPORT_EVERY_MS),
    );
    this.#timer.unref();
  }

  async #report(): Promise<void> {
    const minute = minuteOf(this.#periodStart);
    const entries = this.#recorder.take();
    this.#periodStart = Date.now();
    try {
      const process = await this.#process.getMetricsAsJSON();
      this.#primary.notify(STATS_REPORT, { minute, entries, process });
    } catch (error) {
      this.#logger.warn({ err: error }, 'Statistics could not be reported');
    }
  }
}
