import { randomBytes } from 'node:crypto';
import type { SchedulerRunTable } from '../odb/schema.js';
import type { RunOrder } from './run-order.js';

export interface ClaimBatch {
  readonly generation: number | null;
  readonly runs: readonly RunOrder[];
}

export interface ClaimResult {
  /** Per run: the id of its new history row, or null when its fire time was taken already. */
  readonly ids: ReadonlyArray<string | null>;
  /** The whole batch was refused: a newer singleton holds the lease. */
  readonly fenced: boolean;
}

export type RunOutcome = 'ok' | 'error' | 'timeout';

export interface FinishedRun {
  readonly id: string;
  readonly order: RunOrder;
  readonly generation: number | null;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly outcome: RunOutcome;
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

/** What a worker has for the ledger at one time: runs to claim, runs that ended. */
export interface LedgerWrite {
  readonly claims: readonly ClaimBatch[];
  readonly finished: readonly FinishedRun[];
}

/**
 * The exactly-once ledger of runs, written by the workers that run them. A worker claims a run
 * by inserting its row before it starts: the key (job_id, manual, planned_at) lets only one
 * insert of a fire time through, whichever scheduler or redelivery sent it; the others are
 * duplicates and do not run. In the same transaction the batch's lease generation is checked
 * against the singleton lease: a scheduler that is no longer the singleton cannot start anything.
 *
 * One write carries everything a worker has at hand (how runs ended, trimming their jobs'
 * history when due, then the claims) in one transaction: fewer, fuller transactions are what
 * keeps runs on time when thousands a second share one ODB.
 */
export interface RunLedger {
  write(work: LedgerWrite): Promise<ClaimResult[]>;
  close(): Promise<void>;
}

/** Helpers both ledgers share follow; open one with openRunLedger (open-run-ledger.ts). */

/** A write refused for stale batches: it is undone and done again without them. */
export class Fenced extends Error {
  constructor(readonly batches: readonly number[]) {
    super(`stale batches ${batches.join(', ')}`);
  }
}

/**
 * Runs `attempt` until no batch turns out stale. `fenced` holds the indexes of the batches found
 * stale so far; an attempt that finds another throws Fenced after undoing its work.
 */
export async function writeWithoutStale(
  claims: readonly ClaimBatch[],
  attempt: (fenced: ReadonlySet<number>) => Promise<ClaimResult[]>,
): Promise<ClaimResult[]> {
  const fenced = new Set<number>();
  for (;;) {
    try {
      return await attempt(fenced);
    } catch (error) {
      if (!(error instanceof Fenced)) throw error;
      for (const b of error.batches) fenced.add(b);
    }
  }
}

/** The batches that are stale against the lease's current generation, beyond those known already. */
export function staleBatches(
  claims: readonly ClaimBatch[],
  fenced: ReadonlySet<number>,
  leaseGeneration: number,
): number[] {
  const stale: number[] = [];
  claims.forEach((batch, b) => {
    if (batch.generation !== null && batch.generation < leaseGeneration && !fenced.has(b)) stale.push(b);
  });
  return stale;
}

/** Fresh ids for the runs of batches not fenced; null for the others. */
export function newIds(claims: readonly ClaimBatch[], fenced: ReadonlySet<number>): Array<Array<string | null>> {
  return claims.map((batch, b) => batch.runs.map(() => (fenced.has(b) ? null : runId())));
}

export function claimResults(
  claims: readonly ClaimBatch[],
  ids: Array<Array<string | null>>,
  fenced: ReadonlySet<number>,
  claimed: ReadonlySet<string>,
): ClaimResult[] {
  return claims.map((_, b) => ({
    fenced: fenced.has(b),
    ids: ids[b]!.map((id) => (id !== null && claimed.has(id) ? id : null)),
  }));
}

const ERROR_MAX_LENGTH = 4_000;

/** What the ledger row of a run records, beside the worker that ran it. */
export interface RunRowFields {
  readonly id: string;
  readonly order: RunOrder;
  readonly generation: number | null;
  readonly startedAt: number;
  readonly outcome: RunOutcome | 'running';
  readonly durationMs?: number | undefined;
  readonly error?: FinishedRun['error'] | undefined;
}

/** The ledger row of a run: 'running' when claimed, its outcome once it ended. */
export function runRow(run: RunRowFields, worker: string): SchedulerRunTable {
  const { id, order, generation, startedAt, outcome, durationMs, error } = run;
  return {
    job_id: order.jobId,
    job_name: order.job,
    planned_at: order.plannedAt,
    manual: order.trigger === 'execute' ? 1 : 0,
    id,
    run_trigger: order.trigger,
    run_number: order.runNumber,
    generation,
    worker,
    started_at: new Date(startedAt).toISOString(),
    duration_ms: durationMs === undefined ? null : Math.round(durationMs),
    outcome,
    error_code: error?.code ?? null,
    error: error === undefined ? null : error.message.slice(0, ERROR_MAX_LENGTH),
  };
}

export function finishedRow(run: FinishedRun, worker: string): SchedulerRunTable {
  return runRow(run, worker);
}

/** The claim rows of a write, in one order everywhere, so concurrent claims lock rows without deadlocking. */
export function claimRows(
  claims: readonly ClaimBatch[],
  ids: Array<Array<string | null>>,
  worker: string,
): SchedulerRunTable[] {
  const now = Date.now();
  const rows: SchedulerRunTable[] = [];
  claims.forEach((batch, b) =>
    batch.runs.forEach((order, r) => {
      const id = ids[b]![r];
      // A run sent ahead of its time shows as starting then until it does.
      if (id != null)
        rows.push(
          runRow(
            {
              id,
              order,
              generation: batch.generation,
              startedAt: Math.max(now, order.startAt ?? now),
              outcome: 'running',
            },
            worker,
          ),
        );
    }),
  );
  return rows.sort((x, y) => compare(x.job_id, y.job_id) || compare(x.planned_at, y.planned_at));
}

/**
 * Trimming a job's history after each of its runs would cost a statement per run; it is done
 * after every half history_size of runs instead (and after every run by hand), so a job keeps
 * its newest history_size runs and at most half as many again until the next trim.
 *
 * Which of those runs trims is shifted by a number drawn from the job's id: jobs that run in
 * step (the same interval, numbered from the same start) would otherwise all trim at the same
 * fire time, thousands of deletes in one second every `history_size / 2` of them.
 */
export function jobsToPrune(finished: readonly FinishedRun[]): Map<number, string[]> {
  const bySize = new Map<number, Set<string>>();
  for (const { order } of finished) {
    const every = Math.max(1, Math.floor(order.historySize / 2));
    const due = order.trigger === 'execute' || (order.runNumber + pruneShift(order.jobId)) % every === 0;
    if (due) bySize.set(order.historySize, (bySize.get(order.historySize) ?? new Set<string>()).add(order.jobId));
  }
  return new Map([...bySize].map(([size, jobs]) => [size, [...jobs]]));
}

/** A stable number from a job's id (FNV-1a), the same in every worker. */
export function pruneShift(jobId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) hash = Math.imul(hash ^ jobId.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

let idCounter = 0;
const idPrefix = randomBytes(6).toString('hex');

/** A run's id: the time first (ids sort by when they were made), then this process's random prefix and a counter. */
function runId(): string {
  idCounter = (idCounter + 1) % 0x1000000;
  return `${Date.now().toString(16).padStart(12, '0')}-${idPrefix}-${idCounter.toString(16).padStart(6, '0')}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
