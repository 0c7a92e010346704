/** Bytes kept for a service's name and for a cid; longer ones are cut. */
const NAME_BYTES = 256;
const CID_BYTES = 64;
// Int32 header: the event loop's tick counter, then the lengths of the name and the cid.
const TICK = 0;
const NAME_LENGTH = 1;
const CID_LENGTH = 2;
const HEADER_BYTES = 12;

/** Where the watchdog finds each part (it runs in a thread of its own and imports nothing). */
export const CURRENT_INVOCATION_LAYOUT = { TICK, NAME_LENGTH, CID_LENGTH, HEADER_BYTES, NAME_BYTES } as const;

/**
 * The invocation whose synchronous code runs now, in memory shared with a watchdog thread of the
 * same worker: when a service blocks the event loop (`while (true) {}`), no code of the worker's
 * main thread runs any more to say which service it is, but the watchdog can still read it here.
 * Writing it costs a few bytes copied per invocation; nothing is sent anywhere.
 */
export class CurrentInvocation {
  readonly buffer = new SharedArrayBuffer(HEADER_BYTES + NAME_BYTES + CID_BYTES);
  readonly #header = new Int32Array(this.buffer, 0, 3);
  readonly #name = new Uint8Array(this.buffer, HEADER_BYTES, NAME_BYTES);
  readonly #cid = new Uint8Array(this.buffer, HEADER_BYTES + NAME_BYTES, CID_BYTES);
  readonly #encoder = new TextEncoder();
  /** The invocations a nested one interrupted, to restore when it returns. */
  readonly #outer: Array<readonly [string, string]> = [];

  enter(service: string, cid: string): void {
    this.#outer.push([service, cid]);
    this.#write(service, cid);
  }

  leave(): void {
    this.#outer.pop();
    const outer = this.#outer.at(-1);
    if (outer === undefined) Atomics.store(this.#header, NAME_LENGTH, 0);
    else this.#write(outer[0], outer[1]);
  }

  /** The main thread is alive: called by its heartbeat. */
  tick(): void {
    Atomics.add(this.#header, TICK, 1);
  }

  #write(service: string, cid: string): void {
    Atomics.store(this.#header, NAME_LENGTH, 0);
    const cidLength = this.#encoder.encodeInto(cid, this.#cid).written;
    Atomics.store(this.#header, CID_LENGTH, cidLength);
    Atomics.store(this.#header, NAME_LENGTH, this.#encoder.encodeInto(service, this.#name).written);
  }
}
