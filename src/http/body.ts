import type { IncomingMessage } from 'node:http';
import { ViaductError } from '../errors.js';
import { Deadline, Deadlines } from '../util/deadlines.js';
import { UNLIMITED_BUDGET, type BodyBudget } from './body-budget.js';

const EMPTY = Buffer.alloc(0);

/** Whether the request announces a body at all; requests without one skip reading. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Who gets a body gathered by gatherBody(): exactly one of the two, once. */
export interface BodyReceiver {
  body(raw: Buffer): void;
  failed(error: ViaductError): void;
}

/** The read deadlines of every body this process reads: one timer for each distinct timeout, not one per request. */
const readDeadlines = new Deadlines();

/**
 * Reads the whole body, refusing with VIA_ERR_BODY_TOO_LARGE past `limit` bytes, with
 * VIA_ERR_SERVER_BUSY when the worker's `budget` for bodies being read is spent, and with
 * VIA_ERR_BODY_TIMEOUT when the body has not arrived whole within `timeoutMs` (0: no limit).
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  budget: BodyBudget = UNLIMITED_BUDGET,
  timeoutMs = 0,
): Promise<Buffer> {
  return new Promise((resolve, reject) => gatherBody(req, limit, { body: resolve, failed: reject }, budget, timeoutMs));
}

/**
 * readBody() without a promise, for the channels' hot path: the receiver's methods take the
 * place of callbacks made for every request. Exactly one of them is called, perhaps before this
 * returns. (Resolving a promise with a Buffer looks up `then` along the typed-array prototypes,
 * and the promise adds a microtask.)
 */
export function gatherBody(
  req: IncomingMessage,
  limit: number,
  receiver: BodyReceiver,
  budget: BodyBudget = UNLIMITED_BUDGET,
  timeoutMs = 0,
): void {
  if (!hasBody(req)) return receiver.body(EMPTY);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return receiver.failed(tooLarge(limit));
  // Refused before reading: it could not be held whole anyway.
  if (declared > budget.limit - budget.used) return receiver.failed(busy());
  new BodyReader(req, limit, receiver, budget, timeoutMs);
}

/**
 * Gathers one request's body. Its listeners are methods bound once, rather than closures made
 * for every request; 'end' and 'error' come at most once, so they need no once() wrappers. The
 * bytes it holds count against the worker's budget until the body is handed over or refused.
 */
class BodyReader extends Deadline {
  readonly #req: IncomingMessage;
  readonly #limit: number;
  readonly #receiver: BodyReceiver;
  readonly #budget: BodyBudget;
  readonly #timeoutMs: number;
  #chunks: Buffer[] = [];
  /** Bytes held, all counted in the budget. */
  #size = 0;
  /** A request refused for its size may still end in an 'error' (the client gives up): one answer is all it gets. */
  #settled = false;

  constructor(req: IncomingMessage, limit: number, receiver: BodyReceiver, budget: BodyBudget, timeoutMs: number) {
    super();
    this.#req = req;
    this.#limit = limit;
    this.#receiver = receiver;
    this.#budget = budget;
    this.#timeoutMs = timeoutMs;
    req.on('data', this.#onData);
    req.on('end', this.#onEnd);
    req.on('error', this.#onError);
    if (timeoutMs > 0) this.setDeadline(readDeadlines, timeoutMs);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#size + chunk.length > this.#limit) return this.#stop(tooLarge(this.#limit));
    if (!this.#budget.take(chunk.length)) return this.#stop(busy());
    this.#size += chunk.length;
    this.#chunks.push(chunk);
  };

  readonly #onEnd = (): void => {
    if (this.#settled) return;
    const chunks = this.#release();
    this.#receiver.body(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size));
  };

  readonly #onError = (error: Error): void => {
    this.#fail(new ViaductError('VIA_ERR_BAD_REQUEST', 'The request body could not be read', { cause: error }));
  };

  /** The client is too slow (or waits on purpose): the connection is closed by the answer. */
  protected expired(): void {
    this.#stop(
      new ViaductError('VIA_ERR_BODY_TIMEOUT', `The request body did not arrive within ${this.#timeoutMs} ms`),
    );
  }

  /** Reads no further: the answer closes the connection, and node discards what is left. */
  #stop(error: ViaductError): void {
    this.#req.off('data', this.#onData);
    this.#req.pause();
    this.#fail(error);
  }

  #fail(error: ViaductError): void {
    if (this.#settled) return;
    this.#release();
    this.#receiver.failed(error);
  }

  /** Settles: the deadline goes, the bytes leave the budget, and the reader (which the request's listeners keep) holds none. */
  #release(): Buffer[] {
    this.#settled = true;
    this.clearDeadline();
    this.#budget.give(this.#size);
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks;
  }
}

function busy(): ViaductError {
  return new ViaductError('VIA_ERR_SERVER_BUSY', 'The server is holding as many request bodies as it can; try again');
}

function tooLarge(limit: number): ViaductError {
  return new ViaductError('VIA_ERR_BODY_TOO_LARGE', `The request body is over the limit of ${limit} bytes`);
}
