import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { ConfigObject } from '../../src/config/config-kind.js';
import { schedulerJobSchema, type SchedulerJob } from '../../src/scheduler/job-kind.js';
import type { DispatchOutcome, RunOrder } from '../../src/scheduler/run-order.js';
import type { EngineStore, JobProgress } from '../../src/scheduler/engine-store.js';
import { SchedulerEngine } from '../../src/scheduler/scheduler-engine.js';
import { ManualClock, settle } from './manual-clock.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const silent = pino({ level: 'silent' });

function job(name: string, fields: Record<string, unknown>, version = 1): ConfigObject<SchedulerJob> {
  const data = schedulerJobSchema.parse({ name, service: 'demo.tick', ...fields });
  return { id: `id-${name}`, type: 'scheduler.job', name, version, data };
}

interface Dispatched extends RunOrder {
  readonly sentAt: number;
  readonly generation: number;
}

/** An engine on a manual clock, with a store and a broker that only record. */
function harness(
  options: {
    progress?: Record<string, Partial<JobProgress>>;
    random?: () => number;
    outcome?: (runs: RunOrder[]) => Partial<DispatchOutcome>;
    aheadMs?: number;
    tickMs?: number;
  } = {},
) {
  const clock = new ManualClock(T0);
  const dispatched: Dispatched[] = [];
  const saved = new Map<string, number | null>();
  const forgotten: string[] = [];
  let messages = 0;
  const store: EngineStore = {
    loadProgress: async () =>
      new Map(
        Object.entries(options.progress ?? {}).map(([id, p]) => [
          id,
          { nextRunAt: p.nextRunAt, lastPlannedAt: p.lastPlannedAt, lastRunNumber: p.lastRunNumber },
        ]),
      ),
    saveNext: async (updates) => {
      for (const u of updates) saved.set(u.jobId, u.nextRunAt);
    },
    forget: async (jobId) => {
      forgotten.push(jobId);
    },
  };
  const engine = new SchedulerEngine({
    clock,
    store,
    logger: silent,
    random: options.random ?? (() => 0),
    chunkSize: 3,
    aheadMs: options.aheadMs,
    tickMs: options.tickMs,
    dispatch: async (generation, runs) => {
      messages++;
      for (const run of runs) dispatched.push({ ...run, sentAt: clock.now(), generation });
      return { ids: runs.map(() => 'x'), duplicates: 0, fenced: 0, ...options.outcome?.(runs) };
    },
  });
  const runsOf = (name: string) => dispatched.filter((d) => d.job === name);
  const plannedOf = (name: string) => runsOf(name).map((d) => new Date(d.plannedAt).getTime() - T0);
  return { clock, engine, dispatched, saved, forgotten, runsOf, plannedOf, messages: () => messages };
}

