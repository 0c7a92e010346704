import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { Invoker } from '../../src/service/invoker.js';
import { RunExecutor } from '../../src/scheduler/run-executor.js';
import type { FinishedRun, LedgerWrite, RunLedger } from '../../src/scheduler/run-ledger.js';
import type { RunOrder } from '../../src/scheduler/run-order.js';

const silent = pino({ level: 'silent' });

function order(job: string, plannedAt: number, startAt?: number): RunOrder {
  return {
    jobId: `id-${job}`,
    job,
    service: 'demo.tick',
    extra: undefined,
    maxRunTimeMs: undefined,
    historySize: 100,
    plannedAt: new Date(plannedAt).toISOString(),
    runNumber: 1,
    trigger: 'schedule',
    ...(startAt === undefined ? {} : { startAt }),
  };
}

/** A ledger that claims everything and keeps what it was asked to write. */
function recordingLedger() {
  const writes: Array<{ at: number; work: LedgerWrite }> = [];
  let next = 0;
  const ledger: RunLedger = {
    async write(work) {
      writes.push({ at: Date.now(), work });
      return work.claims.map((batch) => ({ fenced: false, ids: batch.runs.map(() => `run-${next++}`) }));
    },
    async close() {},
  };
  return { ledger, writes };
}

describe('run executor', () => {
  test('a run sent ahead is claimed at once and started at its startAt, not before', async () => {
    const { ledger, writes } = recordingLedger();
    const started = new Map<string, number>();
    const invoker = {
      invoke: async (_service: string, request: { scheduler: { job: string } }) =>
        void started.set(request.scheduler.job, Date.now()),
    } as unknown as Invoker;
    const executor = new RunExecutor(ledger, invoker, silent);
    const now = Date.now();
    const outcome = await executor.handle({
      action: 'scheduler.run',
      generation: 1,
      runs: [order('ahead', now + 150, now + 150), order('due', now), order('ahead-too', now + 150, now + 150)],
    });
    const answered = Date.now();
    assert.equal(outcome.ids.filter((id) => id !== null).length, 3);
    assert.ok(answered < now + 150, 'the dispatcher is answered once the runs are claimed, before they start');
    assert.equal(writes[0]!.work.claims[0]!.runs.length, 3, 'claimed together, at once');
    await executor.idle();
    assert.ok(started.get('due')! < now + 150, 'a run without startAt starts as soon as it is claimed');
    assert.ok(
      started.get('ahead')! >= now + 150,
      `started ${started.get('ahead')! - (now + 150)} ms after its startAt`,
    );
    assert.ok(started.get('ahead-too')! >= now + 150);
    const finished: FinishedRun[] = writes.flatMap((w) => [...w.work.finished]);
    assert.deepEqual(finished.map((f) => f.order.job).sort(), ['ahead', 'ahead-too', 'due']);
    assert.ok(finished.find((f) => f.order.job === 'ahead')!.startedAt >= now + 150, 'the history gets the real start');
  });

  test('ledger writes start at least minIntervalMs apart; whatever arrives meanwhile goes in the next one', async () => {
    const { ledger, writes } = recordingLedger();
    const invoker = { invoke: async () => undefined } as unknown as Invoker;
    const executor = new RunExecutor(ledger, invoker, silent, 40);
    const now = Date.now();
    await executor.handle({ action: 'scheduler.run', generation: 1, runs: [order('a', now)] });
    await Promise.all(
      [1, 2, 3].map((i) => executor.handle({ action: 'scheduler.run', generation: 1, runs: [order(`b${i}`, now)] })),
    );
    await executor.idle();
    assert.ok(writes.length >= 2);
    for (let i = 1; i < writes.length; i++)
      assert.ok(
        writes[i]!.at - writes[i - 1]!.at >= 39,
        `write ${i} came ${writes[i]!.at - writes[i - 1]!.at} ms after the one before`,
      );
    assert.equal(writes[1]!.work.claims.length, 3, 'the three messages that arrived meanwhile share one write');
  });
});
