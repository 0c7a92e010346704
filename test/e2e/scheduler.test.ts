import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, startEnv, waitFor, type RunningEnv } from '../helpers/env.js';

/** Appends what it was given to ticks.log in the environment: one JSON line per invocation. */
const TICK_SOURCE = `import { Service } from 'viaduct';
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export default class Tick extends Service {
  static serviceName = 'test.tick';
  handle() {
    const line = { at: Date.now(), pid: process.pid, channel: this.request.channel, scheduler: this.request.scheduler, payload: this.request.payload };
    appendFileSync(path.join(process.env.VIADUCT_ENV, 'ticks.log'), JSON.stringify(line) + '\\n');
  }
}
`;

interface Tick {
  readonly at: number;
  readonly pid: number;
  readonly channel: { type: string; name: string };
  readonly scheduler: { job: string; runNumber: number; plannedAt: string; trigger: string };
  readonly payload: unknown;
}

interface Run {
  id: string;
  planned_at: string;
  run_number: number;
  trigger: string;
  outcome: string;
  duration_ms: number | null;
  started_at: string;
  worker: string;
  error: { code: string; message: string } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the scheduler in a running environment', () => {
  let env: RunningEnv;

  const ticks = async (job?: string): Promise<Tick[]> => {
    const text = await readFile(path.join(env.dir, 'ticks.log'), 'utf8').catch(() => '');
    const all = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Tick);
    return job === undefined ? all : all.filter((t) => t.scheduler?.job === job);
  };
  const ok = async <T>(service: string, payload?: unknown): Promise<T> => {
    const answer = await env.admin<T>(service, payload);
    assert.equal(answer.status, 200, `${service}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const runs = (name: string) => ok<Run[]>('viaduct.scheduler.job.get-runs', { name });
  const every = (name: string, service: string, extra?: unknown) => ({
    name,
    service,
    type: 'interval',
    interval: { seconds: 1 },
    ...(extra === undefined ? {} : { extra }),
  });

  before(async () => {
    env = await startEnv({ workers: 2 });
    await ok('viaduct.service.deploy', { file: 'tick.ts', source: TICK_SOURCE });
  });
  after(() => env.stop());

  test('an interval job runs once a second, each fire time on one worker, and the service sees its details', async () => {
    const created = await ok<{ id: string; catch_up: string; history_size: number }>(
      'viaduct.scheduler.job.create',
      every('tick', 'test.tick', { hello: 'world' }),
    );
    assert.equal(created.catch_up, 'one');
    await waitFor(async () => (await ticks('tick')).length >= 5, 10_000);
    const seen = await ticks('tick');
    const planned = seen.map((t) => Date.parse(t.scheduler.plannedAt)).sort((a, b) => a - b);
    assert.equal(new Set(planned).size, planned.length, 'no fire time ran twice');
    for (let i = 1; i < planned.length; i++)
      assert.equal(planned[i]! - planned[i - 1]!, 1_000, 'one run per second, none skipped');
    for (const tick of seen) {
      assert.deepEqual(tick.channel, { type: 'scheduler', name: 'tick' });
      assert.equal(tick.scheduler.trigger, 'schedule');
      assert.deepEqual(tick.payload, { hello: 'world' });
      assert.ok(
        tick.at - Date.parse(tick.scheduler.plannedAt) < 1_000,
        `started ${tick.at - Date.parse(tick.scheduler.plannedAt)} ms after its planned time`,
      );
    }
    const numbers = seen.map((t) => t.scheduler.runNumber).sort((a, b) => a - b);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => numbers[0]! + i),
      'run numbers count up by one',
    );
    assert.ok(new Set(seen.map((t) => t.pid)).size >= 2, "runs go to any worker, not only the scheduler's");

    const history = await runs('tick');
    assert.ok(history.length >= seen.length - 1);
    const done = history.filter((r) => r.outcome === 'ok');
    assert.ok(done.length >= 4);
    for (const run of done) {
      assert.equal(run.trigger, 'schedule');
      assert.equal(run.error, null);
      assert.ok(typeof run.duration_ms === 'number' && run.duration_ms >= 0);
      assert.match(run.worker, /^server1\/\d+$/);
    }
    const job = await ok<{ last_run: Run | null; next_run: string | null }>('viaduct.scheduler.job.get', {
      name: 'tick',
    });
    assert.ok(job.last_run !== null);
    assert.ok(job.next_run !== null && Date.parse(job.next_run) > Date.now() - 2_000, `next_run ${job.next_run}`);
  });

  test('pause stops it, execute runs it now (paused or not), resume starts it again without catching up', async () => {
    const paused = await ok<{ is_active: boolean; next_run: string | null }>('viaduct.scheduler.job.pause', {
      name: 'tick',
    });
    assert.equal(paused.is_active, false);
    assert.equal(paused.next_run, null);
    await sleep(300);
    const before = (await ticks('tick')).length;
    await sleep(2_200);
    assert.equal((await ticks('tick')).length, before, 'nothing runs while paused');

    const executed = await ok<{ run_id: string; planned_at: string }>('viaduct.scheduler.job.execute', {
      name: 'tick',
    });
    await waitFor(async () => (await ticks('tick')).some((t) => t.scheduler.trigger === 'execute'), 5_000);
    const manual = (await ticks('tick')).filter((t) => t.scheduler.trigger === 'execute');
    assert.equal(manual.length, 1);
    assert.equal(manual[0]!.scheduler.runNumber, 0);
    assert.equal(manual[0]!.scheduler.plannedAt, executed.planned_at);
    await waitFor(async () => (await runs('tick')).some((r) => r.id === executed.run_id && r.outcome === 'ok'), 5_000);

    const resumedAt = Date.now();
    const resumed = await ok<{ is_active: boolean; next_run: string | null }>('viaduct.scheduler.job.resume', {
      name: 'tick',
    });
    assert.equal(resumed.is_active, true);
    assert.ok(
      resumed.next_run !== null && Date.parse(resumed.next_run) >= resumedAt - 1_000,
      `next_run ${resumed.next_run}`,
    );
    await waitFor(
      async () => (await ticks('tick')).filter((t) => t.scheduler.trigger !== 'execute').length >= before + 2,
      5_000,
    );
    const after = (await ticks('tick')).slice(before).filter((t) => t.scheduler.trigger !== 'execute');
    assert.ok(
      after.every((t) => t.scheduler.trigger === 'schedule' && Date.parse(t.scheduler.plannedAt) >= resumedAt - 1_000),
      'the paused seconds are not caught up',
    );
  });

  test('a job whose service is not deployed records VIA_ERR_SERVICE_NOT_FOUND on each run, and the others go on', async () => {
    await ok('viaduct.scheduler.job.create', every('ghost', 'test.not-deployed'));
    await waitFor(async () => (await runs('ghost')).filter((r) => r.outcome === 'error').length >= 2, 6_000);
    const failed = (await runs('ghost')).filter((r) => r.outcome === 'error');
    assert.equal(failed[0]!.error?.code, 'VIA_ERR_SERVICE_NOT_FOUND');
    assert.match(failed[0]!.error?.message ?? '', /test\.not-deployed/);
    const ticksBefore = (await ticks('tick')).length;
    await waitFor(async () => (await ticks('tick')).length >= ticksBefore + 2, 5_000);
    await ok('viaduct.scheduler.job.delete', { name: 'ghost' });
    await waitFor(
      async () => (await env.admin('viaduct.scheduler.job.get-runs', { name: 'ghost' })).status === 404,
      3_000,
    );
  });

  test('a one-time job runs once, at its moment', async () => {
    const moment = new Date(Date.now() + 1_500).toISOString();
    await ok('viaduct.scheduler.job.create', {
      name: 'once',
      service: 'test.tick',
      type: 'one_time',
      start_date: moment,
    });
    await waitFor(async () => (await ticks('once')).length === 1, 5_000);
    await sleep(2_000);
    const seen = await ticks('once');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.scheduler.plannedAt, moment);
    assert.equal(seen[0]!.scheduler.runNumber, 1);
    await waitFor(
      async () =>
        (await ok<{ last_run: Run | null }>('viaduct.scheduler.job.get', { name: 'once' })).last_run?.outcome === 'ok',
      3_000,
    );
    const job = await ok<{ next_run: string | null }>('viaduct.scheduler.job.get', { name: 'once' });
    assert.equal(job.next_run, null);
  });

  test('the worker running the scheduler is killed: another takes over, and no fire time runs twice', async () => {
    const log = await readFile(path.join(env.dir, 'logs', 'server1.log'), 'utf8');
    const assigned = log
      .split('\n')
      .filter((l) => l.includes('The scheduler runs in this worker'))
      .map((l) => JSON.parse(l) as { workerPid: number; msg: string });
    const holder = assigned.at(-1)!.workerPid;
    const killedAt = Date.now();
    process.kill(holder, 'SIGKILL');
    await waitFor(async () => (await ticks('tick')).some((t) => t.at > killedAt + 1_500 && t.pid !== holder), 8_000);
    await sleep(2_000);
    const scheduled = (await ticks('tick')).filter((t) => t.scheduler.trigger !== 'execute');
    const planned = scheduled.map((t) => t.scheduler.plannedAt);
    assert.equal(new Set(planned).size, planned.length, 'no fire time ran twice');
    const windowStart = Math.ceil((killedAt - 1_000) / 1_000) * 1_000;
    const covered = new Set(scheduled.map((t) => Date.parse(t.scheduler.plannedAt)).filter((p) => p >= windowStart));
    const expected = Math.floor((Date.now() - 500 - windowStart) / 1_000);
    // At most the fire times of the takeover itself stand in one catch-up run.
    assert.ok(covered.size >= expected - 2, `${covered.size} of ${expected} fire times ran around the takeover`);
    const reassigned = (await readFile(path.join(env.dir, 'logs', 'server1.log'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('The scheduler runs in this worker'));
    assert.ok(reassigned.length > assigned.length, 'the primary gave the role to another worker');
  });

  test('the CLI manages jobs; enmasse imports and exports the scheduler: list', async () => {
    const data = JSON.stringify({
      service: 'test.tick',
      type: 'cron',
      cron: '0 3 * * *',
      timezone: 'Europe/Warsaw',
      extra: { from: 'cli' },
    });
    const created = await cli(['scheduler', 'create', '--name', 'nightly', '--data', data, '--env', env.dir]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as { cron: string }).cron, '0 3 * * *');
    const list = await cli(['scheduler', 'get-list', '--env', env.dir]);
    const jobs = JSON.parse(list.stdout) as Array<{ name: string; next_run: string | null }>;
    assert.deepEqual(
      jobs.map((j) => j.name),
      ['nightly', 'once', 'tick'],
    );
    await waitFor(async () => {
      const got = JSON.parse((await cli(['scheduler', 'get', '--name', 'nightly', '--env', env.dir])).stdout) as {
        next_run: string | null;
      };
      return got.next_run !== null && /T0[12]:00:00\.000Z$/.test(got.next_run);
    }, 5_000);
    const history = await cli(['scheduler', 'runs', '--name', 'tick', '--limit', '2', '--env', env.dir]);
    assert.equal((JSON.parse(history.stdout) as unknown[]).length, 2);
    const bad = await cli([
      'scheduler',
      'create',
      '--data',
      JSON.stringify({ name: 'bad', service: 'x', type: 'cron', cron: '61 * * * *' }),
      '--env',
      env.dir,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /VIA_ERR_VALIDATION.*cron: Invalid value for minute: 61/);
    const usage = await cli(['scheduler', 'frobnicate', '--env', env.dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown action frobnicate/);
    assert.equal((await cli(['scheduler', 'delete', '--name', 'nightly', '--env', env.dir])).code, 0);

    const document = {
      scheduler: [
        {
          name: 'from-yaml',
          service: 'test.tick',
          type: 'interval',
          interval: { hours: 1 },
          start_date: '2030-01-01T00:00:00Z',
          repeats: 3,
        },
      ],
    };
    const imported = await ok<{ created: string[] }>('viaduct.enmasse.import', { document });
    assert.deepEqual(imported.created, ['scheduler.job from-yaml']);
    const again = await ok<{ unchanged: string[] }>('viaduct.enmasse.import', { document });
    assert.deepEqual(again.unchanged, ['scheduler.job from-yaml']);
    const exported = await ok<{ document: { scheduler: Array<{ name: string; catch_up: string }> } }>(
      'viaduct.enmasse.export',
    );
    assert.deepEqual(
      exported.document.scheduler.map((j) => [j.name, j.catch_up]),
      [
        ['from-yaml', 'one'],
        ['once', 'one'],
        ['tick', 'one'],
      ],
    );
    const wrong = await env.admin<{ error: { code: string; message: string } }>('viaduct.enmasse.import', {
      document: { scheduler: { job: [] } },
    });
    assert.equal(wrong.body.error.code, 'VIA_ERR_ENMASSE');
    assert.match(wrong.body.error.message, /"scheduler" must be a list/);
  });
});
