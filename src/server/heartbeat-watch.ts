import type { Body } from '../util/process-link/envelope.js';
import type { WORKER_HEARTBEAT } from './control.js';

type Heartbeat = NonNullable<(typeof WORKER_HEARTBEAT)['body']> & Body;

interface Watched {
  lastBeat: number;
  beat: Heartbeat;
}

/** A worker whose beats stopped: how long ago, and what its last beat said it ran. */
export interface BlockedWorker {
  readonly workerId: number;
  readonly silentMs: number;
  readonly beat: Heartbeat;
}

/**
 * The primary's view of its workers' heartbeats. A worker is watched from its first beat (a
 * worker still loading is not), and counts as blocked once it has been silent for longer than
 * its last beat allowed; each blocked worker is reported once.
 */
export class HeartbeatWatch {
  readonly #watched = new Map<number, Watched>();

  beat(workerId: number, beat: Heartbeat): void {
    this.#watched.set(workerId, { lastBeat: Date.now(), beat });
  }

  forget(workerId: number): void {
    this.#watched.delete(workerId);
  }

  /** The workers blocked now; they are no longer watched (they are being replaced). */
  blocked(now = Date.now()): BlockedWorker[] {
    const blocked: BlockedWorker[] = [];
    for (const [workerId, { lastBeat, beat }] of this.#watched) {
      const silentMs = now - lastBeat;
      if (silentMs <= beat.blockedAfterMs) continue;
      blocked.push({ workerId, silentMs, beat });
      this.#watched.delete(workerId);
    }
    return blocked;
  }
}
