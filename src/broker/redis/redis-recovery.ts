import type { Logger } from 'pino';
import type { BroadcastTracker } from './redis-broadcast-tracker.js';
import type { ConnectionRole } from './redis-connections.js';
import type { DispatchStream } from './redis-dispatch-stream.js';
import type { DispatchTracker } from './redis-dispatch-tracker.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisMembership } from './redis-membership.js';
import { decodeWire, type Wire } from './redis-protocol.js';

export interface RecoveryParts {
  readonly member: string;
  readonly keys: RedisKeys;
  readonly membership: RedisMembership;
  readonly stream: DispatchStream;
  readonly broadcasts: BroadcastTracker;
  readonly dispatches: DispatchTracker;
  publish(channel: string, wire: Wire): Promise<void>;
  subscribe(): Promise<void>;
  /** Has the worker reload its state: what pub/sub dropped meanwhile is in the ODB. */
  resync(): void;
  /** False once the broker is closed: a reconnection then needs no recovery. */
  isOpen(): boolean;
}

/**
 * What a member does after an outage. Pub/sub dropped whatever was published meanwhile, and a
 * Redis that restarted without persistence lost the stream, the group and the members: all of
 * it is rebuilt, and no broadcast or dispatch of a living sender is lost.
 */
export class RedisRecovery {
  readonly #parts: RecoveryParts;
  readonly #logger: Logger;
  /** Recoveries run one after another, so two reconnections never add the same dispatch twice. */
  #chain: Promise<void> = Promise.resolve();

  constructor(parts: RecoveryParts, logger: Logger) {
    this.#parts = parts;
    this.#logger = logger;
  }

  /** A connection is back. The reader needs nothing: its loop retries (and re-creates the group) by itself. */
  reconnected(role: ConnectionRole): void {
    if (role === 'reader' || !this.#parts.isOpen()) return;
    this.#chain = this.#chain
      .then(() => this.#recover(role))
      .catch((error: Error) => {
        if (this.#parts.isOpen())
          this.#logger.error(
            { connection: role, reason: error.message },
            'Recovering after a reconnection to Redis failed',
          );
      });
  }

  /** Another member is back: send it again the broadcasts that still wait for it, as it may have missed them. */
  hello(member: string): void {
    const { keys, broadcasts, publish } = this.#parts;
    if (member === this.#parts.member) return;
    for (const { id, message } of broadcasts.waitingFor(member)) {
      publish(keys.inbox(member), { kind: 'deliver', id, from: this.#parts.member, message }).catch(() => undefined);
    }
  }

  async #recover(role: ConnectionRole): Promise<void> {
    const { member, keys, membership, stream, broadcasts, publish } = this.#parts;
    if (role === 'subscriber') {
      await this.#parts.subscribe();
      // Others send again what waits for this member; this member publishes again what waits for others.
      await publish(keys.broadcast, { kind: 'hello', member });
      for (const { id, message } of broadcasts.unfinished())
        await publish(keys.broadcast, { kind: 'broadcast', id, from: member, message });
      this.#parts.resync();
    } else {
      await stream.ensureGroup();
      await membership.beat();
    }
    await this.#findLostDispatches();
  }

  /**
   * A dispatch not in the stream any more was either finished (its result may have been
   * published while this member could not hear it, so read the kept one) or lost with a Redis
   * that restarted: add it again.
   */
  async #findLostDispatches(): Promise<void> {
    const { keys, stream, dispatches } = this.#parts;
    for (const { entry, entryId } of dispatches.inStream()) {
      const { inStream, kept } = await stream.lookup(entryId, keys.result(entry.id));
      if (inStream) continue;
      const result = kept === null ? undefined : decodeWire(kept);
      if (result?.kind === 'result') dispatches.settle(entry.id, result);
      else dispatches.added(entry.id, await stream.add(entry));
    }
  }
}
