import type { Logger } from 'pino';
import type { SingletonWork } from '../feature/singleton-work.js';
import type { Odb } from '../odb/database.js';
import type { RunFile } from './run-file.js';
import { SingletonLease, type LeaseTiming } from './singleton-lease.js';

/**
 * This server's part in the singleton role: it contends for the lease, and while it holds it,
 * runs the work that must run once in the cluster, started on acquiring the lease and stopped on
 * losing it.
 */
export class SingletonRole {
  readonly #work: readonly SingletonWork[];
  readonly #changed: () => void;
  #lease: SingletonLease | undefined;

  /** `changed` is told whenever this server becomes or stops being the singleton. */
  constructor(work: readonly SingletonWork[], changed: () => void) {
    this.#work = work;
    this.#changed = changed;
  }

  /** Whether this server holds the lease now, and under which generation. */
  get state(): RunFile['singleton'] {
    const generation = this.#lease?.generation;
    return { holder: generation !== undefined, generation: generation ?? null };
  }

  start(db: Odb, holder: string, timing: LeaseTiming, logger: Logger): void {
    const events = {
      acquired: (generation: number) => {
        for (const work of this.#work) work.start(generation);
        this.#changed();
      },
      lost: () => {
        for (const work of this.#work) work.stop();
        this.#changed();
      },
    };
    this.#lease = new SingletonLease(db, holder, timing, events, logger);
    this.#lease.start();
  }

  async stop(): Promise<void> {
    await this.#lease?.stop();
  }
}
