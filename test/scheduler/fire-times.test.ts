import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planFires, MAX_CATCH_UP_RUNS } from '../../src/scheduler/fire-plan.js';
import { fireTimes, type FireTimes, type JobTiming } from '../../src/scheduler/fire-times.js';
import { jitterDelay } from '../../src/scheduler/jitter.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The first `count` fire times from `from`, as ISO strings. */
function firesFrom(times: FireTimes, from: string, count: number): string[] {
  const out: string[] = [];
  let next = times.atOrAfter(at(from));
  while (next !== undefined && out.length < count) {
    out.push(iso(next.plannedAt)!);
    next = times.atOrAfter(next.plannedAt + 1);
  }
  return out;
}

const interval = (extra: Partial<JobTiming>): FireTimes =>
  fireTimes({ type: 'interval', interval: { seconds: 10 }, ...extra });
const cron = (expression: string, timezone?: string, start_date?: string): FireTimes =>
  fireTimes({ type: 'cron', cron: expression, timezone, start_date });

describe('interval fire times', () => {
  test('start_date is the first fire time; then every interval; the position counts from 1', () => {
    const times = interval({ start_date: '2030-01-01T00:00:00Z' });
    assert.deepEqual(times.atOrAfter(at('2029-12-31T00:00:00Z')), {
      plannedAt: at('2030-01-01T00:00:00Z'),
      position: 1,
    });
    assert.deepEqual(times.atOrAfter(at('2030-01-01T00:00:00Z')), {
      plannedAt: at('2030-01-01T00:00:00Z'),
      position: 1,
    });
    assert.deepEqual(times.atOrAfter(at('2030-01-01T00:00:00.001Z')), {
      plannedAt: at('2030-01-01T00:00:10Z'),
      position: 2,
    });
    assert.deepEqual(times.atOrAfter(at('2030-01-01T01:00:05Z')), {
      plannedAt: at('2030-01-01T01:00:10Z'),
      position: 362,
    });
  });

  test('units add up; days are 24 hours even across a daylight-saving change', () => {
    const times = fireTimes({
      type: 'interval',
      interval: { weeks: 1, days: 1, hours: 1, minutes: 1, seconds: 1 },
      start_date: '2030-01-01T00:00:00Z',
    });
    assert.deepEqual(firesFrom(times, '2030-01-01T00:00:00Z', 2), [
      '2030-01-01T00:00:00.000Z',
      '2030-01-09T01:01:01.000Z',
    ]);
    const daily = fireTimes({ type: 'interval', interval: { days: 1 }, start_date: '2025-03-29T09:00:00+01:00' });
    // Warsaw moves to +02:00 on 2025-03-30: the job keeps its 24-hour rhythm, so it runs at 10:00 local.
    assert.deepEqual(firesFrom(daily, '2025-03-29T00:00:00Z', 2), [
      '2025-03-29T08:00:00.000Z',
      '2025-03-30T08:00:00.000Z',
    ]);
  });

  test('without start_date the rhythm is counted from the Unix epoch: every 15 minutes is :00, :15, :30, :45 UTC', () => {
    const times = fireTimes({ type: 'interval', interval: { minutes: 15 } });
    assert.deepEqual(firesFrom(times, '2030-05-05T10:07:00Z', 3), [
      '2030-05-05T10:15:00.000Z',
      '2030-05-05T10:30:00.000Z',
      '2030-05-05T10:45:00.000Z',
    ]);
    assert.equal(
      times.atOrAfter(Date.parse('2030-05-05T10:07:00Z'))?.position,
      undefined,
      'with no first fire time, runs are counted',
    );
  });

  test('repeats bounds the schedule', () => {
    const times = interval({ start_date: '2030-01-01T00:00:00Z', repeats: 3 });
    assert.deepEqual(firesFrom(times, '2029-01-01T00:00:00Z', 10), [
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:10.000Z',
      '2030-01-01T00:00:20.000Z',
    ]);
    assert.equal(times.atOrAfter(at('2030-01-01T00:00:20.001Z')), undefined);
    assert.deepEqual(
      times.between(at('2029-01-01T00:00:00Z'), at('2031-01-01T00:00:00Z'), 10).map((f) => f.position),
      [3, 2, 1],
    );
  });

  test('between: newest first, bounded by count, start inclusive, end exclusive', () => {
    const times = interval({ start_date: '2030-01-01T00:00:00Z' });
    const fires = times.between(at('2030-01-01T00:00:10Z'), at('2030-01-01T00:01:00Z'), 3);
    assert.deepEqual(
      fires.map((f) => [iso(f.plannedAt), f.position]),
      [
        ['2030-01-01T00:00:50.000Z', 6],
        ['2030-01-01T00:00:40.000Z', 5],
        ['2030-01-01T00:00:30.000Z', 4],
      ],
    );
  });
});

