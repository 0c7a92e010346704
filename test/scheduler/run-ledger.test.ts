import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { openOdb, type OdbHandle } from '../../src/odb/database.js';
import { migrateToLatest } from '../../src/odb/migrator.js';
import { parseOdbUrl } from '../../src/odb/odb-url.js';
import { odbEngineStore } from '../../src/scheduler/engine-store.js';
import { jobStateStore } from '../../src/scheduler/job-state-store.js';
import { openRunLedger } from '../../src/scheduler/open-run-ledger.js';
import {
  jobsToPrune,
  pruneShift,
  type ClaimBatch,
  type ClaimResult,
  type FinishedRun,
  type RunLedger,
} from '../../src/scheduler/run-ledger.js';
import { runHistory } from '../../src/scheduler/run-history.js';
import type { RunOrder } from '../../src/scheduler/run-order.js';
import { skipReason, testDialects, type TestDatabase } from '../odb/odb-dialects.js';

const skipReasons = await Promise.all(testDialects.map(skipReason));
const T0 = Date.parse('2030-01-01T00:00:00Z');

function order(jobId: string, second: number, fields: Partial<RunOrder> = {}): RunOrder {
  return {
    jobId,
    job: `job-${jobId}`,
    service: 'demo.tick',
    extra: undefined,
    maxRunTimeMs: undefined,
    historySize: 100,
    plannedAt: new Date(T0 + second * 1000).toISOString(),
    runNumber: second + 1,
    trigger: 'schedule',
    ...fields,
  };
}

const claim = (ledger: RunLedger, claims: ClaimBatch[]): Promise<ClaimResult[]> =>
  ledger.write({ claims, finished: [] });
const finish = (ledger: RunLedger, runs: FinishedRun[]): Promise<ClaimResult[]> =>
  ledger.write({ claims: [], finished: runs });

function finished(id: string, run: RunOrder, startedAt: number, fields: Partial<FinishedRun> = {}): FinishedRun {
  return { id, order: run, generation: 3, startedAt, durationMs: 12.4, outcome: 'ok', error: undefined, ...fields };
}

