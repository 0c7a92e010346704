import { parentPort, workerData } from 'node:worker_threads';
import type { ClaimResult, LedgerWrite } from './run-ledger.js';
import { SqliteLedgerWriter } from './sqlite-ledger-writer.js';

/** What the thread is asked: a write, or to close. */
export type ToLedgerThread = { readonly seq: number; readonly work: LedgerWrite } | { readonly close: true };
/** Its answer to a write. */
export type FromLedgerThread =
  | { readonly seq: number; readonly results: ClaimResult[] }
  | { readonly seq: number; readonly error: { readonly message: string; readonly code?: string } };

/** The SQLite run ledger's thread: one connection, one write at a time, in the order asked. */
const { file, worker } = workerData as { file: string; worker: string };
let writer: SqliteLedgerWriter | undefined;
parentPort!.on('message', (message: ToLedgerThread) => {
  if ('close' in message) {
    writer?.close();
    writer = undefined;
    parentPort!.close();
    return;
  }
  let answer: FromLedgerThread;
  try {
    writer ??= new SqliteLedgerWriter(file, worker);
    answer = { seq: message.seq, results: writer.write(message.work) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    answer = {
      seq: message.seq,
      error: { message: (error as Error).message ?? String(error), ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  parentPort!.postMessage(answer);
});