describe('one-time fire times', () => {
  test('one fire time, position 1; none after it', () => {
    const times = fireTimes({ type: 'one_time', start_date: '2030-06-01T12:00:00+02:00' });
    assert.deepEqual(times.atOrAfter(at('2030-01-01T00:00:00Z')), {
      plannedAt: at('2030-06-01T10:00:00Z'),
      position: 1,
    });
    assert.equal(times.atOrAfter(at('2030-06-01T10:00:00.001Z')), undefined);
    assert.deepEqual(
      times.between(at('2030-01-01T00:00:00Z'), at('2030-06-01T10:00:00Z'), 5),
      [],
      'the end is exclusive',
    );
    assert.equal(times.between(at('2030-01-01T00:00:00Z'), at('2030-06-01T10:00:00.001Z'), 5).length, 1);
  });
});

describe('cron fire times', () => {
  test('5 fields run on the minute, 6 fields have seconds first; without a time zone, UTC', () => {
    assert.deepEqual(firesFrom(cron('*/15 9 * * *'), '2030-01-01T09:20:00Z', 3), [
      '2030-01-01T09:30:00.000Z',
      '2030-01-01T09:45:00.000Z',
      '2030-01-02T09:00:00.000Z',
    ]);
    assert.deepEqual(firesFrom(cron('*/20 * * * * *'), '2030-01-01T00:00:00Z', 3), [
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:20.000Z',
      '2030-01-01T00:00:40.000Z',
    ]);
    assert.equal(
      cron('0 9 * * *').atOrAfter(at('2030-01-01T00:00:00Z'))?.position,
      undefined,
      'cron runs are numbered by counting',
    );
  });

  test('start_date: no fire time before it', () => {
    assert.deepEqual(firesFrom(cron('0 * * * *', undefined, '2030-01-01T05:30:00Z'), '2030-01-01T00:00:00Z', 2), [
      '2030-01-01T06:00:00.000Z',
      '2030-01-01T07:00:00.000Z',
    ]);
    assert.deepEqual(
      cron('0 * * * *', undefined, '2030-01-01T05:30:00Z')
        .between(at('2030-01-01T00:00:00Z'), at('2030-01-01T08:00:00Z'), 10)
        .map((f) => iso(f.plannedAt)),
      ['2030-01-01T07:00:00.000Z', '2030-01-01T06:00:00.000Z'],
    );
  });

  test('Europe/Warsaw: a 02:30 daily job runs at 03:00 on the spring-forward day and once on the fall-back day', () => {
    const daily = cron('30 2 * * *', 'Europe/Warsaw');
    // 2025-03-30 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day.
    assert.deepEqual(firesFrom(daily, '2025-03-29T00:00:00Z', 3), [
      '2025-03-29T01:30:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-31T00:30:00.000Z',
    ]);
    // 2025-10-26 03:00 CEST falls back to 02:00 CET: 02:30 happens twice, the job runs at the first.
    assert.deepEqual(firesFrom(daily, '2025-10-25T00:00:00Z', 3), [
      '2025-10-25T00:30:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-27T01:30:00.000Z',
    ]);
  });

  test('Europe/Warsaw: a rhythm skips the hour that does not exist and runs in both copies of the repeated one', () => {
    const everyHalfHour = cron('*/30 * * * *', 'Europe/Warsaw');
    // Local 01:30, then 03:00 (02:00 and 02:30 do not exist), 03:30.
    assert.deepEqual(firesFrom(everyHalfHour, '2025-03-30T00:10:00Z', 3), [
      '2025-03-30T00:30:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-30T01:30:00.000Z',
    ]);
    // Local 02:00 and 02:30 CEST, then 02:00 and 02:30 CET again: every 30 minutes in absolute time.
    assert.deepEqual(firesFrom(everyHalfHour, '2025-10-26T00:00:00Z', 4), [
      '2025-10-26T00:00:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-26T01:00:00.000Z',
      '2025-10-26T01:30:00.000Z',
    ]);
  });

  test('America/New_York: 02:30 on the spring-forward day runs at 03:00 EDT; 01:30 on the fall-back day runs once', () => {
    assert.deepEqual(firesFrom(cron('30 2 * * *', 'America/New_York'), '2025-03-08T12:00:00Z', 3), [
      '2025-03-09T07:00:00.000Z',
      '2025-03-10T06:30:00.000Z',
      '2025-03-11T06:30:00.000Z',
    ]);
    assert.deepEqual(firesFrom(cron('30 1 * * *', 'America/New_York'), '2025-11-01T12:00:00Z', 2), [
      '2025-11-02T05:30:00.000Z',
      '2025-11-03T06:30:00.000Z',
    ]);
  });

  test('the same expression in two time zones gives different instants (the shared cache keys on both)', () => {
    assert.equal(
      iso(cron('0 9 * * *', 'Asia/Tokyo').atOrAfter(at('2030-01-01T01:00:00Z'))?.plannedAt),
      '2030-01-02T00:00:00.000Z',
    );
    assert.equal(
      iso(cron('0 9 * * *', 'UTC').atOrAfter(at('2030-01-01T01:00:00Z'))?.plannedAt),
      '2030-01-01T09:00:00.000Z',
    );
  });
});

