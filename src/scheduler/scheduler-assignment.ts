import type { Logger } from 'pino';
import type { SingletonWork } from '../feature/singleton-work.js';

/** The slice of a node:cluster worker this needs. */
export interface AssignableWorker {
  readonly id: number;
  readonly process: { readonly pid?: number | undefined };
  isConnected(): boolean;
  send(message: object): boolean;
}

/** The slice of node:cluster this needs: worker messages and exits. */
export interface WorkerEvents {
  on(event: 'message', listener: (worker: AssignableWorker, message: unknown) => void): unknown;
  on(event: 'exit', listener: (worker: AssignableWorker) => void): unknown;
}

/** The orders this sends to the worker that runs the engine (the scheduler feature's worker part takes them). */
type SchedulerControl = { readonly t: 'vc:scheduler-start'; readonly generation: number } | { readonly t: 'vc:scheduler-stop' };

/**
 * The primary's part in the scheduler: while this server holds the singleton lease, exactly one
 * of its serving workers runs the scheduler engine. It follows the workers by their own messages
 * (a worker is ready once it says vc:ready) and exits, so the primary only has to register it as
 * singleton work; when the worker holding the role dies, the next ready one gets it, under the
 * same lease generation.
 */
export class SchedulerAssignment implements SingletonWork {
  readonly #logger: Logger;
  /** Serving workers that said they are ready, oldest first. */
  readonly #ready: AssignableWorker[] = [];
  #generation: number | undefined;
  #holder: AssignableWorker | undefined;

  constructor(events: WorkerEvents, logger: Logger) {
    this.#logger = logger;
    events.on('message', (worker, message) => {
      if ((message as { t?: unknown } | null)?.t !== 'vc:ready' || this.#ready.includes(worker)) return;
      this.#ready.push(worker);
      this.#assign();
    });
    events.on('exit', (worker) => {
      const index = this.#ready.indexOf(worker);
      if (index >= 0) this.#ready.splice(index, 1);
      if (this.#holder !== worker) return;
      this.#holder = undefined;
      this.#logger.warn({ workerId: worker.id, pid: worker.process.pid }, 'The worker running the scheduler died; another takes over');
      this.#assign();
    });
  }

  /** The worker running the scheduler now, if any. */
  get holder(): AssignableWorker | undefined {
    return this.#holder;
  }

  start(generation: number): void {
    if (this.#holder !== undefined && this.#generation !== generation) this.#send(this.#holder, { t: 'vc:scheduler-stop' });
    if (this.#generation !== generation) this.#holder = undefined;
    this.#generation = generation;
    this.#assign();
  }

  stop(): void {
    if (this.#holder !== undefined) this.#send(this.#holder, { t: 'vc:scheduler-stop' });
    this.#holder = undefined;
    this.#generation = undefined;
  }

  #assign(): void {
    if (this.#generation === undefined || this.#holder !== undefined) return;
    const worker = this.#ready.find((w) => w.isConnected());
    if (worker === undefined) return;
    this.#holder = worker;
    this.#send(worker, { t: 'vc:scheduler-start', generation: this.#generation });
    this.#logger.info({ workerId: worker.id, pid: worker.process.pid, generation: this.#generation }, 'The scheduler runs in this worker');
  }

  #send(worker: AssignableWorker, message: SchedulerControl): void {
    if (worker.isConnected()) worker.send(message);
  }
}
