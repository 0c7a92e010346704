import type { Logger } from 'pino';
import type { PrimaryLink } from '../feature/server-part.js';
import type { StatsRecorder } from '../stats/stats-recorder.js';
import { minuteOf, REPORT_EVERY_MS, STATS_REPORT, type WorkerProcessFigures } from './stats-messages.js';

/** The worker process's own figures, read at each report. */
function processFigures(): WorkerProcessFigures {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    residentBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
  };
}

/**
 * Sends the worker's figures to its primary at every REPORT_EVERY_MS boundary of the clock (so a
 * report's period lies within one minute), and once more when the worker stops. Nothing of this
 * runs on a request's path.
 */
export class StatsReporter {
  readonly #recorder: StatsRecorder;
  readonly #primary: PrimaryLink;
  readonly #logger: Logger;
  #periodStart = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(recorder: StatsRecorder, primary: PrimaryLink, logger: Logger) {
    this.#recorder = recorder;
    this.#primary = primary;
    this.#logger = logger;
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

  // Read when reporting, every 10 s: nothing runs in the worker between reports (prom-client's
  // default metrics would watch the event loop every 10 ms and every garbage collection).
  async #report(): Promise<void> {
    const minute = minuteOf(this.#periodStart);
    const entries = this.#recorder.take();
    this.#periodStart = Date.now();
    try {
      this.#primary.notify(STATS_REPORT, { minute, entries, process: processFigures() });
    } catch (error) {
      this.#logger.warn({ err: error }, 'Statistics could not be reported');
    }
  }
}
