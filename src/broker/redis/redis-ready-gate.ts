/**
 * Holds deliveries back until the worker has loaded its state (ready()), then applies them in
 * the order they came, as the local broker does: a change that arrives while the worker is
 * still loading is neither lost nor applied to a half-loaded worker.
 */
export class ReadyGate {
  #held: Array<() => Promise<void>> | undefined = [];
  readonly #heldKinds = new Set<string>();

  get isOpen(): boolean {
    return this.#held === undefined;
  }

  /**
   * Runs `apply` now and returns its promise, or holds it and returns undefined. With a `kind`,
   * only the first of that kind is held: one resync after loading is as good as several.
   */
  pass(apply: () => Promise<void>, kind?: string): Promise<void> | undefined {
    if (this.#held === undefined) return apply();
    if (kind !== undefined) {
      if (this.#heldKinds.has(kind)) return undefined;
      this.#heldKinds.add(kind);
    }
    this.#held.push(apply);
    return undefined;
  }

  /** Applies what was held, one after another, and lets everything through from now on. */
  async open(): Promise<void> {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#heldKinds.clear();
    for (const apply of held) await apply();
  }

  /** Forgets what was held (close): nobody waits for a member that is leaving. */
  drop(): void {
    this.#held = [];
    this.#heldKinds.clear();
  }
}
