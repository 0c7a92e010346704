import type { Logger } from 'pino';
import type { Odb } from '../odb/database.js';

export interface LeaseTiming {
  /** How often the holder renews and contenders look. */
  readonly intervalMs: number;
  /** How long a lease may go unrenewed before a contender takes it. */
  readonly staleMs: number;
}

export interface LeaseEvents {
  /** This server became the singleton under `generation`. */
  acquired(generation: number): void;
  /** This server stopped being the singleton (lost, paused too long, or stopping). */
  lost(generation: number, reason: string): void;
}

type Clock = () => number;

/**
 * The singleton lease: one row in the ODB with a holder, a generation and a heartbeat counter.
 *
 * No clocks are compared across hosts. A contender takes the lease only after it has seen the
 * counter stand still for `staleMs` by its own clock, and takes it with a compare-and-swap on
 * (generation, beat), so two contenders cannot both win. The holder fences itself: it acts as
 * singleton only while its last successful renewal is younger than `staleMs - intervalMs`, so a
 * holder that paused (or lost the ODB) stops before anyone else could have taken over.
 */
export class SingletonLease {
  readonly #db: Odb;
  readonly #holder: string;
  readonly #timing: LeaseTiming;
  readonly #events: LeaseEvents;
  readonly #logger: Logger;
  readonly #now: Clock;
  #timer: NodeJS.Timeout | undefined;
  #generation: number | undefined;
  #lastRenewed = 0;
  #seen: { generation: number; beat: number; at: number } | undefined;
  #ticking = false;

  constructor(
    db: Odb,
    holder: string,
    timing: LeaseTiming,
    events: LeaseEvents,
    logger: Logger,
    now: Clock = Date.now,
  ) {
    this.#db = db;
    this.#holder = holder;
    this.#timing = timing;
    this.#events = events;
    this.#logger = logger;
    this.#now = now;
  }

  get holder(): string {
    return this.#holder;
  }

  /** The generation this server holds the lease under, while it may act as singleton. */
  get generation(): number | undefined {
    return this.isSingleton() ? this.#generation : undefined;
  }

  isSingleton(): boolean {
    return (
      this.#generation !== undefined && this.#now() - this.#lastRenewed < this.#timing.staleMs - this.#timing.intervalMs
    );
  }

  start(): void {
    void this.tick();
    this.#timer = setInterval(() => {
      this.fence();
      void this.tick();
    }, this.#timing.intervalMs);
    this.#timer.unref();
  }

  /**
   * Stops acting as singleton once the last renewal is too old. Checked on every interval, apart
   * from the tick: a renewal the ODB never answers keeps the tick waiting, and the work must stop
   * all the same before another server may take the lease. Public for tests.
   */
  fence(): void {
    if (this.#generation !== undefined && !this.isSingleton()) this.#drop('the lease was not renewed in time');
  }

  /** One step: renew if holding, else watch the holder and take over a stale lease. Public for tests. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      this.fence();
      if (this.#generation !== undefined) await this.#renew();
      else await this.#contend();
    } catch (error) {
      this.#logger.warn({ reason: (error as Error).message }, 'Singleton lease: the ODB did not answer');
      if (this.#generation !== undefined && !this.isSingleton()) this.#drop('the ODB did not answer in time');
    } finally {
      this.#ticking = false;
    }
  }

  /** Stops, giving the lease up (if this holder still has it) so another server takes it at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#drop('stopping', true);
    await this.#db
      .updateTable('singleton_lease')
      .set({ holder: null })
      .where('id', '=', 1)
      .where('holder', '=', this.#holder)
      .execute()
      .catch(() => undefined);
  }

  async #renew(): Promise<void> {
    const generation = this.#generation!;
    const result = await this.#db
      .updateTable('singleton_lease')
      .set((eb) => ({ beat: eb('beat', '+', 1) }))
      .where('id', '=', 1)
      .where('holder', '=', this.#holder)
      .where('generation', '=', generation)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) this.#lastRenewed = this.#now();
    else this.#drop(`another server holds the lease now`);
  }

  async #contend(): Promise<void> {
    const row = await this.#db.selectFrom('singleton_lease').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    const generation = Number(row.generation);
    const beat = Number(row.beat);
    const now = this.#now();
    const unchanged = this.#seen !== undefined && this.#seen.generation === generation && this.#seen.beat === beat;
    if (!unchanged) this.#seen = { generation, beat, at: now };
    // Still in this holder's name: it stopped acting on it (a renewal that came too late), and
    // nobody took it since, so it takes it back at once under a new generation.
    const free = row.holder === null || row.holder === this.#holder;
    const stale = unchanged && now - this.#seen!.at >= this.#timing.staleMs;
    if (!free && !stale) return;
    const taken = await this.#db
      .updateTable('singleton_lease')
      .set({ holder: this.#holder, generation: generation + 1, beat: 0 })
      .where('id', '=', 1)
      .where('generation', '=', generation)
      .where('beat', '=', beat)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) return;
    this.#generation = generation + 1;
    this.#lastRenewed = this.#now();
    this.#seen = undefined;
    await this.#db
      .insertInto('singleton_history')
      .values({ generation: generation + 1, holder: this.#holder, acquired_at: new Date().toISOString() })
      .execute();
    this.#logger.info(
      {
        generation: generation + 1,
        previous: row.holder,
        reason: row.holder === null ? 'free' : row.holder === this.#holder ? 'its own' : 'stale',
      },
      'This server is now the singleton',
    );
    this.#events.acquired(generation + 1);
  }

  /** `orderly`: this server gives the lease up as it stops, which is no cause for a warning. */
  #drop(reason: string, orderly = false): void {
    const generation = this.#generation;
    if (generation === undefined) return;
    this.#generation = undefined;
    if (orderly) this.#logger.info({ generation, reason }, 'This server gave up the singleton role');
    else this.#logger.warn({ generation, reason }, 'This server is no longer the singleton');
    this.#events.lost(generation, reason);
  }
}
