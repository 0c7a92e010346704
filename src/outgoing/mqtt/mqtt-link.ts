import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ViaductError } from '../../errors.js';
import { InFlight } from '../in-flight.js';
import { scrub } from '../outgoing-call.js';

export interface MqttLinkSettings {
  /** For messages: 'MQTT connection sensors'. */
  readonly label: string;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
}

/**
 * Publishing over one mqtt.js client, which reconnects by itself. mqtt.js would hold a publish
 * made while it is disconnected until the broker is back, however long that takes; here such a
 * publish fails at once, except while the very first connection attempt is still under way.
 */
export class MqttLink {
  readonly #client: MqttClient;
  readonly #settings: MqttLinkSettings;
  /** Settles when the first attempt connected or failed, or after the connect timeout. */
  readonly #firstAttempt: Promise<void>;
  #firstAttemptDone = false;
  #lastError = 'not connected yet';
  #failures = 0;

  /** Whether the last attempt to connect, or the connection, failed and it is reconnecting. */
  get failing(): boolean {
    return this.#failures > 0;
  }
  readonly #inFlight = new InFlight();
  /** Rejects the publishes waiting for an acknowledgement when the connection they went out on is lost. */
  readonly #onConnectionLost = new Set<() => void>();

  constructor(client: MqttClient, settings: MqttLinkSettings) {
    this.#client = client;
    this.#settings = settings;
    this.#firstAttempt = new Promise((resolve) => {
      const done = (): void => {
        this.#firstAttemptDone = true;
        resolve();
      };
      client.once('connect', done);
      client.once('close', done);
      setTimeout(done, settings.connectTimeoutMs).unref();
    });
    client.on('connect', () => {
      if (this.#failures > 0) settings.logger.info({ failures: this.#failures }, 'MQTT connection restored');
      this.#failures = 0;
      // What a later close reports unless an 'error' says more.
      this.#lastError = 'the connection was closed';
    });
    // Also what keeps an emitted 'error' from ending the process.
    client.on('error', (error: Error) => (this.#lastError = scrub(error.message)));
    client.on('close', () => {
      for (const reject of [...this.#onConnectionLost]) reject();
      if (client.disconnecting) return;
      this.#failures += 1;
      // The first failure is news; the retries after it would only repeat it.
      settings.logger[this.#failures === 1 ? 'warn' : 'debug'](
        { reason: this.#lastError, failures: this.#failures },
        'MQTT connection down; reconnecting',
      );
    });
  }

  /** Resolves when the packet is written (QoS 0) or acknowledged by the broker (QoS 1 and 2). */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    return this.#inFlight.track(this.#publish(topic, payload, qos, retain));
  }

  /**
   * A round trip without side effects: subscribe to a topic of this client's own and unsubscribe
   * again. A broker that refuses the subscription (ACLs) still answered, which is what counts.
   */
  async ping(): Promise<void> {
    await this.#ready();
    const topic = `viaduct/ping/${this.#client.options.clientId ?? 'client'}`;
    const roundTrip = async (): Promise<void> => {
      await this.#client.subscribeAsync(topic, { qos: 0 });
      await this.#client.unsubscribeAsync(topic);
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ViaductError('VIA_ERR_OUTGOING_TIMEOUT', `${this.#settings.label}: the broker did not answer in time`),
          ),
        this.#settings.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([roundTrip(), timeout]);
    } catch (error) {
      throw error instanceof ViaductError ? error : this.#coded(error as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets publishes in flight finish (each is bounded by the publish timeout), then disconnects for good. */
  async close(): Promise<void> {
    await this.#inFlight.settled();
    await new Promise<void>((resolve) => {
      // end() sends DISCONNECT when connected; a broker that is away must not hold us.
      const timer = setTimeout(() => this.#client.end(true, () => resolve()), this.#settings.connectTimeoutMs);
      this.#client.end(false, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    await this.#ready();
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        this.#onConnectionLost.delete(lost);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(
        () =>
          settle(
            new ViaductError(
              'VIA_ERR_OUTGOING_TIMEOUT',
              `${this.#settings.label}: the broker did not acknowledge the message within ${this.#settings.publishTimeoutMs} ms; it may still arrive`,
            ),
          ),
        this.#settings.publishTimeoutMs,
      );
      // mqtt.js keeps an unacknowledged QoS 1 or 2 message and sends it again after reconnecting, so it may still arrive.
      const lost = (): void =>
        settle(
          this.#unavailable(
            'the connection was lost before the broker acknowledged the message; it may or may not arrive',
          ),
        );
      this.#onConnectionLost.add(lost);
      this.#client.publish(topic, payload, { qos, retain }, (error) =>
        settle(error === undefined || error === null ? undefined : this.#coded(error)),
      );
    });
  }

  async #ready(): Promise<void> {
    if (!this.#client.connected && !this.#firstAttemptDone) await this.#firstAttempt;
    if (this.#client.disconnecting) throw this.#unavailable('the connection is closed');
    if (!this.#client.connected)
      throw this.#unavailable(`the broker is not reachable (${this.#lastError}); reconnecting in the background`);
  }

  #coded(error: Error): ViaductError {
    const message = scrub(error.message);
    if (/connection closed|no connection/i.test(message))
      return this.#unavailable(`the connection was lost before the message was sent (${message})`);
    return new ViaductError('VIA_ERR_OUTGOING_FAILED', `${this.#settings.label}: ${message}`, { cause: error });
  }

  #unavailable(why: string): ViaductError {
    return new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${this.#settings.label}: ${why}`);
  }
}
