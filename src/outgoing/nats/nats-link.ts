import type { ConnectionOptions, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ViaductError } from '../../errors.js';
import { InFlight } from '../in-flight.js';
import { scrub } from '../outgoing-call.js';
import { reconnectDelay } from '../reconnect-delay.js';

type Connect = (options: ConnectionOptions) => Promise<NatsConnection>;

export interface NatsLinkSettings {
  readonly connect: Connect;
  readonly options: ConnectionOptions;
  /** For messages: 'NATS connection events'. */
  readonly label: string;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
}

/**
 * One NATS connection, kept up for ever. nats.js reconnects by itself once it has been
 * connected, but gives up on a first connection that fails, and buffers what is published while
 * it is disconnected; here the first connection is retried with backoff too, reconnects back off
 * the same way, and callers are refused at once while there is no connection.
 */
export class NatsLink {
  readonly #settings: NatsLinkSettings;
  #connection: NatsConnection | undefined;
  #connected = false;
  /** Settles when the first connection attempt connected or failed. */
  #firstAttempt: Promise<void> = Promise.resolve();
  #failures = 0;

  /** Whether the last attempt to connect, or the connection, failed and it is reconnecting. */
  get failing(): boolean {
    return this.#failures > 0;
  }
  #lastError = 'not connected yet';
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  readonly #inFlight = new InFlight();
  /** Fails the calls in flight when the connection they went out on is lost, instead of leaving them to their timeouts. */
  readonly #onDisconnect = new Set<() => void>();

  constructor(settings: NatsLinkSettings) {
    this.#settings = settings;
  }

  start(): void {
    this.#firstAttempt = this.#connect();
  }

  /** Runs `work` on the connection, tracked so that close() lets it finish; refused at once while disconnected. */
  use<T>(work: (connection: NatsConnection) => Promise<T>): Promise<T> {
    const running = this.#ready().then(
      (connection) =>
        new Promise<T>((resolve, reject) => {
          const lost = (): void =>
            reject(
              this.#unavailable(
                'the connection was lost before the call finished; what was sent may or may not have arrived',
              ),
            );
          this.#onDisconnect.add(lost);
          work(connection)
            .then(resolve, reject)
            .finally(() => this.#onDisconnect.delete(lost));
        }),
    );
    return this.#inFlight.track(running);
  }

  /** Lets calls in flight finish (each is bounded by its timeout), then closes for good. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#inFlight.settled();
    await this.#firstAttempt;
    const closed = this.#connection?.close().catch(() => undefined);
    // A server that went silent must not hold us.
    await Promise.race([
      closed,
      new Promise((resolve) => setTimeout(resolve, this.#settings.connectTimeoutMs).unref()),
    ]);
  }

  async #ready(): Promise<NatsConnection> {
    // A call made right after create() waits for the first attempt (bounded by the connect timeout).
    if (this.#connection === undefined && this.#failures === 0) await this.#firstAttempt;
    if (this.#closing !== undefined) throw this.#unavailable('the connection is closed');
    if (this.#connection === undefined || !this.#connected)
      throw this.#unavailable(`the server is not reachable (${this.#lastError}); reconnecting in the background`);
    return this.#connection;
  }

  /** One attempt at the first connection (or at a new one, should nats.js ever give up); retried with backoff until it works. */
  async #connect(): Promise<void> {
    try {
      const connection = await this.#settings.connect({
        ...this.#settings.options,
        timeout: this.#settings.connectTimeoutMs,
        // Once connected, nats.js reconnects for ever, backing off as the failures add up.
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectDelayHandler: () => reconnectDelay(Math.max(1, this.#failures)),
        // A wrong password is retried too: the server's users may be fixed without touching Viaduct.
        ignoreAuthErrorAbort: true,
      });
      if (this.#closing !== undefined) {
        await connection.close();
        return;
      }
      this.#connection = connection;
      this.#up();
      void this.#watch(connection);
    } catch (error) {
      this.#down(error);
      if (this.#closing === undefined) {
        this.#timer = setTimeout(() => void (this.#firstAttempt = this.#connect()), reconnectDelay(this.#failures));
        this.#timer.unref();
      }
    }
  }

  /** Follows the connection's status: disconnects, reconnect attempts and reconnects. */
  async #watch(connection: NatsConnection): Promise<void> {
    void connection.closed().then((error) => {
      if (this.#connection !== connection || this.#closing !== undefined) return;
      // nats.js gave up for good (it should not, with these options): start over.
      this.#connection = undefined;
      this.#down(error ?? new Error('the connection closed'));
      this.#firstAttempt = this.#connect();
    });
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        this.#connected = false;
        for (const lost of [...this.#onDisconnect]) lost();
        this.#down(new Error(`disconnected from ${String(status.data)}`));
      } else if (status.type === 'reconnecting') {
        if (!this.#connected && this.#failures > 0) this.#failures += 1;
      } else if (status.type === 'reconnect') {
        this.#up();
      } else if (status.type === 'error') {
        // E.g. a publish to a subject this user may not publish to: the server drops it and says so
        // only here. While reconnecting, the same error (a wrong password) would repeat at every attempt.
        this.#lastError = scrub(String(status.data));
        this.#settings.logger[this.#connected ? 'warn' : 'debug'](
          { reason: this.#lastError, permission: status.permissionContext },
          'NATS server reported an error',
        );
      }
    }
  }

  #up(): void {
    if (this.#failures > 0) this.#settings.logger.info({ failures: this.#failures }, 'NATS connection restored');
    this.#connected = true;
    this.#failures = 0;
  }

  #down(error: unknown): void {
    this.#connected = false;
    this.#failures += 1;
    this.#lastError = scrub((error as Error | undefined)?.message ?? String(error));
    // The first failure is news; the retries after it would only repeat it.
    this.#settings.logger[this.#failures === 1 ? 'warn' : 'debug'](
      { reason: this.#lastError, failures: this.#failures },
      'NATS connection down; reconnecting',
    );
  }

  #unavailable(why: string): ViaductError {
    return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${this.#settings.label}: ${why}`);
  }
}