testDialects.forEach((dialect, index) => {
  describe(`scheduler run ledger on ${dialect.name}`, { skip: skipReasons[index] }, () => {
    let database: TestDatabase;
    let odb: OdbHandle;
    /** A second connection pool: another worker. */
    let other: OdbHandle;
    let ledger: RunLedger;
    let otherLedger: RunLedger;

    before(async () => {
      database = await dialect.create();
      const location = parseOdbUrl(database.url, database.baseDir);
      odb = openOdb(location, { poolSize: 4 });
      other = openOdb(location, { poolSize: 4 });
      await migrateToLatest(odb.db, location.dialect);
      ledger = openRunLedger(odb, 'server1/100');
      otherLedger = openRunLedger(other, 'server1/200');
    });
    after(async () => {
      await ledger?.close();
      await otherLedger?.close();
      await other?.close();
      await odb?.close();
      // pg's pool.end() resolves before its sockets are closed; a connection the DROP ... WITH
      // (FORCE) below terminated would then fail as an uncaught error in this process.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await database?.drop();
    });
    beforeEach(async () => {
      await odb.db.deleteFrom('scheduler_run').execute();
      await odb.db.deleteFrom('scheduler_job_state').execute();
      await odb.db.updateTable('singleton_lease').set({ generation: 3 }).where('id', '=', 1).execute();
    });

    test('a fire time is claimed once: a second claim, from any worker, is a duplicate', async () => {
      const runs = [order('a', 0), order('a', 1), order('b', 0)];
      const [first] = await claim(ledger, [{ generation: 3, runs }]);
      assert.equal(first!.fenced, false);
      assert.ok(first!.ids.every((id) => typeof id === 'string'));
      const [again] = await claim(otherLedger, [{ generation: 3, runs: [order('a', 1), order('a', 2)] }]);
      assert.deepEqual(
        again!.ids.map((id) => id !== null),
        [false, true],
      );
      const rows = await odb.db
        .selectFrom('scheduler_run')
        .select(['job_id', 'planned_at', 'outcome', 'worker'])
        .orderBy('job_id')
        .orderBy('planned_at')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.job_id, r.planned_at.slice(17, 19), r.outcome]),
        [
          ['a', '00', 'running'],
          ['a', '01', 'running'],
          ['a', '02', 'running'],
          ['b', '00', 'running'],
        ],
      );
    });

    test('workers racing for the same fire times: each runs exactly once in total', async () => {
      const runs = Array.from({ length: 60 }, (_, i) => order(`j${i % 6}`, Math.floor(i / 6)));
      // On SQLite each write is one synchronous transaction, so in one process they take turns;
      // the workers of a real server are processes, and test/e2e covers that race.
      const ledgers = [ledger, otherLedger, ledger, otherLedger];
      const results = await Promise.all(
        ledgers.map((l, i) => claim(l, [{ generation: 3, runs: i % 2 === 0 ? runs : [...runs].reverse() }])),
      );
      const wins = results.map(([r]) => r!.ids.filter((id) => id !== null).length);
      assert.equal(
        wins.reduce((a, b) => a + b, 0),
        runs.length,
        `claims per worker: ${wins.join(', ')}`,
      );
      assert.equal(
        Number(
          (
            await odb.db
              .selectFrom('scheduler_run')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        ),
        runs.length,
      );
    });

    test('a run by hand has its own key: it never takes the place of a fire time at the same millisecond', async () => {
      const [scheduled] = await claim(ledger, [{ generation: 3, runs: [order('a', 5)] }]);
      const [manual] = await claim(ledger, [
        { generation: null, runs: [order('a', 5, { trigger: 'execute', runNumber: 0 })] },
      ]);
      assert.notEqual(scheduled!.ids[0], null);
      assert.notEqual(manual!.ids[0], null);
    });

    test('fencing: runs from an older lease generation are refused and leave nothing behind', async () => {
      const results = await claim(ledger, [
        { generation: 2, runs: [order('a', 0)] },
        { generation: 3, runs: [order('a', 1)] },
        { generation: null, runs: [order('a', 2, { trigger: 'execute', runNumber: 0 })] },
      ]);
      assert.deepEqual(
        results.map((r) => [r.fenced, r.ids[0] !== null]),
        [
          [true, false],
          [false, true],
          [false, true],
        ],
      );
      const planned = (await odb.db.selectFrom('scheduler_run').select('planned_at').execute())
        .map((r) => r.planned_at.slice(17, 19))
        .sort();
      assert.deepEqual(planned, ['01', '02'], "the stale batch's fire time is still free for the current scheduler");
    });

    test('outcomes are recorded; the history reads newest first; the latest run and progress per job', async () => {
      const runs = [order('a', 0), order('a', 1), order('b', 7, { runNumber: 42 })];
      const [claimed] = await claim(ledger, [{ generation: 3, runs }]);
      const [ida, idb, idc] = claimed!.ids as string[];
      await finish(ledger, [
        finished(ida!, runs[0]!, T0 + 5),
        finished(idb!, runs[1]!, T0 + 1_004, {
          outcome: 'error',
          error: { code: 'VIA_ERR_SERVICE_NOT_FOUND', message: 'No such service: demo.tick' },
          durationMs: 0.4,
        }),
        finished(idc!, runs[2]!, T0 + 7_002, {
          outcome: 'timeout',
          error: { code: 'VIA_ERR_TIMEOUT', message: 'too slow' },
        }),
      ]);
      const history = await runHistory.list(odb.db, 'a', 10);
      assert.deepEqual(
        history.map((r) => [
          r.planned_at,
          r.run_number,
          r.trigger,
          r.outcome,
          r.duration_ms,
          r.error,
          r.started_at,
          r.worker,
          r.generation,
        ]),
        [
          [
            '2030-01-01T00:00:01.000Z',
            2,
            'schedule',
            'error',
            0,
            { code: 'VIA_ERR_SERVICE_NOT_FOUND', message: 'No such service: demo.tick' },
            '2030-01-01T00:00:01.004Z',
            'server1/100',
            3,
          ],
          ['2030-01-01T00:00:00.000Z', 1, 'schedule', 'ok', 12, null, '2030-01-01T00:00:00.005Z', 'server1/100', 3],
        ],
      );
      const latest = await runHistory.latest(odb.db);
      assert.deepEqual([...latest.entries()].map(([job, run]) => [job, run.outcome]).sort(), [
        ['a', 'error'],
        ['b', 'timeout'],
      ]);
      assert.equal((await runHistory.latest(odb.db, ['b'])).get('b')?.run_number, 42);
      await claim(ledger, [{ generation: null, runs: [order('a', 30, { trigger: 'execute', runNumber: 0 })] }]);
      const progress = await runHistory.progress(odb.db);
      assert.deepEqual(
        progress.get('a'),
        { lastPlannedAt: T0 + 1_000, lastRunNumber: 2 },
        'runs by hand do not count as progress',
      );
      assert.deepEqual(progress.get('b'), { lastPlannedAt: T0 + 7_000, lastRunNumber: 42 });
    });

    test('history is trimmed to history_size', async () => {
      const runs = Array.from({ length: 12 }, (_, i) => order('h', i, { historySize: 5 }));
      const [claimed] = await claim(ledger, [{ generation: 3, runs }]);
      // Trimming happens after every (history_size / 2)-th run: here every second run (which
      // ones depends on the job's id), and the 12 runs end in one write.
      await finish(
        ledger,
        runs.map((run, i) => finished(claimed!.ids[i]!, run, T0 + i * 1000)),
      );
      const kept = await runHistory.list(odb.db, 'h', 100);
      assert.deepEqual(
        kept.map((r) => r.run_number),
        [12, 11, 10, 9, 8],
      );
      // One more run ends: trimmed or not by its number, the newest history_size runs are there.
      const more = order('h', 12, { historySize: 5 });
      const [again] = await claim(ledger, [{ generation: 3, runs: [more] }]);
      await finish(ledger, [finished(again!.ids[0]!, more, T0 + 12_000)]);
      const after = (await runHistory.list(odb.db, 'h', 100)).map((r) => r.run_number);
      assert.deepEqual(after, (13 + pruneShift('h')) % 2 === 0 ? [13, 12, 11, 10, 9] : [13, 12, 11, 10, 9, 8]);
    });

    test('jobs running in step trim their history at different runs', () => {
      const jobs = Array.from({ length: 1_000 }, (_, i) => `job-${i}`);
      const due = (runNumber: number) =>
        jobsToPrune(jobs.map((jobId) => finished('x', order(jobId, runNumber - 1, { runNumber }), T0))).get(100)
          ?.length ?? 0;
      const counts = Array.from({ length: 50 }, (_, i) => due(i + 1));
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        1_000,
        'each job trims once in 50 runs',
      );
      assert.ok(
        Math.max(...counts) < 60,
        `at most a few percent of the jobs at one fire time (${Math.max(...counts)})`,
      );
      assert.equal(
        jobsToPrune([finished('x', order('m', 5, { trigger: 'execute', runNumber: 0 }), T0)]).get(100)?.length,
        1,
        'a run by hand always trims',
      );
    });

    test('job state: next runs are upserted, read back, and forgotten with the job', async () => {
      await jobStateStore.saveNext(odb.db, odb.location.dialect, [
        { jobId: 'a', nextRunAt: T0 },
        { jobId: 'b', nextRunAt: null },
      ]);
      await jobStateStore.saveNext(odb.db, odb.location.dialect, [{ jobId: 'a', nextRunAt: T0 + 60_000 }]);
      assert.deepEqual([...(await jobStateStore.nextRuns(odb.db)).entries()].sort(), [
        ['a', '2030-01-01T00:01:00.000Z'],
        ['b', null],
      ]);
      await claim(ledger, [{ generation: 3, runs: [order('a', 0)] }]);
      await jobStateStore.forget(odb.db, 'a');
      assert.deepEqual([...(await jobStateStore.nextRuns(odb.db)).keys()], ['b']);
      assert.deepEqual(await runHistory.list(odb.db, 'a', 10), []);
    });

    test('a scheduler taking over reads progress; state and history of deleted jobs are removed', async () => {
      const now = new Date().toISOString();
      await odb.db
        .insertInto('config_item')
        .values({
          id: 'kept',
          type: 'scheduler.job',
          name: 'kept',
          data: '{}',
          secret: null,
          version: 1,
          updated_at: now,
        })
        .execute();
      await jobStateStore.saveNext(odb.db, odb.location.dialect, [
        { jobId: 'gone', nextRunAt: T0 },
        { jobId: 'kept', nextRunAt: T0 + 2_000 },
      ]);
      await claim(ledger, [{ generation: 3, runs: [order('gone', 0), order('kept', 0), order('kept', 1)] }]);
      const progress = await odbEngineStore(odb.db, odb.location.dialect).loadProgress();
      assert.deepEqual(
        [...progress.entries()],
        [['kept', { nextRunAt: T0 + 2_000, lastPlannedAt: T0 + 1_000, lastRunNumber: 2 }]],
        'no scheduler.job has the id "gone"',
      );
      const left = await odb.db.selectFrom('scheduler_run').select('job_id').execute();
      assert.deepEqual(
        left.map((r) => r.job_id),
        ['kept', 'kept'],
      );
      await odb.db.deleteFrom('config_item').execute();
    });
  });
});
