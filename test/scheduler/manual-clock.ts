import type { Clock } from '../../src/scheduler/clock.js';

/** A clock the test moves by hand; timers run when time reaches them, in order. */
export class ManualClock implements Clock {
  #now: number;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, running each timer at its due time, and lets promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      let earliest: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].at <= end && (earliest === undefined || entry[1].at < earliest[1].at)) earliest = entry;
      if (earliest === undefined) break;
      this.#timers.delete(earliest[0]);
      this.#now = Math.max(this.#now, earliest[1].at);
      earliest[1].callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /**
   * Jumps forward by `ms` without running anything on the way, as when the process stood still;
   * then runs what is due.
   */
  async stall(ms: number): Promise<void> {
    this.#now += ms;
    await this.advance(0);
  }
}

export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
