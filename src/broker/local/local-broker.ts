import { ViaductError } from '../../errors.js';
import { ProcessLink } from '../../util/process-link/process-link.js';
import type { Broker, BrokerHandler, BrokerMessage, Port } from '../broker.js';
import { BROKER_BROADCAST, BROKER_DELIVER, BROKER_DISPATCH, BROKER_HELLO } from './local-broker-messages.js';

/** A delivery that arrived while the worker was still loading, and how to answer it. */
interface Held {
  readonly message: BrokerMessage;
  readonly answer: (outcome: Promise<unknown>) => void;
}

/** A worker's end of the local broker: everything goes through the primary's hub. */
export class LocalBroker implements Broker {
  readonly #link: ProcessLink;
  /** Fails this broker's own requests on close(), not the others on the same link. */
  readonly #closed = new AbortController();
  #handler: BrokerHandler | undefined;
  /** Deliveries that arrived while the worker was still loading, applied by ready(). */
  #held: Held[] | undefined = [];

  /** Over the worker's link to its primary, or over a port of its own. */
  constructor(end: Port | ProcessLink) {
    this.#link = ProcessLink.of(end);
  }

  async start(handler: BrokerHandler): Promise<void> {
    this.#handler = handler;
    this.#link.handle(BROKER_DELIVER, ({ message }) => {
      const held = this.#held;
      if (held === undefined) return handler(message);
      return new Promise<unknown>((resolve) => held.push({ message, answer: resolve }));
    });
    this.#link.notify(BROKER_HELLO);
  }

  async ready(): Promise<void> {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const { message, answer } of held) {
      const handler = this.#handler!;
      const outcome = (async () => handler(message))();
      answer(outcome);
      // One after the other, in the order they came, as they would have been applied live.
      await outcome.catch(() => undefined);
    }
  }

  broadcast(message: BrokerMessage): Promise<void> {
    return this.#link.request(BROKER_BROADCAST, { message }, { signal: this.#closed.signal });
  }

  dispatch(message: BrokerMessage): Promise<unknown> {
    return this.#link.request(BROKER_DISPATCH, { message }, { signal: this.#closed.signal });
  }

  async close(): Promise<void> {
    this.#closed.abort(new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The broker was closed'));
  }
}
