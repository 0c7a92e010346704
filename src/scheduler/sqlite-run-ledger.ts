import { Worker } from 'node:worker_threads';
import { ViaductError } from '../errors.js';
import type { ClaimResult, LedgerWrite, RunLedger } from './run-ledger.js';
import type { FromLedgerThread, ToLedgerThread } from './sqlite-ledger-thread.js';

interface Pending {
  readonly resolve: (results: ClaimResult[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The run ledger on SQLite. Its writes are done by a thread of this worker, with a connection of
 * its own to the ODB file, each as one synchronous IMMEDIATE transaction (sqlite-ledger-writer.ts):
 *
 * - SQLite has one writer at a time across all the workers; a transaction that waited on the
 *   event loop between its statements would hold the lock while the worker did other work.
 * - better-sqlite3 is synchronous: waiting for the lock held by another worker, writing the
 *   pages and checkpointing the WAL would otherwise stop this worker's event loop, and with it
 *   every run, broker message and timer of the worker (the scheduler engine's included).
 *
 * The thread is started on the first write and ended by close().
 */
export class SqliteRunLedger implements RunLedger {
  readonly #file: string;
  readonly #worker: string;
  readonly #pending = new Map<number, Pending>();
  #thread: Worker | undefined;
  #seq = 0;

  constructor(file: string, worker: string) {
    this.#file = file;
    this.#worker = worker;
  }

  write(work: LedgerWrite): Promise<ClaimResult[]> {
    if (work.claims.length === 0 && work.finished.length === 0) return Promise.resolve([]);
    const thread = (this.#thread ??= this.#start());
    const seq = ++this.#seq;
    return new Promise<ClaimResult[]>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      if (this.#pending.size === 1) thread.ref();
      thread.postMessage({ seq, work } satisfies ToLedgerThread);
    });
  }

  async close(): Promise<void> {
    const thread = this.#thread;
    if (thread === undefined) return;
    this.#thread = undefined;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.ref();
    thread.postMessage({ close: true } satisfies ToLedgerThread);
    await exited;
  }

  #start(): Worker {
    const thread = new Worker(new URL('./sqlite-ledger-thread.js', import.meta.url), {
      workerData: { file: this.#file, worker: this.#worker },
    });
    // Idle, the thread does not keep the process alive; a write in progress does.
    thread.unref();
    thread.on('message', (answer: FromLedgerThread) => {
      const pending = this.#pending.get(answer.seq);
      if (pending === undefined) return;
      this.#pending.delete(answer.seq);
      if (this.#pending.size === 0) thread.unref();
      if ('results' in answer) pending.resolve(answer.results);
      else pending.reject(rebuilt(answer.error));
    });
    const failAll = (error: Error) => {
      if (this.#thread === thread) this.#thread = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    thread.on('error', failAll);
    thread.on('exit', (code) =>
      failAll(new ViaductError('VIA_ERR_INTERNAL', `The run ledger's thread ended (exit code ${code})`)),
    );
    return thread;
  }
}

function rebuilt(error: { readonly message: string; readonly code?: string }): Error {
  if (error.code?.startsWith('VIA_ERR_'))
    return new ViaductError(error.code as ConstructorParameters<typeof ViaductError>[0], error.message);
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
}
