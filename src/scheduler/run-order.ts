import type { BrokerMessage } from '../broker/broker.js';
import type { ConfigObject } from '../config/config-kind.js';
import type { SchedulerRunInfo } from '../service/request.js';
import type { SchedulerJob } from './job-kind.js';

/** The broker action that carries runs from the scheduler to whichever worker takes them. */
export const SCHEDULER_RUN = 'scheduler.run';

export type RunTrigger = SchedulerRunInfo['trigger'];

/**
 * One run, complete in itself: the worker that takes it needs nothing from its own configuration
 * snapshot, which on another server may not have caught up with the job yet.
 */
export interface RunOrder {
  readonly jobId: string;
  readonly job: string;
  readonly service: string;
  readonly extra: unknown;
  readonly maxRunTimeMs: number | undefined;
  readonly historySize: number;
  /** ISO 8601, UTC, with milliseconds: the same text for the same instant, so it can be a key. */
  readonly plannedAt: string;
  readonly runNumber: number;
  readonly trigger: RunTrigger;
  /**
   * Epoch milliseconds: the run is not started before then (its fire time plus jitter). Set on
   * runs the scheduler sends ahead of their time; absent, the run starts as soon as it is claimed.
   */
  readonly startAt?: number;
}

/** Runs that fell due together, dispatched as one message so a busy second costs few messages. */
export interface RunMessage extends BrokerMessage {
  readonly action: typeof SCHEDULER_RUN;
  /** The singleton lease generation of the scheduler that planned the runs; null for runs started by hand. */
  readonly generation: number | null;
  readonly runs: readonly RunOrder[];
}

/** What the worker that took a message did with each of its runs. */
export interface DispatchOutcome {
  /** Per run, in the message's order: the id of its history row, or null when it was not run. */
  readonly ids: ReadonlyArray<string | null>;
  /** Runs whose fire time had been taken already (a redelivery, or two schedulers overlapping). */
  readonly duplicates: number;
  /** Runs refused because a newer singleton holds the lease: their scheduler is stale. */
  readonly fenced: number;
}

export function runOrder(
  object: ConfigObject<SchedulerJob>,
  plannedAt: number,
  runNumber: number,
  trigger: RunTrigger,
  startAt?: number,
): RunOrder {
  const job = object.data;
  const order: RunOrder = {
    jobId: object.id,
    job: job.name,
    service: job.service,
    extra: job.extra,
    maxRunTimeMs: job.max_run_time_ms,
    historySize: job.history_size,
    plannedAt: new Date(plannedAt).toISOString(),
    runNumber,
    trigger,
  };
  return startAt === undefined ? order : { ...order, startAt };
}
