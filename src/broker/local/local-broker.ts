import { ViaductError } from '../../errors.js';
import { combineErrors } from '../broker-errors.js';
import type { Broker, BrokerHandler, BrokerMessage, Port } from '../broker.js';
import { isLocalBrokerMessage, type ToHub, type ToWorker } from './protocol.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A worker's end of the local broker: everything goes through the primary's hub. */
export class LocalBroker implements Broker {
  readonly #port: Port;
  readonly #pending = new Map<number, Pending>();
  #handler: BrokerHandler | undefined;
  /** Deliveries that arrived while the worker was still loading, applied by ready(). */
  #held: Array<Extract<ToWorker, { t: 'vb:deliver' }>> | undefined = [];
  #nextId = 1;

  constructor(port: Port) {
    this.#port = port;
  }

  async start(handler: BrokerHandler): Promise<void> {
    this.#handler = handler;
    this.#port.onMessage((raw) => {
      if (!isLocalBrokerMessage(raw)) return;
      const message = raw as ToWorker;
      if (message.t === 'vb:deliver') {
        if (this.#held !== undefined) this.#held.push(message);
        else void this.#deliver(message);
      } else if (message.t === 'vb:done') {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id);
        if (message.errors !== undefined && message.errors.length > 0) pending.reject(combineErrors(message.errors, 'workers'));
        else pending.resolve(message.result);
      }
    });
    this.#send({ t: 'vb:hello' });
  }

  async ready(): Promise<void> {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const message of held) await this.#deliver(message);
  }

  broadcast(message: BrokerMessage): Promise<void> {
    return this.#request('vb:broadcast', message).then(() => undefined);
  }

  dispatch(message: BrokerMessage): Promise<unknown> {
    return this.#request('vb:dispatch', message);
  }

  async close(): Promise<void> {
    for (const pending of this.#pending.values()) pending.reject(new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The broker was closed'));
    this.#pending.clear();
  }

  #request(t: 'vb:broadcast' | 'vb:dispatch', message: BrokerMessage): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ t, id, message });
    });
  }

  async #deliver(message: Extract<ToWorker, { t: 'vb:deliver' }>): Promise<void> {
    try {
      const result = await this.#handler!(message.message);
      this.#send({ t: 'vb:ack', id: message.id, result });
    } catch (error) {
      const coded = error instanceof ViaductError ? error : new ViaductError('VIA_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
      this.#send({ t: 'vb:ack', id: message.id, error: coded.toJSON() });
    }
  }

  #send(message: ToHub): void {
    this.#port.send(message);
  }
}
