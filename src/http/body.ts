import type { IncomingMessage } from 'node:http';
import { ViaductError } from '../errors.js';

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

/** Reads the whole body, refusing with VIA_ERR_BODY_TOO_LARGE past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => gatherBody(req, limit, { body: resolve, failed: reject }));
}

/**
 * readBody() without a promise, for the channels' hot path: the receiver's methods take the
 * place of callbacks made for every request. Exactly one of them is called, perhaps before this
 * returns. (Resolving a promise with a Buffer looks up `then` along the typed-array prototypes,
 * and the promise adds a microtask.)
 */
export function gatherBody(req: IncomingMessage, limit: number, receiver: BodyReceiver): void {
  if (!hasBody(req)) return receiver.body(EMPTY);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return receiver.failed(tooLarge(limit));
  new BodyReader(req, limit, receiver);
}

/**
 * Gathers one request's body. Its listeners are methods bound once, rather than closures made
 * for every request; 'end' and 'error' come at most once, so they need no once() wrappers.
 */
class BodyReader {
  readonly #req: IncomingMessage;
  readonly #limit: number;
  readonly #receiver: BodyReceiver;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  /** A request refused for its size may still end in an 'error' (the client gives up): one answer is all it gets. */
  #settled = false;

  constructor(req: IncomingMessage, limit: number, receiver: BodyReceiver) {
    this.#req = req;
    this.#limit = limit;
    this.#receiver = receiver;
    req.on('data', this.#onData);
    req.on('end', this.#onEnd);
    req.on('error', this.#onError);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.#req.off('data', this.#onData);
      this.#req.pause();
      this.#fail(tooLarge(this.#limit));
      return;
    }
    this.#chunks.push(chunk);
  };

  readonly #onEnd = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    const chunks = this.#chunks;
    this.#receiver.body(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size));
  };

  readonly #onError = (error: Error): void => {
    this.#fail(new ViaductError('VIA_ERR_BAD_REQUEST', 'The request body could not be read', { cause: error }));
  };

  #fail(error: ViaductError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#receiver.failed(error);
  }
}

function tooLarge(limit: number): ViaductError {
  return new ViaductError('VIA_ERR_BODY_TOO_LARGE', `The request body is over the limit of ${limit} bytes`);
}
