import type { Logger } from 'pino';

export interface ConvergenceOptions {
  /** The version of the configuration and deployed code that the ODB holds now. */
  readonly readVersion: () => Promise<number>;
  /** Re-reads everything from the ODB (every feature's resync, in order). */
  readonly resync: () => Promise<void>;
  /** How often the ODB's version is compared with this worker's. */
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Told each time the version this worker has applied moves on. */
  readonly onApplied?: (version: number) => void;
}

/**
 * Keeps a worker's configuration and deployed code converging on the ODB's. Every change is
 * written with the next ODB version and broadcast with it; this worker notes the versions it
 * applies. A broadcast that skips a version (one was lost), or an ODB that stays ahead of this
 * worker for a whole interval (a broadcast lost with nothing after it, a stalled broker), makes
 * the worker re-read everything, so a committed change is in force everywhere within about two
 * intervals whatever happened to its broadcast.
 */
export class Convergence {
  readonly #options: ConvergenceOptions;
  #applied = 0;
  /** When the ODB was first seen ahead of this worker; undefined while it is not. */
  #behindSince: number | undefined;
  #catchingUp: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ConvergenceOptions) {
    this.#options = options;
  }

  /** The version this worker has applied: everything the ODB held at that version is in force here. */
  get applied(): number {
    return this.#applied;
  }

  /** Before the worker loads from the ODB: what it loads is at least this version. */
  async begin(): Promise<void> {
    this.#advance(await this.#options.readVersion());
  }

  /** After the first load: from now on the ODB is compared every interval. */
  watch(): void {
    this.#schedule();
  }

  /** A broadcast change of `version` has been applied here. */
  noteApplied(version: number): void {
    if (version <= this.#applied) return;
    if (version === this.#applied + 1) this.#advance(version);
    else
      this.catchUp('a change was missed').catch((error: Error) =>
        // The ODB cannot be read now (an outage): the next interval's check catches up.
        this.#options.logger.warn({ reason: error.message }, 'Could not catch up with the ODB'),
      );
  }

  /**
   * Re-reads everything from the ODB if it is ahead of this worker, or in any case with `force`
   * (the broker lost messages); one catch-up at a time, later callers share it.
   */
  catchUp(reason: string, force = false): Promise<void> {
    this.#catchingUp ??= this.#run(reason, force).finally(() => (this.#catchingUp = undefined));
    return this.#catchingUp;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #run(reason: string, force: boolean): Promise<void> {
    const target = await this.#options.readVersion();
    if (target <= this.#applied && !force) return;
    const started = performance.now();
    await this.#options.resync();
    this.#options.logger.info(
      { from: this.#applied, to: target, reason, ms: Math.round(performance.now() - started) },
      'Caught up with the ODB',
    );
    this.#advance(target);
  }

  #advance(version: number): void {
    if (version <= this.#applied) return;
    this.#applied = version;
    this.#behindSince = undefined;
    this.#options.onApplied?.(version);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check().finally(() => this.#schedule()), this.#options.intervalMs);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    try {
      const current = await this.#options.readVersion();
      if (current <= this.#applied) {
        this.#behindSince = undefined;
        return;
      }
      // A broadcast on its way is given one interval to arrive before the worker re-reads everything.
      const now = Date.now();
      this.#behindSince ??= now;
      if (now - this.#behindSince >= this.#options.intervalMs) await this.catchUp('the ODB is ahead of this worker');
    } catch (error) {
      // The ODB or a feature's resync failed (an outage): the next interval tries again.
      this.#options.logger.warn({ reason: (error as Error).message }, 'Could not compare with the ODB');
    }
  }
}
