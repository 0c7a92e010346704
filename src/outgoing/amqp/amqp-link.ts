import type { ChannelModel, ConfirmChannel, Options, SocketOptions } from 'amqplib';
import type { Logger } from 'pino';
import { ViaductError } from '../../errors.js';
import { InFlight } from '../in-flight.js';
import { scrub } from '../outgoing-call.js';
import { reconnectDelay } from '../reconnect-delay.js';

type Connect = (url: Options.Connect, socketOptions?: SocketOptions) => Promise<ChannelModel>;

export interface AmqpLinkSettings {
  readonly connect: Connect;
  readonly url: Options.Connect;
  readonly socket: SocketOptions;
  /** For messages: 'AMQP connection orders'. */
  readonly label: string;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
}

type LinkState =
  | { readonly kind: 'connecting'; readonly attempt: Promise<void> }
  | { readonly kind: 'up'; readonly connection: ChannelModel; readonly channel: ConfirmChannel }
  | { readonly kind: 'down'; readonly reason: string }
  | { readonly kind: 'closed' };

/**
 * One AMQP connection with one confirm channel, kept up by reconnecting with backoff. amqplib's
 * own optional recovery reconnects, but leaves channels to the caller and makes operations wait
 * for the broker; here, while the broker is away, callers are refused at once instead of waiting
 * for a broker that may be gone for hours.
 */
export class AmqpLink {
  readonly #settings: AmqpLinkSettings;
  #state: LinkState = { kind: 'down', reason: 'the connection is not started' };
  /** The latest connection opened, so that close() reaches it in any state. */
  #connection: ChannelModel | undefined;
  #closing: Promise<void> | undefined;
  #failures = 0;

  /** Whether the last attempt to connect, or the connection, failed and it is reconnecting. */
  get failing(): boolean {
    return this.#failures > 0;
  }
  #timer: NodeJS.Timeout | undefined;
  #blocked: string | undefined;
  /** Why a channel closed, when the broker said (e.g. 404 no such exchange): its unconfirmed publishes fail with it. */
  readonly #closeReasons = new WeakMap<ConfirmChannel, string>();
  readonly #inFlight = new InFlight();

  constructor(settings: AmqpLinkSettings) {
    this.#settings = settings;
  }

  start(): void {
    this.#connect();
  }

