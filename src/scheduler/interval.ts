/** An interval job's period, as given: any mix of the units, each a whole number. */
export interface IntervalSpec {
  readonly weeks?: number;
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/**
 * The period in milliseconds. Days and weeks are fixed lengths (24 h, 7 × 24 h), not calendar
 * days: an interval job keeps its rhythm in absolute time across daylight-saving changes. A job
 * that must run at a wall-clock time is a cron job with a time zone.
 */
export function intervalMs(spec: IntervalSpec): number {
  return (
    (spec.weeks ?? 0) * WEEK +
    (spec.days ?? 0) * DAY +
    (spec.hours ?? 0) * HOUR +
    (spec.minutes ?? 0) * MINUTE +
    (spec.seconds ?? 0) * SECOND
  );
}
