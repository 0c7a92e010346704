import { ViaductError, type SerializedError } from '../../errors.js';
import { ProcessLink } from '../../util/process-link/process-link.js';
import { combineErrors } from '../broker-errors.js';
import type { BrokerMessage, Port } from '../broker.js';
import { BROKER_BROADCAST, BROKER_DELIVER, BROKER_DISPATCH, BROKER_HELLO } from './local-broker-messages.js';

const ACK_TIMEOUT_MS = 30_000;

interface Outcome {
  readonly result: unknown;
  readonly errors: SerializedError[];
}

interface Delivery {
  /** Workers that have not acknowledged yet. */
  readonly waiting: Set<string>;
  readonly errors: SerializedError[];
  result: unknown;
  readonly message: BrokerMessage;
  readonly mode: 'broadcast' | 'dispatch';
  readonly done: (outcome: Outcome) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The primary's end of the local broker. A broadcast goes to every worker that said hello and is
 * done when each acknowledged or died; a dispatch goes to one worker, and to another if that one
 * dies before acknowledging (at-least-once).
 */
export class LocalBrokerHub {
  readonly #workers = new Map<string, ProcessLink>();
  readonly #deliveries = new Set<Delivery>();
  #roundRobin = 0;

  /** Connects a worker, over its link or a port of its own; its deliveries start once it says hello. */
  attach(workerId: string, end: Port | ProcessLink): void {
    const link = ProcessLink.of(end);
    link.on(BROKER_HELLO, () => this.#workers.set(workerId, link));
    // A worker's request is answered with every failure, summed up; the primary's own calls below get the first.
    link.handle(BROKER_BROADCAST, async ({ message }) => {
      this.#answer(await this.#start('broadcast', message));
    });
    link.handle(BROKER_DISPATCH, async ({ message }) => this.#answer(await this.#start('dispatch', message)));
  }

  /** A worker is gone: nothing waits for it any more, and its dispatched work goes elsewhere. */
  detach(workerId: string): void {
    this.#workers.delete(workerId);
    for (const delivery of this.#deliveries) {
      if (!delivery.waiting.delete(workerId)) continue;
      if (delivery.mode === 'dispatch') this.#sendToOne(delivery);
      else this.#finishIfDone(delivery);
    }
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  async broadcast(message: BrokerMessage): Promise<void> {
    const { errors } = await this.#start('broadcast', message);
    if (errors.length > 0) throw ViaductError.fromJSON(errors[0]!);
  }

  async dispatch(message: BrokerMessage): Promise<unknown> {
    const { result, errors } = await this.#start('dispatch', message);
    if (errors.length > 0) throw ViaductError.fromJSON(errors[0]!);
    return result;
  }

  #answer({ result, errors }: Outcome): unknown {
    if (errors.length > 0) throw combineErrors(errors, 'workers');
    return result;
  }

  #start(mode: Delivery['mode'], message: BrokerMessage): Promise<Outcome> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        if (!this.#deliveries.delete(delivery)) return;
        done({
          result: undefined,
          errors: [
            {
              code: 'VIA_ERR_CONFIG_APPLY',
              message: `No acknowledgement from ${delivery.waiting.size} worker(s) within ${ACK_TIMEOUT_MS} ms`,
            },
          ],
        });
      }, ACK_TIMEOUT_MS);
      timer.unref();
      const delivery: Delivery = { waiting: new Set(), errors: [], result: undefined, message, mode, done, timer };
      this.#deliveries.add(delivery);
      if (mode === 'broadcast') {
        for (const workerId of this.#workers.keys()) this.#deliver(delivery, workerId);
        this.#finishIfDone(delivery);
      } else {
        this.#sendToOne(delivery);
      }
    });
  }

  #sendToOne(delivery: Delivery): void {
    const ids = [...this.#workers.keys()];
    if (ids.length === 0) {
      this.#deliveries.delete(delivery);
      clearTimeout(delivery.timer);
      delivery.done({
        result: undefined,
        errors: [{ code: 'VIA_ERR_SERVICE_UNAVAILABLE', message: 'No worker is running to take the message' }],
      });
      return;
    }
    this.#deliver(delivery, ids[this.#roundRobin++ % ids.length]!);
  }

  #deliver(delivery: Delivery, workerId: string): void {
    delivery.waiting.add(workerId);
    // The request's own clock only frees its place in the link; the delivery's above decides.
    this.#workers
      .get(workerId)!
      .request(BROKER_DELIVER, { message: delivery.message }, { timeoutMs: ACK_TIMEOUT_MS })
      .then(
        (result) => this.#acknowledged(delivery, workerId, { result }),
        (error: unknown) => this.#acknowledged(delivery, workerId, { error: toSerialized(error) }),
      );
  }

  #acknowledged(delivery: Delivery, workerId: string, ack: { result?: unknown; error?: SerializedError }): void {
    // A worker detached meanwhile, or the delivery is over: its answer counts no more.
    if (!this.#deliveries.has(delivery) || !delivery.waiting.delete(workerId)) return;
    if (ack.error !== undefined) delivery.errors.push(ack.error);
    else delivery.result = ack.result;
    this.#finishIfDone(delivery);
  }

  #finishIfDone(delivery: Delivery): void {
    if (delivery.waiting.size > 0) return;
    this.#deliveries.delete(delivery);
    clearTimeout(delivery.timer);
    delivery.done({ result: delivery.result, errors: delivery.errors });
  }
}

function toSerialized(error: unknown): SerializedError {
  return (
    error instanceof ViaductError
      ? error
      : new ViaductError('VIA_ERR_INTERNAL', error instanceof Error ? error.message : String(error))
  ).toJSON();
}