  /** Publishes on the confirm channel; resolves once the broker confirmed the message. */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    return this.#inFlight.track(this.#publish(exchange, routingKey, content, options));
  }

  /** A real round trip: opens and closes a channel. */
  async ping(): Promise<void> {
    const { connection } = await this.#ready();
    const roundTrip = async (): Promise<void> => (await connection.createChannel()).close();
    await withTimeout(roundTrip(), this.#settings.connectTimeoutMs, () =>
      this.#timeout('the broker did not open and close a channel in time'),
    );
  }

  /** Lets publishes in flight finish (each is bounded by the publish timeout), then closes for good. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#inFlight.settled();
    if (this.#state.kind === 'connecting') await this.#state.attempt;
    this.#state = { kind: 'closed' };
    if (this.#connection !== undefined) await closeQuietly(this.#connection, this.#settings.connectTimeoutMs);
  }

  async #publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    const { channel } = await this.#ready();
    if (this.#blocked !== undefined) throw this.#unavailable(`the broker blocks publishing (${this.#blocked})`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(this.#timeout(`the broker did not confirm the message within ${this.#settings.publishTimeoutMs} ms`)),
        this.#settings.publishTimeoutMs,
      );
      const settle = (error: unknown): void => {
        clearTimeout(timer);
        if (error === null || error === undefined) resolve();
        else reject(this.#publishError(channel, error));
      };
      try {
        channel.publish(exchange, routingKey, content, options, settle);
      } catch (error) {
        // The channel closed between #ready() and here, or the headers do not fit in a frame.
        settle(error);
      }
    });
  }

  /** The open connection and channel: now, after the attempt in progress, or a coded error at once. */
  async #ready(): Promise<{ connection: ChannelModel; channel: ConfirmChannel }> {
    if (this.#state.kind === 'connecting') await this.#state.attempt;
    const state = this.#state;
    if (state.kind === 'up') return state;
    if (state.kind === 'closed') throw this.#unavailable('the connection is closed');
    if (state.kind === 'connecting') throw this.#unavailable('the channel is being reopened');
    throw this.#unavailable(`${state.reason}; reconnecting in the background`);
  }

  #publishError(channel: ConfirmChannel, error: unknown): ViaductError {
    const message = (error as Error).message ?? String(error);
    if (message === 'message nacked') {
      return new ViaductError(
        'VIA_ERR_OUTGOING_FAILED',
        `${this.#settings.label}: the broker refused the message (nack)`,
        { details: { reason: 'nack' } },
      );
    }
    const refused = this.#closeReasons.get(channel);
    if (refused !== undefined)
      return new ViaductError('VIA_ERR_OUTGOING_FAILED', `${this.#settings.label}: ${refused}`, { cause: error });
    if (/closed/i.test(message)) {
      return this.#unavailable(
        'the connection was lost before the broker confirmed the message; it may or may not have been delivered',
      );
    }
    return new ViaductError('VIA_ERR_OUTGOING_FAILED', `${this.#settings.label}: ${scrub(message)}`, { cause: error });
  }

  #connect(): void {
    const attempt = this.#open().then(
      (opened) => {
        if (this.#failures > 0) this.#settings.logger.info({ failures: this.#failures }, 'AMQP connection restored');
        this.#failures = 0;
        this.#state = { kind: 'up', ...opened };
      },
      (error: unknown) => this.#lost(error),
    );
    this.#state = { kind: 'connecting', attempt };
  }

  async #open(): Promise<{ connection: ChannelModel; channel: ConfirmChannel }> {
    const { connect, url, socket } = this.#settings;
    const connection = await connect(url, socket);
    this.#connection = connection;
    this.#blocked = undefined;
    connection.on('error', (error: Error) =>
      this.#settings.logger.warn({ reason: scrub(error.message) }, 'AMQP connection error'),
    );
    connection.on('blocked', (reason: string) => (this.#blocked = reason));
    connection.on('unblocked', () => (this.#blocked = undefined));
    connection.on('close', (error?: Error) => {
      // Closing a connection that is closed already never finishes in amqplib.
      if (this.#connection === connection) this.#connection = undefined;
      const state = this.#state;
      if (state.kind === 'up' && state.connection === connection)
        this.#lost(error ?? new Error('the broker closed the connection'));
    });
    try {
      return { connection, channel: await this.#openChannel(connection) };
    } catch (error) {
      void closeQuietly(connection, this.#settings.connectTimeoutMs);
      throw error;
    }
  }

  async #openChannel(connection: ChannelModel): Promise<ConfirmChannel> {
    const channel = await withTimeout(
      connection.createConfirmChannel(),
      this.#settings.connectTimeoutMs,
      () => new Error('the broker did not open a channel in time'),
    );
    channel.on('error', (error: Error) => this.#closeReasons.set(channel, scrub(error.message)));
    channel.on('close', () => {
      const state = this.#state;
      if (state.kind === 'up' && state.channel === channel) this.#reopenChannel(connection);
    });
    return channel;
  }

  /** The broker closed the channel (e.g. a publish to an exchange that does not exist); the connection stays. */
  #reopenChannel(connection: ChannelModel): void {
    const attempt = this.#openChannel(connection).then(
      (channel) => {
        this.#state = { kind: 'up', connection, channel };
      },
      (error: unknown) => {
        void closeQuietly(connection, this.#settings.connectTimeoutMs);
        this.#lost(error);
      },
    );
    this.#state = { kind: 'connecting', attempt };
  }

  #lost(error: unknown): void {
    if (this.#state.kind === 'closed') return;
    const reason = failureReason(scrub((error as Error)?.message ?? String(error)), this.#settings.url.vhost);
    if (this.#closing !== undefined) {
      this.#state = { kind: 'down', reason };
      return;
    }
    this.#failures += 1;
    const delay = reconnectDelay(this.#failures);
    // The first failure is news; the retries after it would only repeat it.
    const level = this.#failures === 1 ? 'warn' : 'debug';
    this.#settings.logger[level](
      { reason, failures: this.#failures, retryInMs: delay },
      'AMQP connection down; reconnecting',
    );
    this.#state = { kind: 'down', reason };
    this.#timer = setTimeout(() => this.#connect(), delay);
    this.#timer.unref();
  }

  #unavailable(why: string): ViaductError {
    return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${this.#settings.label}: ${why}`);
  }

  #timeout(why: string): ViaductError {
    return new ViaductError('VIA_ERR_OUTGOING_TIMEOUT', `${this.#settings.label}: ${why}`);
  }
}

/** Why the link is down, in words an administrator can act on. */
function failureReason(message: string, vhost: string | undefined): string {
  if (/ACCESS[-_]REFUSED/.test(message)) return `the broker refused the login (${message})`;
  // RabbitMQ refuses a virtual host that does not exist, or that the user may not use, by closing
  // the connection; amqplib reports the frame it got instead of the broker's reason.
  if (message.startsWith('Expected ConnectionOpenOk; got <ConnectionClose')) {
    return `the broker refused to open the virtual host '${vhostName(vhost)}': it does not exist, or the user may not use it`;
  }
  return `the broker is not reachable (${message})`;
}

function vhostName(vhost: string | undefined): string {
  if (vhost === undefined || vhost === '') return '/';
  try {
    return decodeURIComponent(vhost);
  } catch {
    return vhost;
  }
}

/**
 * amqplib's close() waits for the broker's close-ok without limit, even when the socket dies
 * meanwhile; the connection's own 'close' event, or at worst a timer, ends the wait instead.
 */
function closeQuietly(connection: ChannelModel, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    connection.once('close', done);
    connection.close().then(done, done);
  });
}

/** Rejects with `onTimeout()` when `promise` takes longer than `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
