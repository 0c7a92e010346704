/** The calls a connection has under way, so that close() can let them finish before it lets go. */
export class InFlight {
  readonly #calls = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const forget = (): boolean => this.#calls.delete(call);
    call.then(forget, forget);
    return call;
  }

  /** Resolves when every call tracked so far has settled, however it ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#calls]);
  }
}
