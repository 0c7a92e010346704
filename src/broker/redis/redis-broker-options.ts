/** Who a broker instance is: one worker process of one server of one cluster. */
export interface RedisBrokerIdentity {
  readonly cluster: string;
  readonly server: string;
  readonly worker: string | number;
}

/** Timings and limits; the defaults suit production, tests shorten them. */
export interface RedisBrokerOptions {
  /** How often a member says it is alive, and checks for dead members' work. */
  readonly heartbeatMs?: number;
  /** A member not heard from for this long is dead: broadcasts stop waiting for it. */
  readonly deadAfterMs?: number;
  /** How long a broadcast waits for acknowledgements, and a dispatch for its result. */
  readonly timeoutMs?: number;
  /** A dispatched entry left untouched this long by its member is taken over by another. */
  readonly claimIdleMs?: number;
  /** The longest pause between two attempts to reconnect to Redis. */
  readonly reconnectMaxMs?: number;
  /** Dispatched messages one member handles at once. */
  readonly concurrency?: number;
  /** How long close() lets the handlers in progress finish. */
  readonly closeGraceMs?: number;
  /** How long one blocking read of the dispatch stream waits. */
  readonly blockMs?: number;
  /** A connection with a command unanswered that hears nothing for this long is made again (more than blockMs). */
  readonly silentAfterMs?: number;
}

import { ViaductError } from '../../errors.js';

export type ResolvedOptions = Required<RedisBrokerOptions>;

export function resolveOptions(options: RedisBrokerOptions): ResolvedOptions {
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const deadAfterMs = options.deadAfterMs ?? 5 * heartbeatMs;
  const claimIdleMs = options.claimIdleMs ?? deadAfterMs;
  // A member refreshes its liveness and its entries' idle time once a heartbeat: a limit within
  // two heartbeats would call healthy members dead.
  if (deadAfterMs < 2 * heartbeatMs || claimIdleMs < 2 * heartbeatMs) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `The Redis broker's deadAfterMs and claimIdleMs must be at least two heartbeats (${2 * heartbeatMs} ms)`,
    );
  }
  const blockMs = options.blockMs ?? 5000;
  const silentAfterMs = options.silentAfterMs ?? blockMs + 5000;
  if (silentAfterMs <= blockMs) {
    throw new ViaductError(
      'VIA_ERR_ENV_CONFIG',
      `The Redis broker's silentAfterMs must be longer than a blocking read (${blockMs} ms)`,
    );
  }
  return {
    heartbeatMs,
    deadAfterMs,
    timeoutMs: options.timeoutMs ?? 30_000,
    claimIdleMs,
    reconnectMaxMs: options.reconnectMaxMs ?? 2000,
    concurrency: options.concurrency ?? 16,
    closeGraceMs: options.closeGraceMs ?? 5000,
    blockMs,
    silentAfterMs,
  };
}
