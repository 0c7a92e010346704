import type { Logger } from 'pino';
import { WORKER_READY, type SingletonWork } from '../feature/singleton-work.js';
import { encodeNotification, readNotification } from '../util/process-link/message-definition.js';
import { SCHEDULER_START, SCHEDULER_STOP } from './scheduler-messages.js';

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
  on(event: 'exit', listener: (worker: AssignableWorker, code: number | null) => void): unknown;
}

/**
 * The primary's part in the scheduler: while this server holds the singleton lease, exactly one
 * of its serving workers runs the scheduler engine. It follows the workers by their own messages
 * (a worker is ready once it says WORKER_READY) and exits, so the primary only has to register it as
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
      if (readNotification(WORKER_READY, message) === undefined || this.#ready.includes(worker)) return;
      this.#ready.push(worker);
      this.#assign();
    });
    events.on('exit', (worker, code) => {
      const index = this.#ready.indexOf(worker);
      if (index >= 0) this.#ready.splice(index, 1);
      if (this.#holder !== worker) return;
      this.#holder = undefined;
      // A worker that drained and exited (the server stopping, a recycle) did not die.
      const fields = { workerId: worker.id, workerPid: worker.process.pid, code };
      if (code === 0) this.#logger.info(fields, 'The worker running the scheduler stopped; another takes over');
      else this.#logger.warn(fields, 'The worker running the scheduler died; another takes over');
      this.#assign();
    });
  }

  /** The worker running the scheduler now, if any. */
  get holder(): AssignableWorker | undefined {
    return this.#holder;
  }

  start(generation: number): void {
    if (this.#holder !== undefined && this.#generation !== generation)
      this.#send(this.#holder, encodeNotification(SCHEDULER_STOP));
    if (this.#generation !== generation) this.#holder = undefined;
    this.#generation = generation;
    this.#assign();
  }

  stop(): void {
    if (this.#holder !== undefined) this.#send(this.#holder, encodeNotification(SCHEDULER_STOP));
    this.#holder = undefined;
    this.#generation = undefined;
  }

  #assign(): void {
    if (this.#generation === undefined || this.#holder !== undefined) return;
    const worker = this.#ready.find((w) => w.isConnected());
    if (worker === undefined) return;
    this.#holder = worker;
    this.#send(worker, encodeNotification(SCHEDULER_START, { generation: this.#generation }));
    this.#logger.info(
      { workerId: worker.id, workerPid: worker.process.pid, generation: this.#generation },
      'The scheduler runs in this worker',
    );
  }

  /** Straight to the worker, not through its link: a notification needs no reply to match. */
  #send(worker: AssignableWorker, message: object): void {
    if (worker.isConnected()) worker.send(message);
  }
}
