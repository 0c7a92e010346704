/** How many failed logins a peer may make, and for how long it is then refused. */
export interface LoginThrottleSettings {
  readonly maxFailures: number;
  /** Failures are counted in a window this long from the first; a lockout lasts as long. */
  readonly windowMs: number;
}

interface PeerRecord {
  failures: number;
  since: number;
  lockedUntil: number;
}

/** Peers remembered at most; past this, the expired records are dropped first, then the oldest. */
const MAX_PEERS = 10_000;

/**
 * Failed admin logins per peer address, in one worker's memory. After `maxFailures` failures
 * within `windowMs`, every attempt from that peer, a right password too, is refused until the
 * lockout ends: guessing then costs the attacker the window per few tries, whatever the answer.
 * Each worker counts on its own, so a server with W workers lets a peer try up to W times as
 * often (the kernel spreads its connections across them).
 */
export class LoginThrottle {
  readonly #settings: LoginThrottleSettings;
  readonly #now: () => number;
  readonly #peers = new Map<string, PeerRecord>();
  /** Logins being verified now, per peer: a burst sent at once must not all pass before the first failure counts. */
  readonly #inFlight = new Map<string, number>();

  constructor(settings: LoginThrottleSettings, now: () => number = Date.now) {
    this.#settings = settings;
    this.#now = now;
  }

  /** Milliseconds until `peer` may try again, or 0 when it may now. */
  retryAfterMs(peer: string): number {
    const record = this.#peers.get(peer);
    if (record === undefined) return 0;
    const now = this.#now();
    if (record.lockedUntil > now) return record.lockedUntil - now;
    if (record.lockedUntil !== 0 || now - record.since >= this.#settings.windowMs) this.#peers.delete(peer);
    return 0;
  }

  /**
   * Whether a login from `peer` may be verified now: its failures so far plus the logins it has
   * being verified stay under the limit. Each `true` is followed by one `settle`.
   */
  begin(peer: string): boolean {
    const inFlight = this.#inFlight.get(peer) ?? 0;
    const failures = this.#peers.get(peer)?.failures ?? 0;
    if (failures + inFlight >= this.#settings.maxFailures) return false;
    this.#inFlight.set(peer, inFlight + 1);
    return true;
  }

  settle(peer: string): void {
    const inFlight = (this.#inFlight.get(peer) ?? 1) - 1;
    if (inFlight <= 0) this.#inFlight.delete(peer);
    else this.#inFlight.set(peer, inFlight);
  }

  /** Counts a failure; true when it locked the peer out. */
  failed(peer: string): boolean {
    const now = this.#now();
    let record = this.#peers.get(peer);
    if (record === undefined || now - record.since >= this.#settings.windowMs) {
      if (record === undefined) this.#makeRoom(now);
      record = { failures: 0, since: now, lockedUntil: 0 };
      this.#peers.set(peer, record);
    }
    record.failures += 1;
    if (record.failures < this.#settings.maxFailures) return false;
    record.lockedUntil = now + this.#settings.windowMs;
    return true;
  }

  /** A correct login forgets the peer's earlier failures. */
  succeeded(peer: string): void {
    this.#peers.delete(peer);
  }

  #makeRoom(now: number): void {
    if (this.#peers.size < MAX_PEERS) return;
    for (const [peer, record] of this.#peers)
      if (record.lockedUntil <= now && now - record.since >= this.#settings.windowMs) this.#peers.delete(peer);
    // Still full: the oldest records go (a Map iterates in insertion order).
    for (const peer of this.#peers.keys()) {
      if (this.#peers.size < MAX_PEERS) break;
      this.#peers.delete(peer);
    }
  }
}