describe('jitter', () => {
  test('stays within [0, jitter_ms] and is 0 without jitter', () => {
    assert.equal(
      jitterDelay(undefined, () => 0.7),
      0,
    );
    assert.equal(
      jitterDelay(0, () => 0.7),
      0,
    );
    assert.equal(
      jitterDelay(250, () => 0),
      0,
    );
    assert.equal(
      jitterDelay(250, () => 0.999999),
      250,
    );
    const seen = new Set<number>();
    for (let i = 0; i < 5_000; i++) {
      const delay = jitterDelay(20);
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= 20, `delay ${delay}`);
      seen.add(delay);
    }
    assert.equal(seen.size, 21, 'every value in the range comes up');
  });
});

describe('catch-up policy', () => {
  const start = '2030-01-01T00:00:00Z';
  const times = fireTimes({ type: 'interval', interval: { seconds: 1 }, start_date: start });
  // The scheduler was away from 00:00:05 to 00:00:20.5: fire times 5 .. 19 are older than the 1 s grace.
  const input = { from: at('2030-01-01T00:00:05Z'), now: at('2030-01-01T00:00:20.500Z'), graceMs: 1_000 };

  test('one (the default): one run for the newest missed fire time, then the schedule goes on', () => {
    const plan = planFires(times, { ...input, policy: 'one' });
    assert.deepEqual(
      plan.catchUp.map((f) => [iso(f.plannedAt), f.position]),
      [['2030-01-01T00:00:19.000Z', 20]],
    );
    assert.equal(iso(plan.next?.plannedAt), '2030-01-01T00:00:20.000Z', 'late within the grace: it runs as usual');
  });

  test('all: one run per missed fire time, oldest first', () => {
    const plan = planFires(times, { ...input, policy: 'all' });
    assert.deepEqual(
      plan.catchUp.map((f) => f.position),
      [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
    );
    assert.equal(plan.next?.position, 21);
  });

  test('all runs at most the newest MAX_CATCH_UP_RUNS', () => {
    const plan = planFires(times, { from: at(start), now: at(start) + 3_600_000, graceMs: 1_000, policy: 'all' });
    assert.equal(plan.catchUp.length, MAX_CATCH_UP_RUNS);
    assert.equal(plan.catchUp.at(-1)?.plannedAt, at(start) + 3_600_000 - 2_000);
  });

  test('none: missed fire times are dropped', () => {
    const plan = planFires(times, { ...input, policy: 'none' });
    assert.deepEqual(plan.catchUp, []);
    assert.equal(plan.next?.position, 21);
  });

  test('nothing is missed when `from` is within the grace', () => {
    const plan = planFires(times, {
      from: at('2030-01-01T00:00:20Z'),
      now: at('2030-01-01T00:00:20.500Z'),
      graceMs: 1_000,
      policy: 'all',
    });
    assert.deepEqual(plan.catchUp, []);
    assert.equal(plan.next?.position, 21);
  });

  test('a one-time job whose moment passed runs once under one and all, never under none', () => {
    const once = fireTimes({ type: 'one_time', start_date: start });
    const late = { from: Number.NEGATIVE_INFINITY, now: at(start) + 60_000, graceMs: 1_000 };
    for (const policy of ['one', 'all'] as const) {
      const plan = planFires(once, { ...late, policy });
      assert.deepEqual(
        plan.catchUp.map((f) => f.position),
        [1],
        policy,
      );
      assert.equal(plan.next, undefined);
    }
    assert.deepEqual(planFires(once, { ...late, policy: 'none' }), { catchUp: [], next: undefined });
  });

  test('a cron job missed over a long outage: one run for its newest missed time, found without walking every second', () => {
    const everySecond = fireTimes({ type: 'cron', cron: '* * * * * *' });
    const started = performance.now();
    const plan = planFires(everySecond, {
      from: at('2030-01-01T00:00:00Z'),
      now: at('2030-01-08T00:00:00Z'),
      graceMs: 1_000,
      policy: 'one',
    });
    assert.ok(performance.now() - started < 200, 'a week of per-second fire times is not enumerated');
    assert.deepEqual(
      plan.catchUp.map((f) => iso(f.plannedAt)),
      ['2030-01-07T23:59:58.000Z'],
    );
    assert.equal(iso(plan.next?.plannedAt), '2030-01-07T23:59:59.000Z');
  });
});
