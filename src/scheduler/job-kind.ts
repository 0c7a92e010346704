import { z } from 'zod';
import type { ConfigKind } from '../config/config-kind.js';
import { objectName } from '../config/object-name.js';
import { cronProblem } from './cron-schedule.js';
import { intervalMs } from './interval.js';

export const JOB_TYPES = ['one_time', 'interval', 'cron'] as const;
/** What happens to fire times missed while no scheduler ran: see docs/scheduler.md#catch-up. */
export const CATCH_UP_POLICIES = ['none', 'one', 'all'] as const;
export const DEFAULT_HISTORY_SIZE = 100;

const ISO_MOMENT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Date.parse rolls 30 February over into March; a date that does not exist is a typo. */
function isRealMoment(text: string): boolean {
  const [, y, mo, d, h, mi, s = '0', oh = '0', om = '0'] = ISO_MOMENT.exec(text) ?? [];
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return (
    day.getUTCMonth() === Number(mo) - 1 &&
    day.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60 &&
    Number(oh) < 24 &&
    Number(om) < 60
  );
}

/** A moment with its offset from UTC, so that every server reads the same instant. */
const isoMoment = z
  .string()
  .regex(ISO_MOMENT, 'use ISO 8601 with a UTC offset, e.g. 2030-01-31T09:00:00Z or 2030-01-31T10:00:00+01:00')
  .refine(isRealMoment, 'not a valid date');

const unit = z.number().int().nonnegative().max(100_000);

const intervalSchema = z
  .strictObject({
    weeks: unit.optional(),
    days: unit.optional(),
    hours: unit.optional(),
    minutes: unit.optional(),
    seconds: unit.optional(),
  })
  .refine((i) => intervalMs(i) >= 1_000, 'the interval must be at least 1 second');

export const schedulerJobSchema = z
  .strictObject({
    name: objectName,
    is_active: z.boolean().default(true),
    service: z
      .string()
      .min(1)
      .max(255)
      .refine((s) => !s.startsWith('viaduct.'), "the platform's own viaduct.* services cannot be scheduled"),
    type: z.enum(JOB_TYPES),
    /** one_time: the moment; interval: the first fire time; cron: no fire time before it. */
    start_date: isoMoment.optional(),
    interval: intervalSchema.optional(),
    /** interval only, with start_date: how many fire times the schedule has. */
    repeats: z.number().int().positive().optional(),
    cron: z.string().min(1).max(200).optional(),
    /** cron only: the IANA time zone the expression is read in; UTC when absent. */
    timezone: z.string().min(1).max(100).optional(),
    /** The service's request payload. */
    extra: z.unknown().optional(),
    jitter_ms: z.number().int().nonnegative().max(3_600_000).optional(),
    /** The run's timeout; the service's own or the server's default when absent. */
    max_run_time_ms: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3_600_000)
      .optional(),
    catch_up: z.enum(CATCH_UP_POLICIES).default('one'),
    /** How many of the newest runs the ODB keeps for this job. */
    history_size: z.number().int().positive().max(10_000).default(DEFAULT_HISTORY_SIZE),
  })
  .superRefine((job, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const onlyFor = (field: 'interval' | 'repeats' | 'cron' | 'timezone', type: string) => {
      if (job[field] !== undefined && job.type !== type) problem(field, `applies to ${type} jobs only`);
    };
    onlyFor('interval', 'interval');
    onlyFor('repeats', 'interval');
    onlyFor('cron', 'cron');
    onlyFor('timezone', 'cron');
    if (job.type === 'one_time' && job.start_date === undefined)
      problem('start_date', 'a one_time job needs start_date');
    if (job.type === 'interval' && job.interval === undefined)
      problem('interval', 'an interval job needs interval, e.g. {"minutes": 15}');
    if (job.type === 'interval' && job.repeats !== undefined && job.start_date === undefined)
      problem('repeats', 'repeats counts from start_date, which is missing');
    if (job.type === 'cron') {
      if (job.cron === undefined) problem('cron', 'a cron job needs cron, e.g. "*/15 * * * *"');
      else {
        const reason = cronProblem(job.cron, job.timezone);
        if (reason !== undefined)
          problem(job.timezone !== undefined && reason.startsWith('unknown time zone') ? 'timezone' : 'cron', reason);
      }
    }
  });

export type SchedulerJob = z.infer<typeof schedulerJobSchema>;

export const SCHEDULER_JOB = 'scheduler.job';

/**
 * Scheduler jobs are configuration objects: viaduct.scheduler.job.create|edit|delete|get|get-list
 * and enmasse (`scheduler:` is itself the list) come from this descriptor. The service is not a
 * checked reference: a job may be set up before its service is deployed, and a run whose service
 * is missing is recorded as failed with VIA_ERR_SERVICE_NOT_FOUND.
 */
export const schedulerJobKind: ConfigKind<SchedulerJob> = {
  type: SCHEDULER_JOB,
  label: 'scheduler job',
  schema: schedulerJobSchema,
  secretFields: [],
  enmasse: ['scheduler'],
};
