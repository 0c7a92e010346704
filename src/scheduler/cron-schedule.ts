import { Cron } from 'croner';

/** Cron jobs without a time zone run in UTC, so every server computes the same fire times. */
export const DEFAULT_TIME_ZONE = 'UTC';

/**
 * The fire times of one cron expression in one time zone, computed by croner: 5 fields, or 6
 * with seconds first. Around daylight-saving changes croner treats a fixed-time expression
 * (single second, minute and hour: `30 2 * * *`) as "once a day at that wall-clock time": in the
 * spring gap it fires at the first valid time after it (03:00), and of a repeated autumn hour it
 * takes the first occurrence only. Any other expression (`*\/15 * * * *`) is a rhythm: times in
 * the gap do not exist and are skipped, and both occurrences of a repeated time fire.
 */
export class CronSchedule {
  readonly #cron: Cron;
  /** The last question and answer: jobs sharing an expression ask the same question in turn. */
  #lastFrom = Number.NaN;
  #lastAnswer: number | undefined;

  constructor(expression: string, timeZone: string = DEFAULT_TIME_ZONE) {
    this.#cron = new Cron(expression, { paused: true, timezone: timeZone, mode: '5-or-6-parts' });
  }

  /** The first fire time at or after `from` (ms), if there is one. */
  atOrAfter(from: number): number | undefined {
    if (from === this.#lastFrom) return this.#lastAnswer;
    // croner answers "strictly after", to the second.
    const next = this.#cron.nextRun(new Date(from - 1));
    this.#lastFrom = from;
    this.#lastAnswer = next === null ? undefined : next.getTime();
    return this.#lastAnswer;
  }

  /** Up to `count` fire times strictly before `before` (ms), newest first. */
  latestBefore(before: number, count: number): number[] {
    return this.#cron.previousRuns(count, new Date(before)).map((d) => d.getTime());
  }
}

const cache = new Map<string, CronSchedule>();
const CACHE_LIMIT = 10_000;

/**
 * The shared schedule of an expression and time zone. Thousands of jobs often share a handful of
 * expressions ("every minute"), and croner takes about 0.1 ms per answer, so they share one
 * instance and its last answer.
 */
export function cronSchedule(expression: string, timeZone: string = DEFAULT_TIME_ZONE): CronSchedule {
  const key = `${expression}\u0000${timeZone}`;
  let schedule = cache.get(key);
  if (schedule === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    schedule = new CronSchedule(expression, timeZone);
    cache.set(key, schedule);
  }
  return schedule;
}

/** Why the expression or time zone cannot be used, or undefined when both are fine. */
export function cronProblem(expression: string, timeZone: string = DEFAULT_TIME_ZONE): string | undefined {
  if (!isTimeZone(timeZone)) return `unknown time zone ${timeZone}; use an IANA name such as Europe/Warsaw`;
  let schedule: CronSchedule;
  try {
    schedule = new CronSchedule(expression, timeZone);
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  }
  if (schedule.atOrAfter(Date.now()) === undefined) return 'the expression never matches a date';
  return undefined;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
