import { ViaductError } from '../../errors.js';
import { bodyOf, isEnvelope, isReply, isRequest, REPLY, type Body, type Envelope, type Reply } from './envelope.js';
import { encodeNotification, type BodyArgs, type Notification, type Request } from './message-definition.js';
import { PendingReplies, type WaitOptions } from './pending-replies.js';
import type { Port } from './port.js';

type Listener = (body: never) => void;
type Handler = (body: never) => unknown;

/**
 * One end of the channel between a server's primary and one of its workers: notifications,
 * and requests answered by a result or a coded error that keeps its code across the process
 * boundary. Everything that talks over the channel (the worker's lifecycle, the local broker,
 * the scheduler's placement) shares one link per end, so request ids are unique and one map
 * matches every reply.
 */
export class ProcessLink {
  readonly #port: Port;
  readonly #pending = new PendingReplies();
  readonly #listeners = new Map<string, Listener[]>();
  readonly #handlers = new Map<string, Handler>();
  #unclaimed: ((message: Envelope) => void) | undefined;
  #closed = false;

  /** The link itself, or a new one over a bare port (a test's, or a broker's that has it alone). */
  static of(end: Port | ProcessLink): ProcessLink {
    return end instanceof ProcessLink ? end : new ProcessLink(end);
  }

  constructor(port: Port) {
    this.#port = port;
    port.onMessage((raw) => this.#receive(raw));
  }

  notify<B extends Body>(definition: Notification<B>, ...body: BodyArgs<B>): void {
    if (!this.#closed) this.#port.send(encodeNotification(definition, ...body));
  }

  /** Calls `listener` with the body of every such notification that arrives. */
  on<B extends Body>(definition: Notification<B>, listener: (body: B) => void): void {
    const listeners = this.#listeners.get(definition.name) ?? [];
    listeners.push(listener as Listener);
    this.#listeners.set(definition.name, listeners);
  }

  /**
   * Calls `listener` with every notification no listener of its own takes, envelope and all: for
   * an end that routes messages it does not know by name (a worker's features' own orders).
   */
  onUnclaimed(listener: (message: Envelope) => void): void {
    this.#unclaimed = listener;
  }

  /** The other end's answer: its result, or its error with the code it had there. */
  request<B extends Body, R>(definition: Request<B, R>, body: B, options?: WaitOptions): Promise<R> {
    if (this.#closed) return Promise.reject(closedError());
    const { id, reply } = this.#pending.open(definition.name, options);
    if (this.#pending.has(id)) this.#port.send({ ...body, t: definition.name, id });
    return reply as Promise<R>;
  }

  /** Answers every such request with what `handler` returns, or with the error it throws. */
  handle<B extends Body, R>(definition: Request<B, R>, handler: (body: B) => R | Promise<R>): void {
    if (this.#handlers.has(definition.name)) throw new Error(`${definition.name} has a handler already`);
    this.#handlers.set(definition.name, handler as Handler);
  }

  /** The other end is gone: what waits for it fails, and what it still sends is ignored. */
  close(error: Error = closedError()): void {
    this.#closed = true;
    this.#pending.failAll(error);
  }

  #receive(raw: unknown): void {
    if (this.#closed || !isEnvelope(raw)) return;
    if (isReply(raw)) this.#pending.settle(raw.id, raw);
    else if (isRequest(raw)) void this.#answer(raw);
    else this.#notified(raw);
  }

  #notified(message: Envelope): void {
    const listeners = this.#listeners.get(message.t);
    if (listeners === undefined) return this.#unclaimed?.(message);
    for (const listener of listeners) (listener as (body: unknown) => void)(bodyOf(message));
  }

  async #answer(request: Envelope & { readonly id: number }): Promise<void> {
    let reply: Reply;
    try {
      const handler = this.#handlers.get(request.t);
      if (handler === undefined) throw new ViaductError('VIA_ERR_INTERNAL', `Nothing answers ${request.t} here`);
      reply = { t: REPLY, id: request.id, result: await (handler as (body: unknown) => unknown)(bodyOf(request)) };
    } catch (error) {
      const coded =
        error instanceof ViaductError
          ? error
          : new ViaductError('VIA_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
      reply = { t: REPLY, id: request.id, error: coded.toJSON() };
    }
    if (!this.#closed) this.#port.send(reply);
  }
}

function closedError(): ViaductError {
  return new ViaductError('VIA_ERR_SERVICE_UNAVAILABLE', 'The other process is gone');
}
