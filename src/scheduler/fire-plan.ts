import type { Fire, FireTimes } from './fire-times.js';
import type { CATCH_UP_POLICIES } from './job-kind.js';

export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/**
 * A fire time is missed, rather than late, once the scheduler could not start it within this
 * long: no singleton was alive, or the scheduler's process stood still. Late fire times run as
 * usual; missed ones follow the job's catch-up policy.
 */
export const MISFIRE_GRACE_MS = 1_000;

/** The most missed fire times the `all` policy runs for one job at once (the newest ones). */
export const MAX_CATCH_UP_RUNS = 100;

export interface FirePlan {
  /** Missed fire times to run now as catch-up runs, oldest first. */
  readonly catchUp: readonly Fire[];
  /** The fire time to wait for (it may be due at once, if late but within the grace). */
  readonly next: Fire | undefined;
}

export interface PlanInput {
  /** No fire time before this one is considered (it ran, or the schedule starts here). */
  readonly from: number;
  readonly now: number;
  readonly policy: CatchUpPolicy;
  readonly graceMs?: number;
}

/**
 * What to do about a job's fire times from `from` on: those older than the grace are missed and
 * become catch-up runs by the policy (`none`: nothing; `one`: one run for the newest missed
 * time, standing in for all of them; `all`: one run each, up to MAX_CATCH_UP_RUNS), and the first
 * fire time after that is the one to wait for.
 */
export function planFires(times: FireTimes, input: PlanInput): FirePlan {
  const cutoff = input.now - (input.graceMs ?? MISFIRE_GRACE_MS);
  const next = times.atOrAfter(Math.max(input.from, cutoff));
  if (input.policy === 'none' || input.from >= cutoff) return { catchUp: [], next };
  const count = input.policy === 'one' ? 1 : MAX_CATCH_UP_RUNS;
  return { catchUp: times.between(input.from, cutoff, count).reverse(), next };
}
