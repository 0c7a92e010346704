/**
 * The scheduler under load: 10,000 active interval jobs firing every second on one server, their
 * fire times spread evenly over the second. Measures, from the run history the server writes,
 * the lag from each run's planned time to the moment its service was invoked (p50/p99/max), and
 * checks that every fire time in the window ran exactly once; reports the CPU of the worker
 * running the scheduler engine (which also runs its share of the jobs), of the other workers and
 * of the primary (from /proc), and the engine's own busy time (from its log).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BenchEnv } from './lib/env.js';
import { cpuMs } from './lib/proc.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, fmt, percentileSorted, round, sleep } from './lib/stats.js';

const SERVICE = 'bench.noop';
const NOOP_SOURCE = `import { Service } from 'viaduct';

export default class Noop extends Service {
  static serviceName = '${SERVICE}';
  handle() {}
}
`;
const LAG_TARGET_MS = 50;

interface LogLine {
  readonly msg?: string;
  readonly pid?: number;
  readonly busyMs?: number;
  readonly runningMs?: number;
  readonly fired?: number;
}

async function logLines(env: BenchEnv): Promise<LogLine[]> {
  const text = await readFile(path.join(env.dir, 'logs', 'server1.log'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

export async function run(): Promise<BenchResult> {
  const settings = {
    jobs: envInt('BENCH_SCHEDULER_JOBS', 10_000),
    workers: envInt('BENCH_SCHEDULER_WORKERS', 2),
    warmupS: envInt('BENCH_SCHEDULER_WARMUP_S', 5, 0),
    durationS: envInt('BENCH_SCHEDULER_DURATION_S', 20),
    jobsPerImport: envInt('BENCH_SCHEDULER_JOBS_PER_IMPORT', 2_500),
  };
  const log = (line: string): void => void process.stdout.write(`[scheduler] ${line}\n`);

  const env = await BenchEnv.create({ workers: settings.workers });
  try {
    await env.start();
    await env.admin('viaduct.service.deploy', { file: 'noop.ts', source: NOOP_SOURCE });
    const created = performance.now();
    for (let first = 0; first < settings.jobs; first += settings.jobsPerImport) {
      const scheduler = [];
      for (let i = first; i < Math.min(settings.jobs, first + settings.jobsPerImport); i++) {
        // Offsets 0..999 ms: the jobs' fire times spread evenly over each second.
        scheduler.push({
          name: `job-${i}`,
          service: SERVICE,
          type: 'interval',
          interval: { seconds: 1 },
          start_date: new Date(Date.UTC(2020, 0, 1) + (i % 1000)).toISOString(),
        });
      }
      await env.admin('viaduct.enmasse.import', { document: { scheduler } });
    }
    log(`${settings.jobs} jobs created in ${fmt((performance.now() - created) / 1000)} s`);

    const engineAssigned = (await logLines(env)).filter((l) => l.msg === 'The scheduler runs in this worker').at(-1);
    if (engineAssigned?.pid === undefined)
      throw new Error('No worker runs the scheduler (no "The scheduler runs in this worker" in the log)');
    const enginePid = engineAssigned.pid;
    // The spare worker takes dispatched runs too (it is loaded and attached to the broker).
    const run = JSON.parse(await readFile(path.join(env.dir, 'run', 'server1.json'), 'utf8')) as {
      spare: number | null;
    };
    const otherPids = [...(await env.workers()).map((w) => w.pid), ...(run.spare === null ? [] : [run.spare])].filter(
      (pid) => pid !== enginePid,
    );
    const primaryPid = env.primaryPid!;

    await sleep(settings.warmupS * 1000);
    const windowStart = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    await sleep(windowStart - Date.now());
    const cpuBefore = { engine: cpuMs(enginePid), others: otherPids.map(cpuMs), primary: cpuMs(primaryPid) };
    await sleep(settings.durationS * 1000);
    const windowEnd = windowStart + settings.durationS * 1000;
    const cpuAfter = { engine: cpuMs(enginePid), others: otherPids.map(cpuMs), primary: cpuMs(primaryPid) };
    // Runs planned in the window must have finished and been recorded.
    await sleep(2_000);
    const listed = performance.now();
    const jobsListed = (await env.admin<unknown[]>('viaduct.scheduler.job.get-list')).length;
    const getListMs = performance.now() - listed;
    await env.stop();

    const windowMs = settings.durationS * 1000;
    const percentOfCore = (before: number, after: number) => (100 * (after - before)) / windowMs;
    const cpu = {
      engineWorker: percentOfCore(cpuBefore.engine, cpuAfter.engine),
      otherWorkers: otherPids.map((_, i) => percentOfCore(cpuBefore.others[i]!, cpuAfter.others[i]!)),
      primary: percentOfCore(cpuBefore.primary, cpuAfter.primary),
    };
    const stopped = (await logLines(env)).filter((l) => l.msg === 'Scheduler stopped').at(-1);
    const engineBusy =
      stopped?.busyMs !== undefined && stopped.runningMs ? (100 * stopped.busyMs) / stopped.runningMs : Number.NaN;

    const db = new Database(path.join(env.dir, 'odb.sqlite'), { readonly: true });
    const rows = db
      .prepare(
        'select job_id, planned_at, started_at, run_trigger, outcome from scheduler_run where manual = 0 and planned_at >= ? and planned_at < ?',
      )
      .all(new Date(windowStart).toISOString(), new Date(windowEnd).toISOString()) as Array<{
      job_id: string;
      planned_at: string;
      started_at: string;
      run_trigger: string;
      outcome: string;
    }>;
    db.close();

    const onTime = rows.filter((r) => r.run_trigger === 'schedule');
    const lags = Float64Array.from(onTime.map((r) => Date.parse(r.started_at) - Date.parse(r.planned_at))).sort();
    // The lag over time: p99 of the runs planned in each second of the window, to tell a steady
    // lag from stalls (periodic ones, or a backlog from the start).
    const bySecond = Array.from({ length: settings.durationS }, () => [] as number[]);
    for (const r of onTime)
      bySecond[Math.floor((Date.parse(r.planned_at) - windowStart) / 1000)]?.push(
        Date.parse(r.started_at) - Date.parse(r.planned_at),
      );
    const p99BySecond = bySecond.map((l) =>
      l.length === 0 ? Number.NaN : percentileSorted(Float64Array.from(l).sort(), 99),
    );
    const expected = settings.jobs * settings.durationS;
    const distinct = new Set(rows.map((r) => `${r.job_id}@${r.planned_at}`)).size;
    const catchUps = rows.filter((r) => r.run_trigger === 'catch-up').length;
    const notOk = rows.filter((r) => r.outcome !== 'ok').length;
    const p50 = percentileSorted(lags, 50);
    const p99 = percentileSorted(lags, 99);
    const max = lags.length > 0 ? lags[lags.length - 1]! : Number.NaN;
    log(
      `${rows.length} runs of ${expected} fire times; lag p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, max ${fmt(max)} ms`,
    );
    log(`lag p99 by second of the window (ms): ${p99BySecond.map((v) => fmt(v, 0)).join(' ')}`);

    return {
      name: 'scheduler',
      title: `Scheduler: ${settings.jobs} interval jobs every second on one ${settings.workers}-worker server`,
      settings,
      figures: {
        runs: rows.length,
        expectedRuns: expected,
        duplicates: rows.length - distinct,
        catchUpRuns: catchUps,
        notOk,
        lagMs: { p50: round(p50), p99: round(p99), max: round(max) },
        lagP99BySecondMs: p99BySecond.map((v) => round(v)),
        cpuPercentOfOneCore: {
          engineWorker: round(cpu.engineWorker, 1),
          otherWorkers: cpu.otherWorkers.map((c) => round(c, 1)),
          primary: round(cpu.primary, 1),
        },
        engineBusyPercent: round(engineBusy, 2),
        getListMs: round(getListMs),
        runsPerSecond: round(rows.length / settings.durationS),
      },
      checks: [
        {
          measure: 'lag from planned to actual start, p99',
          result: `${fmt(p99)} ms (p50 ${fmt(p50)}, max ${fmt(max)})`,
          target: `<= ${LAG_TARGET_MS} ms`,
          met: p99 <= LAG_TARGET_MS,
        },
        {
          measure: 'fire times in the window that ran, each once',
          result: `${distinct} of ${expected}, ${rows.length - distinct} twice, ${catchUps} as catch-up, ${notOk} not ok`,
          target: 'all, none twice',
          met: distinct === expected && rows.length === distinct && notOk === 0,
        },
        {
          measure: 'scheduler CPU (% of one core)',
          result:
            `engine worker ${fmt(cpu.engineWorker)}% (engine itself ${fmt(engineBusy, 2)}%), ` +
            `other workers and spare ${cpu.otherWorkers.map((c) => `${fmt(c)}%`).join(', ')}, primary ${fmt(cpu.primary)}%`,
          target: 'reported',
          met: true,
        },
      ],
      notes: [
        `viaduct.scheduler.job.get-list of ${jobsListed} jobs, with each one's last and next run, took ${fmt(getListMs)} ms.`,
        'Every worker (and the spare) runs its share of the jobs; the engine worker also times all of them. "engine ' +
          'itself" is the time the engine spent in its timer callbacks (planning and dispatching), from its own log. The ' +
          'primary relays every broker message between workers.',
        'Lag is measured from the run history: started_at (just before the service is invoked) minus planned_at.',
      ],
    };
  } finally {
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
