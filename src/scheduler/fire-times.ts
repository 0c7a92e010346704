import { cronSchedule } from './cron-schedule.js';
import { intervalMs } from './interval.js';
import type { SchedulerJob } from './job-kind.js';

/** One fire time of a job's schedule. */
export interface Fire {
  readonly plannedAt: number;
  /**
   * The fire time's place in the schedule, 1 for the first, when the schedule has a first fire
   * time (one-time jobs, interval jobs with a start date); otherwise runs are counted by the engine.
   */
  readonly position: number | undefined;
}

/** A job's fire times, as pure arithmetic on milliseconds: no clock, no state. */
export interface FireTimes {
  /** The first fire time at or after `from`. */
  atOrAfter(from: number): Fire | undefined;
  /** Up to `count` fire times at or after `from` and before `before`, newest first. */
  between(from: number, before: number, count: number): Fire[];
}

export type JobTiming = Pick<SchedulerJob, 'type' | 'start_date' | 'interval' | 'repeats' | 'cron' | 'timezone'>;

export function fireTimes(job: JobTiming): FireTimes {
  switch (job.type) {
    case 'one_time':
      return oneTime(Date.parse(job.start_date!));
    case 'interval':
      // Without a start date the rhythm is counted from the Unix epoch: every 15 minutes fires at
      // :00, :15, :30 and :45 UTC, the same on every server and after every restart.
      return interval(
        job.start_date === undefined ? undefined : Date.parse(job.start_date),
        intervalMs(job.interval!),
        job.repeats,
      );
    case 'cron':
      return cron(
        job.cron!,
        job.timezone,
        job.start_date === undefined ? Number.NEGATIVE_INFINITY : Date.parse(job.start_date),
      );
  }
}

function oneTime(at: number): FireTimes {
  const fire: Fire = { plannedAt: at, position: 1 };
  return {
    atOrAfter: (from) => (at >= from ? fire : undefined),
    between: (from, before, count) => (at >= from && at < before && count > 0 ? [fire] : []),
  };
}

function interval(startDate: number | undefined, period: number, repeats: number | undefined): FireTimes {
  const start = startDate ?? 0;
  const limit = repeats ?? Number.POSITIVE_INFINITY;
  /** The index of the first fire time at or after `t`. */
  const indexAtOrAfter = (t: number) => (t <= start ? 0 : Math.ceil((t - start) / period));
  const fire = (index: number): Fire => ({
    plannedAt: start + index * period,
    position: startDate === undefined ? undefined : index + 1,
  });
  return {
    atOrAfter(from) {
      const index = indexAtOrAfter(from);
      return index < limit ? fire(index) : undefined;
    },
    between(from, before, count) {
      const first = indexAtOrAfter(from);
      const end = Math.min(indexAtOrAfter(before), limit);
      const fires: Fire[] = [];
      for (let index = end - 1; index >= first && fires.length < count; index--) fires.push(fire(index));
      return fires;
    },
  };
}

function cron(expression: string, timeZone: string | undefined, notBefore: number): FireTimes {
  const schedule = cronSchedule(expression, timeZone);
  return {
    atOrAfter(from) {
      const at = schedule.atOrAfter(Math.max(from, notBefore));
      return at === undefined ? undefined : { plannedAt: at, position: undefined };
    },
    between(from, before, count) {
      if (count <= 0 || before <= Math.max(from, notBefore)) return [];
      const floor = Math.max(from, notBefore);
      return schedule
        .latestBefore(before, count)
        .filter((at) => at >= floor)
        .map((at) => ({ plannedAt: at, position: undefined }));
    },
  };
}
