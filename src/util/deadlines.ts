import { AsyncResource } from 'node:async_hooks';
/**
 * Deadlines for work in flight, without a timer each. Entries with the same timeout go into one
 * list, where insertion order is deadline order; the list keeps one timer, armed for its oldest
 * entry. Adding and removing an entry is a few pointer writes and one clock read, against a
 * timer object, a list insertion and a clock read into the event loop that setTimeout and
 * clearTimeout cost for every request (and almost every request finishes long before its timeout).
 */
export abstract class Deadline {
  /** @internal */ prev: Deadline | undefined = undefined;
  /** @internal */ next: Deadline | undefined = undefined;
  /** @internal */ list: DeadlineList | undefined = undefined;
  /** @internal performance.now() at which it expires. */ expiresAt = 0;

  /** Called once when the deadline passes while it is still set. */
  protected abstract expired(): void;

  /** Sets the deadline `timeoutMs` from now; each entry is set at most once at a time. */
  protected setDeadline(deadlines: Deadlines, timeoutMs: number): void {
    deadlines.list(timeoutMs).add(this);
  }

  /** The same, on a list the caller keeps at hand (Deadlines.list(timeoutMs) looked up once). */
  protected setDeadlineOn(list: DeadlineList): void {
    list.add(this);
  }

  /** Takes the deadline back (the work finished); harmless when it is not set. */
  protected clearDeadline(): void {
    this.list?.remove(this);
  }

  /** @internal */ fire(): void {
    this.expired();
  }
}

/** Every list of one owner (an invoker, an SQL driver): one per distinct timeout. */
export class Deadlines {
  readonly #lists = new Map<number, DeadlineList>();
  /**
   * Where the owner was made (the platform's code). A list is made when first needed, perhaps
   * inside a service's invocation; its timer fires for every service, so it runs here instead,
   * never in the context of the invocation that happened to make it.
   */
  readonly #context = new AsyncResource('ViaductDeadlines');

  list(timeoutMs: number): DeadlineList {
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) this.#lists.set(timeoutMs, (list = new DeadlineList(timeoutMs, this.#context)));
    return list;
  }

  /** How many deadlines are set, over all lists (for tests and diagnostics). */
  get size(): number {
    let size = 0;
    for (const list of this.#lists.values()) size += list.size;
    return size;
  }
}

/**
 * The entries of one timeout, oldest first. Its timer is left armed when the list empties (the
 * next entry usually comes at once) and simply finds nothing due when it fires. It does not keep
 * the process alive: work with a deadline waits on something that does (a socket, a timer, a
 * child process), and what waits on nothing can never finish anyway. In a worker the HTTP server
 * keeps the process up in any case. (Referencing the timer only while entries wait would cost two
 * calls into node per request on a worker that serves one request at a time.)
 */
export class DeadlineList {
  readonly timeoutMs: number;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() at which the timer fires. */
  #timerAt = 0;

  readonly #fire: () => void;

  /** `context`: where the timer's expiries run (see Deadlines); where the list is made by default. */
  constructor(timeoutMs: number, context: AsyncResource = new AsyncResource('ViaductDeadlineList')) {
    this.timeoutMs = timeoutMs;
    this.#fire = context.bind(() => this.#expire());
  }

  get size(): number {
    return this.#size;
  }

  add(entry: Deadline): void {
    const now = performance.now();
    entry.expiresAt = now + this.timeoutMs;
    entry.list = this;
    entry.prev = this.#tail;
    entry.next = undefined;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    this.#size++;
    if (this.#timer === undefined) this.#arm(this.timeoutMs, now);
  }

  remove(entry: Deadline): void {
    if (entry.list !== this) return;
    const { prev, next } = entry;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    entry.prev = entry.next = entry.list = undefined;
    this.#size--;
  }

  #arm(delayMs: number, now: number): void {
    this.#timerAt = now + delayMs;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(delayMs))).unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    // Timers may fire a fraction of a millisecond early by performance.now(); such an entry is due.
    const due = now + 1;
    for (let entry = this.#head; entry !== undefined && entry.expiresAt <= due; entry = this.#head) {
      this.remove(entry);
      try {
        entry.fire();
      } catch (error) {
        // An expiry must not stop the others; the error is the entry's own to report.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    if (this.#head !== undefined) this.#arm(this.#head.expiresAt - now, now);
  }

  /** When the timer fires next (performance.now()), or undefined when none is armed. */
  get timerAt(): number | undefined {
    return this.#timer === undefined ? undefined : this.#timerAt;
  }
}
