import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { schedulerJobSchema } from '../../src/scheduler/job-kind.js';

/** The problems the schema reports, as "path: message". */
function problems(input: unknown): string[] {
  const result = schedulerJobSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const base = { name: 'job1', service: 'demo.hello' };

describe('scheduler job definition', () => {
  test('defaults: active, one catch-up run, 100 runs of history', () => {
    const job = schedulerJobSchema.parse({ ...base, type: 'interval', interval: { minutes: 5 } });
    assert.equal(job.is_active, true);
    assert.equal(job.catch_up, 'one');
    assert.equal(job.history_size, 100);
  });

  test('each type accepts what it needs', () => {
    assert.deepEqual(problems({ ...base, type: 'one_time', start_date: '2030-01-01T09:00:00+01:00' }), []);
    assert.deepEqual(
      problems({
        ...base,
        type: 'interval',
        interval: { hours: 1 },
        start_date: '2030-01-01T09:00:00Z',
        repeats: 3,
        jitter_ms: 500,
        max_run_time_ms: 1000,
      }),
      [],
    );
    assert.deepEqual(
      problems({ ...base, type: 'cron', cron: '0 9 * * 1-5', timezone: 'Europe/Warsaw', extra: { any: ['json'] } }),
      [],
    );
    assert.deepEqual(problems({ ...base, type: 'cron', cron: '*/5 * * * * *' }), [], '6 fields: seconds first');
  });

  test('what is missing or does not belong to the type is named', () => {
    assert.deepEqual(problems({ ...base, type: 'one_time' }), ['start_date: a one_time job needs start_date']);
    assert.deepEqual(problems({ ...base, type: 'interval' }), [
      'interval: an interval job needs interval, e.g. {"minutes": 15}',
    ]);
    assert.deepEqual(problems({ ...base, type: 'cron' }), ['cron: a cron job needs cron, e.g. "*/15 * * * *"']);
    assert.deepEqual(
      problems({ ...base, type: 'interval', interval: { seconds: 5 }, cron: '* * * * *', timezone: 'UTC' }),
      ['cron: applies to cron jobs only', 'timezone: applies to cron jobs only'],
    );
    assert.deepEqual(problems({ ...base, type: 'cron', cron: '* * * * *', repeats: 2 }), [
      'repeats: applies to interval jobs only',
    ]);
    assert.deepEqual(problems({ ...base, type: 'interval', interval: { seconds: 5 }, repeats: 2 }), [
      'repeats: repeats counts from start_date, which is missing',
    ]);
  });

  test('bad cron expressions, time zones, intervals and dates are refused with the reason', () => {
    assert.match(problems({ ...base, type: 'cron', cron: '61 * * * *' }).join(), /^cron: Invalid value for minute: 61/);
    assert.match(problems({ ...base, type: 'cron', cron: '* * * *' }).join(), /^cron: .*five, six, or seven/);
    assert.match(
      problems({ ...base, type: 'cron', cron: '* * * * * * *' }).join(),
      /^cron: .*requires exactly 5 or 6 parts/,
    );
    assert.deepEqual(problems({ ...base, type: 'cron', cron: '0 0 30 2 *' }), [
      'cron: the expression never matches a date',
    ]);
    assert.match(
      problems({ ...base, type: 'cron', cron: '0 9 * * *', timezone: 'Mars/Olympus' }).join(),
      /^timezone: unknown time zone Mars\/Olympus/,
    );
    assert.deepEqual(problems({ ...base, type: 'interval', interval: { seconds: 0 } }), [
      'interval: the interval must be at least 1 second',
    ]);
    assert.deepEqual(problems({ ...base, type: 'interval', interval: { seconds: 1.5 } }).length, 1);
    assert.match(
      problems({ ...base, type: 'one_time', start_date: '2030-01-01T09:00:00' }).join(),
      /^start_date: use ISO 8601 with a UTC offset/,
    );
    assert.deepEqual(problems({ ...base, type: 'one_time', start_date: '2030-02-30T09:00:00Z' }), [
      'start_date: not a valid date',
    ]);
    assert.deepEqual(problems({ ...base, type: 'one_time', start_date: '2030-01-01T24:30:00Z' }), [
      'start_date: not a valid date',
    ]);
  });

  test("the platform's own services cannot be scheduled; unknown fields are refused", () => {
    assert.deepEqual(
      problems({ ...base, service: 'viaduct.enmasse.export', type: 'interval', interval: { seconds: 5 } }),
      ["service: the platform's own viaduct.* services cannot be scheduled"],
    );
    assert.match(
      problems({ ...base, type: 'interval', interval: { seconds: 5 }, colour: 'red' }).join(),
      /Unrecognized key/,
    );
  });
});
