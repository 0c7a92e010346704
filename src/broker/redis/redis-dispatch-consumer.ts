import type { Logger } from 'pino';
import { setTimeout as delay } from 'node:timers/promises';
import type { DispatchStream, StreamEntry } from './redis-dispatch-stream.js';

export interface DispatchConsumerOptions {
  /** Entries handled at once by this member; reading pauses while it is reached. */
  readonly concurrency: number;
  /** How long one XREADGROUP blocks; it bounds nothing but the number of round trips. */
  readonly blockMs: number;
  /** An entry left untouched this long is taken over: its member is gone (a living one refreshes its own). */
  readonly claimIdleMs: number;
}

/**
 * Reads this member's share of the dispatch stream and hands each entry to `handle`, which
 * must finish it (result sent, entry done). It reads only once the member is ready: an entry
 * read earlier would sit pending here and be taken over as if this member had died.
 */
export class DispatchConsumer {
  readonly #stream: DispatchStream;
  readonly #handle: (entry: StreamEntry) => Promise<void>;
  readonly #options: DispatchConsumerOptions;
  readonly #logger: Logger;
  readonly #inFlight = new Map<string, Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    stream: DispatchStream,
    handle: (entry: StreamEntry) => Promise<void>,
    options: DispatchConsumerOptions,
    logger: Logger,
  ) {
    this.#stream = stream;
    this.#handle = handle;
    this.#options = options;
    this.#logger = logger;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#readLoop();
  }

  /** Entries being handled here, whose idle time must be kept low. */
  get inFlight(): string[] {
    return [...this.#inFlight.keys()];
  }

  /** Takes over what dead members left behind; called on every heartbeat. */
  async claimAbandoned(): Promise<void> {
    const room = this.#options.concurrency - this.#inFlight.size;
    if (!this.#running || room <= 0) return;
    for (const entry of await this.#stream.claimIdle(this.#options.claimIdleMs, room)) {
      if (!this.#inFlight.has(entry.entryId)) this.#run(entry);
    }
  }

  /** Stops reading and waits up to `graceMs` for the entries in hand. */
  async stop(graceMs: number): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stream.stopReading();
    // The loop may itself be waiting for a handler (all slots taken): bound both by the grace.
    await Promise.race([
      Promise.allSettled([this.#loop, ...this.#inFlight.values()]),
      delay(graceMs, undefined, { ref: false }),
    ]);
  }

  async #readLoop(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      if (this.#inFlight.size >= this.#options.concurrency) {
        await Promise.race(this.#inFlight.values());
        continue;
      }
      try {
        const entries = await this.#stream.read(this.#options.concurrency - this.#inFlight.size, this.#options.blockMs);
        failures = 0;
        for (const entry of entries) this.#run(entry);
      } catch (error) {
        if (!this.#running) return;
        failures++;
        await this.#recover(error as Error, failures);
      }
    }
  }

  /** After Redis lost the stream, the group is gone too (NOGROUP): make it again and read on. */
  async #recover(error: Error, failures: number): Promise<void> {
    if (failures === 1) this.#logger.warn({ reason: error.message }, 'Reading the dispatch stream failed; retrying');
    await delay(Math.min(50 * 2 ** failures, 2000));
    if (this.#running && String(error.message).startsWith('NOGROUP'))
      await this.#stream.ensureGroup().catch(() => undefined);
  }

  #run(entry: StreamEntry): void {
    const running = this.#handle(entry)
      .catch((error: Error) =>
        this.#logger.error(
          { entry: entry.entryId, reason: error.message },
          'A dispatched message could not be finished',
        ),
      )
      .finally(() => this.#inFlight.delete(entry.entryId));
    this.#inFlight.set(entry.entryId, running);
  }
}
