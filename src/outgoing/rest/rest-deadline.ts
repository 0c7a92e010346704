import { EventEmitter } from 'node:events';
import type { ViaductError } from '../../errors.js';

/**
 * The deadline of one attempt, handed to undici as its abort signal. undici takes an
 * EventEmitter with a `reason` as well as an AbortSignal, and the EventEmitter is far cheaper
 * per call (an AbortController is an EventTarget: a measurable share of a fast call's CPU). When
 * the time is up, undici aborts the request, or the reading of its body, with `reason`.
 */
export class Deadline extends EventEmitter {
  reason: ViaductError | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number, expired: () => ViaductError) {
    super();
    this.#timer = setTimeout(() => {
      this.reason = expired();
      this.emit('abort');
    }, ms);
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
