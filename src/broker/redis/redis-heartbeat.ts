import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BroadcastTracker } from './redis-broadcast-tracker.js';
import type { DispatchConsumer } from './redis-dispatch-consumer.js';
import type { DispatchStream } from './redis-dispatch-stream.js';
import type { RedisMembership } from './redis-membership.js';
import type { RecentDeliveries } from './redis-recent-deliveries.js';

export interface HeartbeatParts {
  readonly command: Redis;
  /** Pinged once a heartbeat: a subscription hears nothing while nobody publishes, so its silence shows only so. */
  readonly subscriber: Redis;
  readonly member: string;
  readonly membership: RedisMembership;
  readonly broadcasts: BroadcastTracker;
  readonly recent: RecentDeliveries;
  readonly stream: DispatchStream;
  readonly consumer: DispatchConsumer;
}

/** Group consumers are tidied once in this many heartbeats: they only cost a little memory. */
const TIDY_EVERY = 30;

/**
 * Once a heartbeat: say this member is alive, stop waiting for members that are not, keep the
 * entries this member works on from looking abandoned, and take over those that are.
 */
export class RedisHeartbeat {
  readonly #parts: HeartbeatParts;
  readonly #deadAfterMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #beating = false;
  #pinging = false;
  #beats = 0;

  constructor(parts: HeartbeatParts, deadAfterMs: number, logger: Logger) {
    this.#parts = parts;
    this.#deadAfterMs = deadAfterMs;
    this.#logger = logger;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.#beat(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A subscription that fell silent is dropped by its socket timeout, and its recovery re-reads what it missed. */
  #ping(): void {
    const { subscriber } = this.#parts;
    if (this.#pinging || subscriber.status !== 'ready') return;
    this.#pinging = true;
    subscriber
      .ping()
      .catch(() => undefined)
      .finally(() => (this.#pinging = false));
  }

  async #beat(): Promise<void> {
    this.#ping();
    const { command, member, membership, broadcasts, recent, stream, consumer } = this.#parts;
    // While Redis is away, commands would only pile up behind the outage; one beat at a time.
    if (this.#beating || command.status !== 'ready') return;
    this.#beating = true;
    try {
      await membership.beat();
      if (broadcasts.hasPending) broadcasts.keepOnly((await membership.alive()).add(member));
      recent.prune();
      await stream.keepClaimed(consumer.inFlight);
      await consumer.claimAbandoned();
      if (++this.#beats % TIDY_EVERY === 0) await stream.dropGoneConsumers(2 * this.#deadAfterMs);
    } catch (error) {
      if (this.#timer !== undefined)
        this.#logger.warn({ reason: (error as Error).message }, 'A broker heartbeat failed');
    } finally {
      this.#beating = false;
    }
  }
}
