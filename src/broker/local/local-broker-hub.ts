import { ViaductError, type SerializedError } from '../../errors.js';
import type { BrokerMessage, Port } from '../broker.js';
import { isLocalBrokerMessage, type ToHub, type ToWorker } from './protocol.js';

const ACK_TIMEOUT_MS = 30_000;

interface Delivery {
  /** Workers that have not acknowledged yet. */
  readonly waiting: Set<string>;
  readonly errors: SerializedError[];
  result: unknown;
  readonly message: BrokerMessage;
  readonly mode: 'broadcast' | 'dispatch';
  readonly done: (result: unknown, errors: SerializedError[]) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The primary's end of the local broker. A broadcast goes to every worker that said hello and is
 * done when each acknowledged or died; a dispatch goes to one worker, and to another if that one
 * dies before acknowledging (at-least-once).
 */
export class LocalBrokerHub {
  readonly #workers = new Map<string, Port>();
  readonly #deliveries = new Map<number, Delivery>();
  #nextId = 1;
  #roundRobin = 0;

  /** Connects a worker; its deliveries start once it says hello. */
  attach(workerId: string, port: Port): void {
    port.onMessage((raw) => {
      if (!isLocalBrokerMessage(raw)) return;
      this.#onMessage(workerId, port, raw as ToHub);
    });
  }

  /** A worker is gone: nothing waits for it any more, and its dispatched work goes elsewhere. */
  detach(workerId: string): void {
    this.#workers.delete(workerId);
    for (const [id, delivery] of this.#deliveries) {
      if (!delivery.waiting.delete(workerId)) continue;
      if (delivery.mode === 'dispatch') this.#sendToOne(id, delivery);
      else this.#finishIfDone(id, delivery);
    }
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  broadcast(message: BrokerMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#start('broadcast', message, (_, errors) => (errors.length > 0 ? reject(ViaductError.fromJSON(errors[0]!)) : resolve()));
    });
  }

  dispatch(message: BrokerMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#start('dispatch', message, (result, errors) => (errors.length > 0 ? reject(ViaductError.fromJSON(errors[0]!)) : resolve(result)));
    });
  }

  #onMessage(workerId: string, port: Port, message: ToHub): void {
    switch (message.t) {
      case 'vb:hello':
        this.#workers.set(workerId, port);
        return;
      case 'vb:broadcast':
      case 'vb:dispatch':
        this.#start(message.t === 'vb:broadcast' ? 'broadcast' : 'dispatch', message.message, (result, errors) => {
          const reply: ToWorker = errors.length > 0 ? { t: 'vb:done', id: message.id, errors } : { t: 'vb:done', id: message.id, result };
          port.send(reply);
        });
        return;
      case 'vb:ack': {
        const delivery = this.#deliveries.get(message.id);
        if (delivery === undefined || !delivery.waiting.delete(workerId)) return;
        if (message.error !== undefined) delivery.errors.push(message.error);
        else delivery.result = message.result;
        this.#finishIfDone(message.id, delivery);
      }
    }
  }

  #start(mode: 'broadcast' | 'dispatch', message: BrokerMessage, done: Delivery['done']): void {
    const id = this.#nextId++;
    const timer = setTimeout(() => {
      const delivery = this.#deliveries.get(id);
      if (delivery === undefined) return;
      this.#deliveries.delete(id);
      done(undefined, [{ code: 'VIA_ERR_CONFIG_APPLY', message: `No acknowledgement from ${delivery.waiting.size} worker(s) within ${ACK_TIMEOUT_MS} ms` }]);
    }, ACK_TIMEOUT_MS);
    timer.unref();
    const delivery: Delivery = { waiting: new Set(), errors: [], result: undefined, message, mode, done, timer };
    this.#deliveries.set(id, delivery);
    if (mode === 'broadcast') {
      for (const [workerId, port] of this.#workers) {
        delivery.waiting.add(workerId);
        port.send({ t: 'vb:deliver', id, message } satisfies ToWorker);
      }
      this.#finishIfDone(id, delivery);
    } else {
      this.#sendToOne(id, delivery);
    }
  }

  #sendToOne(id: number, delivery: Delivery): void {
    const ids = [...this.#workers.keys()];
    if (ids.length === 0) {
      this.#deliveries.delete(id);
      clearTimeout(delivery.timer);
      delivery.done(undefined, [{ code: 'VIA_ERR_SERVICE_UNAVAILABLE', message: 'No worker is running to take the message' }]);
      return;
    }
    const workerId = ids[this.#roundRobin++ % ids.length]!;
    delivery.waiting.add(workerId);
    this.#workers.get(workerId)!.send({ t: 'vb:deliver', id, message: delivery.message } satisfies ToWorker);
  }

  #finishIfDone(id: number, delivery: Delivery): void {
    if (delivery.waiting.size > 0) return;
    this.#deliveries.delete(id);
    clearTimeout(delivery.timer);
    delivery.done(delivery.result, delivery.errors);
  }
}
