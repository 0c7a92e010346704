import { ViaductError } from '../../errors.js';
import { RetryGate } from './retry-gate.js';

/** How a pool opens, checks and disposes one session (an FTP client, an SFTP client). */
export interface SessionFactory<S> {
  /** Connects and logs in; rejects when the remote end cannot be reached. */
  open(): Promise<S>;
  /** False once the session's socket is gone: such a session is disposed, never reused. */
  isAlive(session: S): boolean;
  dispose(session: S): void | Promise<void>;
}

export interface SessionPoolOptions {
  /** At most this many sessions at once; further calls wait in line. */
  readonly size: number;
  /** An unused session is closed after this long. */
  readonly idleTimeoutMs: number;
  /** For messages: 'outgoing.ftp Reports'. */
  readonly label: string;
}

interface Idle<S> {
  readonly session: S;
  readonly timer: NodeJS.Timeout;
}

interface Waiter<S> {
  resolve(session: S): void;
  reject(error: unknown): void;
}

/**
 * A few sessions for a driver whose session runs one operation at a time (basic-ftp's Client).
 * Calls take a session or wait in line; a session whose socket died is dropped and a new one is
 * opened on the next call, so the connection survives the remote end going away and coming back.
 * While the remote end stays unreachable, a RetryGate spaces the opens out.
 */
export class SessionPool<S> {
  readonly #factory: SessionFactory<S>;
  readonly #options: SessionPoolOptions;
  readonly #gate = new RetryGate();
  readonly #idle: Idle<S>[] = [];
  readonly #busy = new Set<S>();
  readonly #waiters: Waiter<S>[] = [];
  #opening = 0;
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(factory: SessionFactory<S>, options: SessionPoolOptions) {
    this.#factory = factory;
    this.#options = options;
  }

  /** Runs `work` on a session of its own; the session goes back to the pool afterwards. */
  async use<T>(work: (session: S) => Promise<T>): Promise<T> {
    if (this.#closing)
      throw new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${this.#options.label}: the connection is closed`);
    const session = await new Promise<S>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#dispatch();
    });
    try {
      return await work(session);
    } finally {
      this.#release(session);
    }
  }

  /** Lets calls in flight and in line finish, then closes every session. */
  close(): Promise<void> {
    this.#closing = true;
    for (const { session, timer } of this.#idle.splice(0)) this.#dispose(session, timer);
    if (this.#quiet()) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  #dispatch(): void {
    while (this.#waiters.length > 0) {
      const idle = this.#takeIdle();
      if (idle !== undefined) {
        this.#busy.add(idle);
        this.#waiters.shift()!.resolve(idle);
      } else if (this.#busy.size + this.#opening < this.#options.size) {
        const waiter = this.#waiters.shift()!;
        this.#open().then(waiter.resolve, waiter.reject);
      } else {
        break;
      }
    }
    this.#checkDrained();
  }

  #takeIdle(): S | undefined {
    for (let entry = this.#idle.pop(); entry !== undefined; entry = this.#idle.pop()) {
      if (this.#factory.isAlive(entry.session)) {
        clearTimeout(entry.timer);
        return entry.session;
      }
      this.#dispose(entry.session, entry.timer);
    }
    return undefined;
  }

  async #open(): Promise<S> {
    this.#gate.check();
    this.#opening++;
    try {
      const session = await this.#factory.open();
      this.#gate.succeeded();
      this.#busy.add(session);
      return session;
    } catch (error) {
      this.#gate.failed(error);
      throw error;
    } finally {
      this.#opening--;
      // A failed open frees its place: the next caller in line tries (or, while backing off, fails at once).
      queueMicrotask(() => this.#dispatch());
    }
  }

  #release(session: S): void {
    this.#busy.delete(session);
    if (!this.#factory.isAlive(session)) {
      this.#dispose(session);
    } else if (this.#waiters.length > 0) {
      this.#busy.add(session);
      this.#waiters.shift()!.resolve(session);
    } else if (this.#closing) {
      this.#dispose(session);
    } else {
      const timer = setTimeout(() => this.#expire(session), this.#options.idleTimeoutMs).unref();
      this.#idle.push({ session, timer });
    }
    this.#dispatch();
  }

  #expire(session: S): void {
    const index = this.#idle.findIndex((entry) => entry.session === session);
    if (index >= 0) this.#dispose(session, this.#idle.splice(index, 1)[0]!.timer);
  }

  #dispose(session: S, timer?: NodeJS.Timeout): void {
    if (timer !== undefined) clearTimeout(timer);
    // Disposing is best effort: a session being dropped is usually dead already.
    Promise.resolve()
      .then(() => this.#factory.dispose(session))
      .catch(() => undefined);
  }

  #quiet(): boolean {
    return this.#busy.size === 0 && this.#opening === 0 && this.#waiters.length === 0;
  }

  #checkDrained(): void {
    if (this.#closing && this.#drained !== undefined && this.#quiet()) {
      this.#drained();
      this.#drained = undefined;
    }
  }
}