describe('scheduler engine', () => {
  test('jobs fire at their planned times, each fire time once, from one timer', async () => {
    const h = harness();
    const jobs = [
      job('every-1s', { type: 'interval', interval: { seconds: 1 } }),
      job('every-3s', { type: 'interval', interval: { seconds: 3 } }),
      job('once', { type: 'one_time', start_date: '2030-01-01T00:00:02.500Z' }),
      job('cron-5s', { type: 'cron', cron: '*/5 * * * * *' }),
      job('from-start', { type: 'interval', interval: { seconds: 2 }, start_date: '2029-12-31T23:59:50Z' }),
    ];
    await h.engine.start(7, () => jobs);
    assert.ok(h.clock.pendingTimers <= 2, 'one run timer (and one flush timer)');
    await h.clock.advance(10_000);
    assert.deepEqual(
      h.plannedOf('every-1s'),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => s * 1000),
    );
    assert.deepEqual(h.plannedOf('every-3s'), [0, 3_000, 6_000, 9_000]);
    assert.deepEqual(h.plannedOf('once'), [2_500]);
    assert.deepEqual(h.plannedOf('cron-5s'), [0, 5_000, 10_000]);
    for (const run of h.dispatched) {
      assert.equal(run.sentAt, Date.parse(run.plannedAt), `${run.job} dispatched on time`);
      assert.equal(run.generation, 7);
      assert.equal(run.trigger, 'schedule');
    }
    assert.deepEqual(
      h.runsOf('every-1s').map((r) => r.runNumber),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      'without a start date, runs are counted',
    );
    assert.deepEqual(
      h.runsOf('cron-5s').map((r) => r.runNumber),
      [1, 2, 3],
      'cron runs are counted',
    );
    assert.deepEqual(
      h.runsOf('from-start').map((r) => r.runNumber),
      [6, 7, 8, 9, 10, 11],
      "with a start date, a run's number is its place in the schedule",
    );
    assert.deepEqual(
      h.runsOf('once').map((r) => r.runNumber),
      [1],
    );
    await h.engine.stop();
  });

  test('runs due together go in messages of at most chunkSize runs', async () => {
    const h = harness();
    const jobs = Array.from({ length: 7 }, (_, i) => job(`j${i}`, { type: 'interval', interval: { seconds: 10 } }));
    await h.engine.start(1, () => jobs);
    await h.clock.advance(0);
    assert.equal(h.dispatched.length, 7);
    assert.equal(h.messages(), 3, '7 runs in messages of 3, 3 and 1');
    await h.engine.stop();
  });

  test('thousands of jobs: the heap hands out each due run once, in time order', async () => {
    const h = harness();
    const jobs = Array.from({ length: 2_000 }, (_, i) =>
      job(`j${i}`, {
        type: 'interval',
        interval: { seconds: 1 + (i % 7) },
        start_date: new Date(T0 + (i % 1000)).toISOString(),
      }),
    );
    await h.engine.start(1, () => jobs);
    await h.clock.advance(20_999);
    let expected = 0;
    for (let i = 0; i < 2_000; i++) expected += Math.floor((20_999 - (i % 1000)) / (1_000 * (1 + (i % 7)))) + 1;
    assert.equal(h.dispatched.length, expected);
    const keys = new Set(h.dispatched.map((d) => `${d.job}@${d.plannedAt}`));
    assert.equal(keys.size, h.dispatched.length, 'no fire time twice');
    assert.ok(h.dispatched.every((d) => d.sentAt === Date.parse(d.plannedAt)));
    await h.engine.stop();
  });

  test('sent ahead: runs go out up to aheadMs before their time, at most every tickMs, each with the time to start it', async () => {
    const h = harness({ aheadMs: 200, tickMs: 10, random: () => 0.5 });
    const jobs = [
      job('a', { type: 'interval', interval: { seconds: 1 } }),
      job('b', { type: 'interval', interval: { seconds: 1 }, start_date: new Date(T0 + 3).toISOString() }),
      job('j', { type: 'interval', interval: { seconds: 2 }, jitter_ms: 1_000 }),
    ];
    await h.engine.start(1, () => jobs);
    await h.clock.advance(5_000);
    assert.deepEqual(
      h.plannedOf('a'),
      [0, 1, 2, 3, 4, 5].map((s) => s * 1000),
      'the same fire times as without sending ahead',
    );
    assert.deepEqual(h.plannedOf('b'), [3, 1_003, 2_003, 3_003, 4_003, 5_003]);
    assert.deepEqual(h.plannedOf('j'), [0, 2_000, 4_000]);
    for (const run of h.dispatched) {
      const due = Date.parse(run.plannedAt) + (run.job === 'j' ? 500 : 0);
      if (run.startAt === undefined)
        assert.equal(run.sentAt, due, `${run.job}@${run.plannedAt}: due when sent, it starts at once`);
      else {
        assert.equal(run.startAt, due, `${run.job}@${run.plannedAt} starts at its fire time plus jitter`);
        // Sent 190 to 200 ms ahead (a wake every 10 ms), or at the start for those due sooner.
        const earliest = Math.max(T0, due - 200);
        assert.ok(
          run.sentAt >= earliest && run.sentAt <= Math.max(T0, due - 190),
          `${run.job}@${run.plannedAt} sent ${due - run.sentAt} ms ahead`,
        );
      }
    }
    assert.equal(
      new Set(h.dispatched.map((d) => `${d.job}@${d.plannedAt}`)).size,
      h.dispatched.length,
      'no fire time twice',
    );
    const wakes = [...new Set(h.dispatched.map((d) => d.sentAt))].sort((x, y) => x - y);
    assert.ok(
      wakes.every((t, i) => i === 0 || t - wakes[i - 1]! >= 10),
      'at most one wake every 10 ms',
    );
    await h.engine.stop();
  });

  test('jitter delays the dispatch within jitter_ms but keeps the planned time', async () => {
    const h = harness({ random: () => 0.5 });
    await h.engine.start(1, () => [job('jittery', { type: 'interval', interval: { seconds: 10 }, jitter_ms: 1_000 })]);
    await h.clock.advance(25_000);
    assert.deepEqual(h.plannedOf('jittery'), [0, 10_000, 20_000]);
    assert.deepEqual(
      h.runsOf('jittery').map((r) => r.sentAt - Date.parse(r.plannedAt)),
      [500, 500, 500],
    );
    await h.engine.stop();
  });

  test('live changes: a new job fires, an edit of the schedule re-plans, an edit of extra keeps the timing', async () => {
    const h = harness();
    const v1 = job('live', { type: 'interval', interval: { seconds: 10 }, extra: { v: 1 } });
    await h.engine.start(1, () => []);
    h.engine.onChange(undefined, v1);
    await h.clock.advance(10_000);
    assert.deepEqual(h.plannedOf('live'), [0, 10_000]);
    // The payload changes at 12 s; the next run (20 s) carries it, at the same time.
    await h.clock.advance(2_000);
    h.engine.onChange(v1, job('live', { type: 'interval', interval: { seconds: 10 }, extra: { v: 2 } }, 2));
    await h.clock.advance(8_000);
    assert.deepEqual(h.plannedOf('live'), [0, 10_000, 20_000]);
    assert.deepEqual(h.runsOf('live').at(-1)?.extra, { v: 2 });
    // The schedule changes at 21 s to every 4 s (counted from the epoch): 24 s, 28 s.
    await h.clock.advance(1_000);
    h.engine.onChange(v1, job('live', { type: 'interval', interval: { seconds: 4 } }, 3));
    await h.clock.advance(7_000);
    assert.deepEqual(h.plannedOf('live'), [0, 10_000, 20_000, 24_000, 28_000]);
    await h.engine.stop();
  });

  test('pause stops a job; resume starts it again without catching up the paused time; delete forgets it', async () => {
    const h = harness();
    const active = job('p', { type: 'interval', interval: { seconds: 1 }, catch_up: 'all' });
    await h.engine.start(1, () => [active]);
    await h.clock.advance(2_000);
    assert.deepEqual(h.plannedOf('p'), [0, 1_000, 2_000]);
    h.engine.onChange(
      active,
      job('p', { type: 'interval', interval: { seconds: 1 }, catch_up: 'all', is_active: false }, 2),
    );
    await h.clock.advance(5_000);
    assert.deepEqual(h.plannedOf('p'), [0, 1_000, 2_000], 'nothing while paused');
    assert.equal(h.saved.get('id-p'), null, 'a paused job has no next run');
    await h.clock.advance(100);
    h.engine.onChange(active, job('p', { type: 'interval', interval: { seconds: 1 }, catch_up: 'all' }, 3));
    await h.clock.advance(2_000);
    assert.deepEqual(h.plannedOf('p'), [0, 1_000, 2_000, 8_000, 9_000]);
    assert.ok(h.runsOf('p').every((r) => r.trigger === 'schedule'));
    h.engine.onChange(active, undefined);
    await h.clock.advance(5_000);
    assert.equal(h.runsOf('p').length, 5);
    assert.deepEqual(h.forgotten, ['id-p']);
    await h.engine.stop();
  });

  test("taking over: fire times missed since the stored next run follow each job's policy", async () => {
    // The previous scheduler stored next runs 30 s ago and then vanished.
    const past = T0 - 30_000;
    const h = harness({
      progress: {
        'id-one': { nextRunAt: past, lastPlannedAt: past - 1_000 },
        'id-all': { nextRunAt: past, lastPlannedAt: past - 1_000 },
        'id-none': { nextRunAt: past, lastPlannedAt: past - 1_000 },
        'id-cron': { nextRunAt: null, lastPlannedAt: past - 1_000, lastRunNumber: 41 },
      },
    });
    const every = (name: string, catchUp: string) =>
      job(name, { type: 'interval', interval: { seconds: 10 }, catch_up: catchUp });
    await h.engine.start(2, () => [
      every('one', 'one'),
      every('all', 'all'),
      every('none', 'none'),
      job('cron', { type: 'cron', cron: '*/10 * * * * *' }),
    ]);
    await settle();
    assert.deepEqual(
      h.runsOf('one').map((r) => [Date.parse(r.plannedAt) - T0, r.trigger]),
      [[-10_000, 'catch-up']],
    );
    assert.deepEqual(
      h.runsOf('all').map((r) => [Date.parse(r.plannedAt) - T0, r.trigger]),
      [
        [-30_000, 'catch-up'],
        [-20_000, 'catch-up'],
        [-10_000, 'catch-up'],
      ],
    );
    assert.deepEqual(h.runsOf('none'), []);
    assert.deepEqual(
      h.runsOf('cron'),
      [],
      'a state row saying nothing was pending: planned afresh, nothing to catch up',
    );
    await h.clock.advance(10_000);
    // T0 itself is within the grace: it runs on schedule, as does 10 s.
    assert.deepEqual(h.plannedOf('one'), [-10_000, 0, 10_000]);
    assert.deepEqual(
      h
        .runsOf('one')
        .slice(1)
        .map((r) => r.trigger),
      ['schedule', 'schedule'],
    );
    assert.deepEqual(
      h.runsOf('cron').map((r) => r.runNumber),
      [42, 43],
      'the run count goes on from the ODB',
    );
    await h.engine.stop();
  });

  test('a one-time job that ran is not run again by the next scheduler; one that was missed runs once', async () => {
    const when = new Date(T0 - 60_000).toISOString();
    const h = harness({ progress: { 'id-ran': { nextRunAt: null, lastPlannedAt: T0 - 60_000 } } });
    await h.engine.start(3, () => [
      job('ran', { type: 'one_time', start_date: when }),
      job('missed', { type: 'one_time', start_date: when }),
    ]);
    await h.clock.advance(60_000);
    assert.deepEqual(h.runsOf('ran'), []);
    assert.deepEqual(
      h.runsOf('missed').map((r) => [r.plannedAt, r.trigger, r.runNumber]),
      [[when, 'catch-up', 1]],
    );
    await h.engine.stop();
  });

  test('a scheduler that stood still past the grace runs one catch-up for the fire times it slept through', async () => {
    const h = harness();
    await h.engine.start(1, () => [job('steady', { type: 'interval', interval: { seconds: 1 } })]);
    await h.clock.advance(2_000);
    await h.clock.stall(10_500);
    assert.deepEqual(
      h.runsOf('steady').map((r) => [Date.parse(r.plannedAt) - T0, r.trigger]),
      [
        [0, 'schedule'],
        [1_000, 'schedule'],
        [2_000, 'schedule'],
        [11_000, 'catch-up'],
        [12_000, 'schedule'],
      ],
    );
    await h.engine.stop();
  });

  test('the store learns where a schedule was planned (new to it, edited, paused), not every fire time', async () => {
    const h = harness({
      progress: { 'id-known': { nextRunAt: T0 + 5_000, lastPlannedAt: undefined, lastRunNumber: undefined } },
    });
    const fresh = job('fresh', { type: 'interval', interval: { seconds: 5 } });
    await h.engine.start(1, () => [fresh, job('known', { type: 'interval', interval: { seconds: 5 } })]);
    await h.clock.advance(100);
    // Written 20 ms after planning, when its first fire (T0) had run: the next one.
    assert.equal(h.saved.get('id-fresh'), T0 + 5_000, 'a job the store did not know: where its schedule stands');
    assert.equal(h.saved.has('id-known'), false, 'a job the store knows: nothing to write');
    assert.deepEqual(h.plannedOf('known'), [], 'it resumes from its stored next run, 5 s');
    await h.clock.advance(10_000);
    assert.deepEqual(h.plannedOf('fresh'), [0, 5_000, 10_000]);
    assert.deepEqual(h.plannedOf('known'), [5_000, 10_000]);
    assert.equal(h.saved.get('id-fresh'), T0 + 5_000, 'fire times that ran are in the ledger, not rewritten here');
    assert.equal(h.engine.nextRunOf('id-fresh'), T0 + 15_000);
    h.engine.onChange(fresh, job('fresh', { type: 'interval', interval: { seconds: 7 } }, 2));
    await h.clock.advance(100);
    assert.equal(
      h.saved.get('id-fresh'),
      Math.ceil((T0 + 10_100) / 7_000) * 7_000,
      "edited: the new schedule's first fire time",
    );
    h.engine.onChange(fresh, job('fresh', { type: 'interval', interval: { seconds: 7 }, is_active: false }, 3));
    await h.engine.stop();
    assert.equal(h.saved.get('id-fresh'), null, 'paused (written on stop at the latest): nothing pending');
    await h.clock.advance(20_000);
    assert.equal(h.runsOf('fresh').length, 3, 'nothing fires after stop');
  });

  test('told its runs were fenced (a newer singleton exists), the engine stops', async () => {
    const h = harness({ outcome: (runs) => ({ ids: runs.map(() => null), fenced: runs.length }) });
    await h.engine.start(4, () => [job('f', { type: 'interval', interval: { seconds: 1 } })]);
    await h.clock.advance(0);
    await settle();
    assert.equal(h.engine.running, false);
    await h.clock.advance(5_000);
    assert.equal(h.runsOf('f').length, 1);
  });
});
