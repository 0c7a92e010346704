import type { IncomingHttpHeaders } from 'node:http';
import type * as Undici from 'undici';
import type { ViaductError } from '../../errors.js';

/** An answer read whole: its status, its headers (names in lower case) and its body's bytes. */
export interface WholeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Empty when the answer was discarded or had no body. */
  readonly body: Buffer;
  /** True when `discard` chose to throw the body away (an answer the caller will not see). */
  readonly discarded: boolean;
}

type DispatchController = Undici.Dispatcher.DispatchController;

const EMPTY = Buffer.alloc(0);

/**
 * One request on undici's dispatch API, its answer gathered into a Buffer. It does what
 * `request()` plus `body.text()` do, without a stream per answer, an abort signal or the
 * listeners both need: a fast call spends a large share of its CPU there. The deadline covers
 * waiting for a free connection, sending, and reading the whole answer: when it passes, the
 * promise rejects with `expired()` at once, and undici aborts the request (or does so as soon as
 * the request gets a connection).
 */
export function readAnswer(
  dispatcher: Undici.Dispatcher,
  options: Undici.Dispatcher.DispatchOptions,
  timeoutMs: number,
  expired: () => ViaductError,
  discard?: (status: number) => boolean,
): Promise<WholeAnswer> {
  return new Promise<WholeAnswer>((resolve, reject) => {
    dispatcher.dispatch(options, new AnswerReader(resolve, reject, timeoutMs, expired, discard));
  });
}

class AnswerReader implements Undici.Dispatcher.DispatchHandler {
  readonly #resolve: (answer: WholeAnswer) => void;
  readonly #reject: (error: unknown) => void;
  readonly #expired: () => ViaductError;
  readonly #discard: ((status: number) => boolean) | undefined;
  readonly #timer: NodeJS.Timeout;
  #controller: DispatchController | undefined;
  #reason: ViaductError | undefined;
  #settled = false;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #discarding = false;
  #chunks: Buffer[] = [];

  constructor(
    resolve: (answer: WholeAnswer) => void,
    reject: (error: unknown) => void,
    timeoutMs: number,
    expired: () => ViaductError,
    discard: ((status: number) => boolean) | undefined,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#expired = expired;
    this.#discard = discard;
    this.#timer = setTimeout(expire, timeoutMs, this);
  }

  /** The deadline passed: the caller hears it now, the request stops now or when it starts. */
  expire(): void {
    this.#reason = this.#expired();
    this.#fail(this.#reason);
    this.#controller?.abort(this.#reason);
  }

  onRequestStart(controller: DispatchController): void {
    if (this.#reason !== undefined) controller.abort(this.#reason);
    else this.#controller = controller;
  }

  onResponseStart(_controller: DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    this.#status = statusCode;
    this.#headers = headers;
    this.#discarding = this.#discard?.(statusCode) ?? false;
  }

  onResponseData(_controller: DispatchController, chunk: Buffer): void {
    if (!this.#discarding) this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    const chunks = this.#chunks;
    const body = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.#resolve({ status: this.#status, headers: this.#headers, body, discarded: this.#discarding });
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    this.#fail(error);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#chunks = [];
    this.#reject(error);
  }
}

function expire(reader: AnswerReader): void {
  reader.expire();
}

/** The body as text, as `body.text()` reads it: UTF-8, a leading byte-order mark dropped. */
export function bodyText(body: Buffer): string {
  const start = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  return body.toString('utf8', start);
}
